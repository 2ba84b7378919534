// @pure: no I/O (tools/lint-boundaries checks it)
import { YardError } from "@switchyard/contracts";
import { Lexer, Parser } from "yaml";
import type { SpecLimits } from "./limits.js";

/** UTF-8 length of `text` up to `end` (code units), without building the bytes. */
export function utf8Length(text: string, end = text.length): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** 1-based line and column of a code-unit offset. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

// A lone surrogate, or U+FFFD: what a decoder leaves where the bytes were not UTF-8.
const NOT_UTF8 = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\ufffd/;

/** `at` is a position (`line 3, column 5`, `byte 12`), or "" for the whole text. */
export function yamlError(fileName: string | undefined, at: string, message: string): YardError {
  const where = fileName ? `${fileName}: ` : "";
  const head = at ? `YAML error at ${at}` : "YAML error";
  return new YardError("SY_ERR_SPEC_YAML", `${where}${head}: ${message}`, [{ path: at, message }]);
}

/**
 * Refuse, before parsing, what would make parsing itself the problem: text over the size
 * limit, text that was not UTF-8 where it was read (U+FFFD or a lone surrogate: a JSON
 * request cannot carry raw bytes, so a decoder already replaced them; a real U+FFFD has no
 * business in a service YAML either), and nesting deeper than the limit.
 */
export function checkYamlText(
  text: string,
  fileName: string | undefined,
  limits: Pick<SpecLimits, "maxYamlBytes" | "maxYamlDepth">,
): void {
  // Each code unit is at least one byte: a text longer than the limit needs no counting.
  const bytes = text.length > limits.maxYamlBytes ? text.length : utf8Length(text);
  if (bytes > limits.maxYamlBytes) {
    throw yamlError(
      fileName,
      "",
      `too large: ${bytes} bytes, more than the ${limits.maxYamlBytes} bytes a service YAML may have`,
    );
  }
  const bad = NOT_UTF8.exec(text);
  if (bad) {
    const at = `byte ${utf8Length(text, bad.index)}`;
    const what =
      bad[0] === "\ufffd"
        ? "U+FFFD, the mark a decoder leaves for bytes that are not UTF-8"
        : "a lone surrogate";
    throw yamlError(fileName, at, `not UTF-8 text (${what}); save the file as UTF-8`);
  }
  checkDepth(text, fileName, limits.maxYamlDepth);
}

/**
 * The CST parser keeps the open collections on an explicit stack (no recursion), so its depth
 * can be watched token by token and the scan stopped as soon as it passes the limit, before
 * the recursive composer ever sees the text.
 */
function checkDepth(text: string, fileName: string | undefined, maxDepth: number): void {
  const parser = new Parser();
  // The stack holds the document and the token being read besides the open collections.
  const limit = maxDepth + 2;
  const drain = (tokens: Iterable<unknown>) => {
    for (const _ of tokens);
  };
  for (const lexeme of new Lexer().lex(text)) {
    drain(parser.next(lexeme));
    if (parser.stack.length > limit) {
      const { line, col } = lineColumn(text, parser.offset);
      throw yamlError(
        fileName,
        `line ${line}, column ${col}`,
        `nested too deeply: more than ${maxDepth} levels of mappings and sequences`,
      );
    }
  }
  drain(parser.end());
}
