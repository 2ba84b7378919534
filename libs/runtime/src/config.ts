import { YardError } from "@switchyard/contracts";
import { z } from "zod";

/**
 * Parse env vars with a zod object whose keys are the env names. Every problem names the
 * variable; the result is frozen. Defaults live in the schema (`.default(...)`).
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<S>> {
  const input: Record<string, string | undefined> = {};
  for (const k of Object.keys(schema.shape)) {
    const v = env[k];
    input[k] = v === "" ? undefined : v;
  }
  const r = schema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new YardError(
      "SY_ERR_CONFIG",
      `invalid configuration: ${issues.map((i) => i.path).join(", ")}`,
      issues,
    );
  }
  return Object.freeze(r.data);
}

/** Shared env vars of every service. */
export const CommonEnv = {
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  NATS_USER: z.string().optional(),
  NATS_PASS: z.string().optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
};

export const port = (def: number) => z.coerce.number().int().min(0).max(65535).default(def);
export const millis = (def: number) => z.coerce.number().int().nonnegative().default(def);

const TRUE_WORDS = ["true", "1", "yes"];
const FALSE_WORDS = ["false", "0", "no"];
export const BOOL_HELP = "must be true/false, 1/0 or yes/no";

/** An env flag's value in any case; null for anything else (a typo must not flip a flag). */
export function parseBool(raw: string): boolean | null {
  const v = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  return null;
}

/** An env flag for a parseEnv schema: unset or empty means `def`. */
export const bool = (def: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const b = parseBool(v);
      if (b !== null) return b;
      ctx.addIssue({ code: "custom", message: BOOL_HELP });
      return z.NEVER;
    });
