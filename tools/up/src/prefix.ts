/**
 * Log lines of the started services, prefixed with the service's name. In a terminal (pretty)
 * a pino JSON line becomes `name │ 14:02:03 INFO  msg key=value …` with a colour per service;
 * otherwise the line is kept as it is (JSON stays JSON) after `name | `. Pure.
 */
const COLOURS = [36, 33, 35, 32, 34, 96, 93, 95, 92, 94];
const LEVELS: Record<number, [string, number]> = {
  10: ["TRACE", 90],
  20: ["DEBUG", 90],
  30: ["INFO ", 32],
  40: ["WARN ", 33],
  50: ["ERROR", 31],
  60: ["FATAL", 31],
};
// Shown by the prefix or the clock; `svc`/`name` repeat the prefix.
const HIDDEN = new Set(["level", "time", "pid", "hostname", "name", "svc", "msg"]);

export interface PrefixStyle {
  pretty: boolean;
  /** Width the names are padded to (the longest name). */
  width: number;
}

const paint = (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m`;

export function colourOf(index: number): number {
  return COLOURS[index % COLOURS.length];
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

function clock(time: unknown): string {
  const d = typeof time === "number" || typeof time === "string" ? new Date(time) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString().slice(11, 19) : "        ";
}

/** `line` as pino wrote it → the text shown (no trailing newline). */
export function formatLine(name: string, colour: number, line: string, style: PrefixStyle): string {
  if (!style.pretty) return `${name} | ${line}`;
  const head = `${paint(colour, name.padEnd(style.width))} │ `;
  let rec: Record<string, unknown> | null = null;
  if (line.startsWith("{")) {
    try {
      const v = JSON.parse(line);
      if (v && typeof v === "object" && !Array.isArray(v)) rec = v as Record<string, unknown>;
    } catch {
      rec = null;
    }
  }
  if (!rec) return head + line;
  const [lvl, lvlColour] = LEVELS[Number(rec.level)] ?? ["     ", 0];
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${paint(90, `${k}=`)}${fieldText(v)}`);
  const msg = typeof rec.msg === "string" ? rec.msg : "";
  return `${head}${paint(90, clock(rec.time))} ${paint(lvlColour, lvl)} ${[msg, ...fields].filter(Boolean).join(" ")}`;
}

/** Splits a byte stream into lines; returns the complete lines and keeps the rest buffered. */
export function lineSplitter(): (chunk: string) => string[] {
  let buf = "";
  return (chunk) => {
    buf += chunk;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    return parts.map((p) => (p.endsWith("\r") ? p.slice(0, -1) : p));
  };
}
