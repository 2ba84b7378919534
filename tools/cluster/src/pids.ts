// @pure: the record of what `up` started

export interface Started {
  name: string;
  pid: number;
  /** /proc start time (clock ticks since boot): the pid with it names one process. */
  startTime: number;
}

/** The records in a pids.json; anything malformed is dropped (never a pid <= 1). */
export function parsePids(text: string): Started[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (x): x is Started =>
      typeof x === "object" &&
      x !== null &&
      typeof x.name === "string" &&
      Number.isInteger(x.pid) &&
      x.pid > 1 &&
      Number.isInteger(x.startTime),
  );
}
