// @pure: no I/O (tools/lint-boundaries checks it)
import { YardError } from "@switchyard/contracts";
import { ENV_NAME_RE } from "./task-schema.js";

// Messages name the file, line or flag, never the text: the text may hold a secret.
function bad(where: string, message: string): YardError {
  return new YardError("SY_ERR_SPEC_INVALID", `${where}: ${message}`, [{ path: where, message }]);
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

/** Read a quoted value that starts at `lines[i][start]`, maybe over several lines. */
function quoted(
  lines: string[],
  i: number,
  start: number,
): { value: string; next: number; rest: string } | null {
  const q = lines[i]![start]!;
  let buf = "";
  let line = i;
  let pos = start + 1;
  while (line < lines.length) {
    const s = lines[line]!;
    while (pos < s.length) {
      const ch = s[pos]!;
      if (q === '"' && ch === "\\" && pos + 1 < s.length) {
        const esc = s[pos + 1]!;
        buf += ESCAPES[esc] ?? `\\${esc}`;
        pos += 2;
      } else if (ch === q) {
        return { value: buf, next: line, rest: s.slice(pos + 1) };
      } else {
        buf += ch;
        pos += 1;
      }
    }
    buf += "\n";
    line += 1;
    pos = 0;
  }
  return null;
}

/**
 * Parse a dotenv file: `KEY=VALUE` lines, `# comments`, blank lines, an optional `export `
 * prefix, 'single' (literal) and "double" (escapes \n \t \" \\) quoted values that may span
 * lines, and ` # comments` after unquoted values. A bad line is an error naming its number.
 */
export function parseEnvFile(text: string, fileName = "env file"): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*(#.*)?$/.test(line)) continue;
    const at = `${fileName}:${i + 1}`;
    const m = /^\s*(?:export\s+)?([^=\s]+)\s*=\s*/.exec(line);
    if (!m) throw bad(at, "expected KEY=VALUE");
    const key = m[1]!;
    if (!ENV_NAME_RE.test(key)) throw bad(at, `'${key}' is not a valid env var name`);
    const start = m[0].length;
    const first = line[start];
    if (first === '"' || first === "'") {
      const q = quoted(lines, i, start);
      if (!q) throw bad(at, `unterminated ${first === '"' ? "double" : "single"} quote`);
      if (!/^\s*(#.*)?$/.test(q.rest))
        throw bad(`${fileName}:${q.next + 1}`, "unexpected text after the closing quote");
      out[key] = q.value;
      i = q.next;
    } else {
      out[key] = line
        .slice(start)
        .replace(/\s+#.*$/, "")
        .trim();
    }
  }
  return out;
}

/** `--env K=V` / `--secret K=V` → key and value (the value may contain `=`). */
export function parseKeyValue(arg: string, flag: string): { key: string; value: string } {
  const eq = arg.indexOf("=");
  if (eq < 0) throw bad(flag, "expected KEY=VALUE");
  const key = arg.slice(0, eq);
  if (!ENV_NAME_RE.test(key)) throw bad(flag, `'${key}' is not a valid env var name (letters, digits, _)`);
  return { key, value: arg.slice(eq + 1) };
}
