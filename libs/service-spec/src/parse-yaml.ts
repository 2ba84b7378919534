// @pure: no I/O (tools/lint-boundaries checks it)
import { YardError } from "@switchyard/contracts";
import { type Document, isMap, isScalar, parseAllDocuments } from "yaml";
import { isRecord } from "./issues.js";
import { DEFAULT_SPEC_LIMITS, type SpecLimits } from "./limits.js";
import { checkYamlText, yamlError } from "./yaml-limits.js";

export interface ParsedYaml {
  data: Record<string, unknown>;
  /**
   * The source text of a scalar at `section.key` (e.g. `envs.VERSION` → `3.10`, not `3.1`), so
   * env values keep exactly what the user wrote; undefined when not a plain or quoted scalar.
   */
  literal(section: string, key: string): string | undefined;
}

function where(fileName: string | undefined): string {
  return fileName ? `${fileName}: ` : "";
}

/**
 * Parse a service YAML: exactly one document whose top level is a mapping. Syntax errors carry
 * line and column; the source snippet yaml prints is left out (the line could hold a secret).
 */
export function parseYaml(
  text: string,
  fileName?: string,
  limits: Pick<SpecLimits, "maxYamlBytes" | "maxYamlDepth" | "maxYamlAliases"> = DEFAULT_SPEC_LIMITS,
): ParsedYaml {
  checkYamlText(text, fileName, limits);
  const docs = parseAllDocuments(text, { prettyErrors: true }) as unknown as Document[];
  const list = Array.isArray(docs) ? docs : [];
  const errors = list.flatMap((d) => d.errors);
  if (errors.length > 0) {
    const issues = errors.map((e) => {
      const pos = e.linePos?.[0];
      const at = pos ? `line ${pos.line}, column ${pos.col}` : "unknown position";
      const gist = e.message.split(/ at line \d+, column \d+/)[0] ?? e.message;
      return { path: at, message: gist };
    });
    const first = issues[0]!;
    throw new YardError(
      "SY_ERR_SPEC_YAML",
      `${where(fileName)}YAML error at ${first.path}: ${first.message}`,
      issues,
    );
  }
  // An empty document (after a trailing `---`) is not a second task.
  const nonEmpty = list.filter(
    (d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null),
  );
  if (nonEmpty.length > 1) {
    throw new YardError(
      "SY_ERR_SPEC_INVALID",
      `${where(fileName)}the file holds ${nonEmpty.length} YAML documents (a multi-task DAG); a service YAML must be a single task`,
      [{ path: "", message: "multi-document YAML is not supported" }],
    );
  }
  const doc = nonEmpty[0];
  const data: unknown = doc ? build(doc, fileName, limits.maxYamlAliases) : null;
  if (!isRecord(data)) {
    throw new YardError(
      "SY_ERR_SPEC_INVALID",
      `${where(fileName)}the top level of a service YAML must be a mapping`,
      [{ path: "", message: "expected a mapping (key: value) at the top level" }],
    );
  }
  return {
    data,
    literal(section, key) {
      const node = doc?.get(section, true);
      if (!isMap(node)) return undefined;
      const value = node.get(key, true);
      if (!isScalar(value)) return undefined;
      return typeof value.source === "string" ? value.source : undefined;
    },
  };
}

/** The document as plain data, with aliases expanded at most `maxAliases` times. */
function build(doc: Document, fileName: string | undefined, maxAliases: number): unknown {
  try {
    return doc.toJS({ maxAliasCount: maxAliases });
  } catch (e) {
    // The yaml package throws a ReferenceError past maxAliasCount ("Excessive alias count").
    const message = /alias count|alias resolution is disabled/i.test(String(e))
      ? `too many aliases: more than ${maxAliases} alias expansions (an alias bomb expands a few lines into millions of nodes)`
      : `the document cannot be built: ${e instanceof Error ? e.message : String(e)}`;
    throw yamlError(fileName, "", message);
  }
}
