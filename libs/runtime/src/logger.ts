import { type Logger as Pino, pino } from "pino";

/**
 * The one redaction list. Paths cover every place a secret could sit in a log object;
 * services never log spec envs or probe headers on purpose, this is the safety net.
 */
export const REDACT_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "*.headers.cookie",
  "headers",
  "*.headers",
  "envs",
  "*.envs",
  "env",
  "*.env",
  "secrets",
  "*.secrets",
  "token",
  "*.token",
  "pass",
  "password",
];

/** Fixed keys used across services, so log queries work everywhere. */
export const LogKeys = {
  service: "svc", // the Switchyard service name (spec, prober, ...)
  yardService: "service", // the user's service name
  replica: "replica",
  revision: "revision",
  subject: "subject",
} as const;

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Extra literal values to scrub from every line (e.g. a token the process was given). */
  destination?: NodeJS.WritableStream;
}

/** NDJSON logger for a service: `{"level":30,"time":...,"svc":"prober","msg":...}`. */
export function createLogger(o: LoggerOptions): Pino {
  return pino(
    {
      level: o.level ?? "info",
      base: { [LogKeys.service]: o.name },
      redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (o.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 1, sync: true }),
  );
}
export type { Pino };
