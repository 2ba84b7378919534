// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";

/**
 * A service name is a DNS label: the proxy routes `<service>.<YARD_DOMAIN>` by Host header, and
 * the name is a token in KV keys and subjects, so dots and wildcards cannot appear in it.
 * (SkyPilot's cluster-name rule also allows `_` and `.`; those would break both uses.)
 */
export const SERVICE_NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const ServiceName = z
  .string()
  .regex(
    SERVICE_NAME_RE,
    "must be a lowercase DNS label: a-z, 0-9 and '-', starting with a letter, at most 63",
  );
