// @pure: no I/O (the boundary checker checks itself)

/**
 * A source file with comments blanked and string, template and regex bodies blanked, the same
 * length and line breaks as the original (so offsets give line numbers). `strings` maps the
 * offset of each plain string literal's opening quote to its value: import specifiers are read
 * from there. Regexes and templates are not recorded; a `${…}` inside a template stays code.
 *
 * A lexer, not a parser: enough to find imports and `process.exit` in code this repo writes
 * (biome-formatted TypeScript) without a word in a comment or string counting as code.
 */
export interface CodeView {
  code: string;
  strings: Map<number, string>;
}

// After one of these characters (or at the start), `/` begins a regex, not a division.
const REGEX_AFTER_CHAR = new Set("(,=:[!&|?{};+-*%<>~^".split(""));
const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

export function codeView(src: string): CodeView {
  const out = src.split("");
  const strings = new Map<number, string>();
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  // Brace depth of each `${` we are inside (innermost last); a `}` at depth 0 resumes the template.
  const templates: number[] = [];
  let i = 0;
  const n = src.length;

  const regexAllowed = (): boolean => {
    let k = i - 1;
    while (k >= 0 && /\s/.test(out[k]!)) k--;
    if (k < 0) return true;
    const c = out[k]!;
    if (REGEX_AFTER_CHAR.has(c)) return true;
    if (!/[\w$]/.test(c)) return false;
    let s = k;
    while (s > 0 && /[\w$]/.test(out[s - 1]!)) s--;
    return REGEX_AFTER_WORD.has(out.slice(s, k + 1).join(""));
  };

  // Reads a template body from i (just after a backtick or a closing `}`) to its end or `${`.
  const templateBody = () => {
    const start = i;
    while (i < n) {
      const c = src[i];
      if (c === "\\") i += 2;
      else if (c === "`") {
        blank(start, i);
        i++;
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        blank(start, i);
        i += 2;
        templates.push(0);
        return;
      } else i++;
    }
    blank(start, n);
  };

  while (i < n) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      const stop = end === -1 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const open = i;
      let value = "";
      i++;
      while (i < n && src[i] !== c && src[i] !== "\n") {
        if (src[i] === "\\") {
          value += src[i + 1] ?? "";
          i += 2;
        } else value += src[i++];
      }
      strings.set(open, value);
      blank(open + 1, i);
      i++;
    } else if (c === "`") {
      i++;
      templateBody();
    } else if (c === "{" && templates.length > 0) {
      templates[templates.length - 1]!++;
      i++;
    } else if (c === "}" && templates.length > 0) {
      if (templates[templates.length - 1] === 0) {
        templates.pop();
        i++;
        templateBody();
      } else {
        templates[templates.length - 1]!--;
        i++;
      }
    } else if (c === "/" && regexAllowed()) {
      const open = i;
      i++;
      let inClass = false;
      while (i < n && src[i] !== "\n") {
        const r = src[i];
        if (r === "\\") i += 2;
        else if (r === "/" && !inClass) break;
        else {
          if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          i++;
        }
      }
      blank(open + 1, i);
      i++;
    } else i++;
  }
  return { code: out.join(""), strings };
}

/** 1-based line of an offset. */
export function lineOf(src: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < src.length; k++) if (src[k] === "\n") line++;
  return line;
}

export interface ImportRef {
  specifier: string;
  /** `import type …` / `export type … from`: erased at run time. */
  typeOnly: boolean;
  offset: number;
}

/** Every static, side-effect, dynamic and require import of a file. */
export function importsOf(view: CodeView): ImportRef[] {
  const refs: ImportRef[] = [];
  const patterns: { re: RegExp; typeGroup?: number }[] = [
    // `import x from "m"`, `import type { X } from "m"`, `export * from "m"`, `export type { X } from "m"`
    { re: /(?<![\w$.])(?:import|export)\b(\s+type\b)?[^;"'`]*?\bfrom\s*(["'])/g, typeGroup: 1 },
    { re: /(?<![\w$.])import\s*(["'])/g },
    { re: /(?<![\w$.])(?:import|require)\s*\(\s*(["'])/g },
  ];
  for (const { re, typeGroup } of patterns) {
    for (const m of view.code.matchAll(re)) {
      const quote = m.index + m[0].length - 1;
      const specifier = view.strings.get(quote);
      if (specifier === undefined) continue;
      refs.push({ specifier, typeOnly: typeGroup !== undefined && !!m[typeGroup], offset: quote });
    }
  }
  return refs.sort((a, b) => a.offset - b.offset);
}

/** Offsets of `process.exit` however it is reached: `.exit`, `["exit"]`, `{ exit } = process`. */
export function processExits(view: CodeView): number[] {
  const found: number[] = [];
  for (const m of view.code.matchAll(/(?<![\w$])process\s*(?:\?\.|\.)\s*exit\b/g)) found.push(m.index);
  for (const m of view.code.matchAll(/(?<![\w$])process\s*(?:\?\.)?\[\s*(["'])/g)) {
    if (view.strings.get(m.index + m[0].length - 1) === "exit") found.push(m.index);
  }
  for (const m of view.code.matchAll(/\{[^{}]*\bexit\b[^{}]*\}\s*=\s*(?:globalThis\.)?process\b/g)) {
    found.push(m.index);
  }
  return found.sort((a, b) => a - b);
}
