/** The last `n` lines of `text` (a trailing newline does not count as a line). */
export function lastLines(text: string, n: number): string {
  if (n <= 0) return "";
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const lines = body.split("\n");
  if (lines.length <= n) return text;
  return `${lines.slice(-n).join("\n")}${text.endsWith("\n") ? "\n" : ""}`;
}
