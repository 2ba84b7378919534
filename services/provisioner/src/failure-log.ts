import { statSync } from "node:fs";
import { LOG_TAIL_LINE_CHARS, LOG_TAIL_LINES } from "@switchyard/contracts";
import { readMaskedChunk } from "./log-chunk.js";

/** Bytes read from the end of a failed replica's log: room for LOG_TAIL_LINES long lines. */
export const FAILURE_LOG_BYTES = 8 * 1024;

/**
 * The last lines of a failed replica's log for its record (`log_tail`, shown by `yard status`),
 * with `secrets` masked as `yard logs` masks them: masked before the lines are cut, so a cut
 * never splits a secret into a visible part. `more`: the replica may still write (a probe
 * verdict arrives while it runs). A missing log gives [].
 */
export function readFailureLog(file: string, secrets: readonly string[], more: boolean): string[] {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return [];
  }
  const chunk = readMaskedChunk(
    file,
    { offset: 0, tail_bytes: FAILURE_LOG_BYTES, max_bytes: FAILURE_LOG_BYTES },
    secrets,
    more,
  );
  return logTailLines(chunk.data, size > FAILURE_LOG_BYTES);
}

// Colour and title sequences are dropped; any other control character (a terminal would act on
// it in `yard status`) shows as U+FFFD. Tabs become a space.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * The last LOG_TAIL_LINES lines of `text`, each at most LOG_TAIL_LINE_CHARS characters.
 * `partial`: text starts inside a line (a tail read), which is dropped. A carriage return
 * inside a line (a progress bar redrawn) keeps what a terminal would show last.
 */
export function logTailLines(text: string, partial: boolean): string[] {
  const lines = text.split("\n");
  if (partial) lines.shift();
  const shown = lines.map((l) => clean(l.replace(/\r+$/, "")));
  while (shown.length > 0 && shown[shown.length - 1] === "") shown.pop();
  return shown.slice(-LOG_TAIL_LINES).map((l) => cut(l, LOG_TAIL_LINE_CHARS));
}

function clean(line: string): string {
  const last = line.slice(line.lastIndexOf("\r") + 1);
  return last.replace(ESCAPES, "").replace(/\t/g, " ").replace(CONTROLS, "\ufffd");
}

/** At most `max` UTF-16 units, ending in "…" when cut, never half a surrogate pair. */
function cut(line: string, max: number): string {
  if (line.length <= max) return line;
  let end = max - 1;
  const c = line.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${line.slice(0, end)}…`;
}
