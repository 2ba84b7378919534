import { readEvents } from "@switchyard/bus";
import type { Ctx } from "../context.js";
import { eventJson, eventLine } from "../events-view.js";

export interface EventsOptions {
  follow: boolean;
  json: boolean;
  /** How many stored events to show first (the newest), oldest first. */
  last: number;
}

/**
 * `yard events [NAME]`: the newest `--last` events of every service (or of NAME), one line each,
 * from the events stream YARD_EVENTS; `--follow` then prints each new one as it is stored until
 * Ctrl-C (exit 0). Events are secret-free by contract; only named fields are printed.
 */
export async function events(name: string | undefined, o: EventsOptions, ctx: Ctx): Promise<number> {
  const bus = await ctx.bus();
  const { io } = ctx;
  let shown = 0;
  await readEvents(bus.nc, { service: name, last: o.last, follow: o.follow, signal: io.signal }, (e) => {
    shown++;
    if (!o.json) return io.out(eventLine(e));
    const line = eventJson(e);
    // Not an event: said on stderr, so that stdout stays one event object per line.
    if (line) io.out(line);
    else io.err(eventLine(e));
  });
  if (shown === 0 && !o.follow && !o.json) io.out(name ? `No events of ${name}.` : "No events.");
  return 0;
}
