import { formatError, YardError } from "@switchyard/contracts";
import { parseKeyValue as parseKv } from "@switchyard/service-spec";
import { UsageError } from "./cli-error.js";

function parseKeyValue(arg: string, flag: string): { key: string; value: string } {
  try {
    return parseKv(arg, flag);
  } catch (err) {
    if (err instanceof YardError) throw new UsageError(formatError(err));
    throw err;
  }
}

/**
 * `--env K=V` and `--env K` (the value is taken from the caller's environment, as SkyPilot
 * does) → a map; later flags win. A bare K that is not set is a usage error naming it.
 */
export function collectKeyValues(
  args: readonly string[],
  flag: string,
  callerEnv: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    if (a.includes("=")) {
      const { key, value } = parseKeyValue(a, flag);
      out[key] = value;
    } else {
      const v = callerEnv[a];
      if (v === undefined)
        throw new UsageError(
          `${flag} ${a}: ${a} is not set in your environment; give it as ${flag} ${a}=VALUE`,
        );
      // Reuse the name check of K=V without ever echoing the value.
      parseKeyValue(`${a}=`, flag);
      out[a] = v;
    }
  }
  return out;
}
