import { isTransient } from "@switchyard/bus";
import { LEASE_DEFAULTS } from "@switchyard/contracts";
import { z } from "zod";
import type { Exit } from "./boot.js";
import { parseEnv } from "./config.js";
import type { Pino } from "./logger.js";
import { onShutdown, type ShutdownStep } from "./shutdown.js";

/**
 * The lease env vars of a single writer (spec, provisioner, prober, autoscaler), parsed by its
 * main.ts apart from its own config:
 * - YARD_LEASE_TTL_MS (3000): a standby takes over this long after the last renewal it saw.
 * - YARD_LEASE_RENEW_MS (1000): the leader renews this often; at most a third of the TTL, so
 *   two renewals can be lost before a standby takes over.
 */
export const LeaseEnv = z
  .object({
    YARD_LEASE_TTL_MS: z.coerce.number().int().min(100).max(60_000).default(LEASE_DEFAULTS.ttlMs),
    YARD_LEASE_RENEW_MS: z.coerce.number().int().min(10).default(LEASE_DEFAULTS.renewMs),
  })
  .refine((c) => c.YARD_LEASE_RENEW_MS * 3 <= c.YARD_LEASE_TTL_MS, {
    path: ["YARD_LEASE_RENEW_MS"],
    message: "must be at most a third of YARD_LEASE_TTL_MS",
  });
export type LeaseConfig = z.infer<typeof LeaseEnv>;

export function loadLeaseConfig(env: NodeJS.ProcessEnv = process.env): Readonly<LeaseConfig> {
  return parseEnv(LeaseEnv, env);
}

/** A lease as the gate uses it (libs/bus `campaign`). */
export interface GateLease {
  release(): Promise<void>;
}

/**
 * What runs while this instance leads: a fresh one each term (its start/stop are one-shot).
 * `stop` says why: the lease was lost (a standby now owns the work: hand it over, e.g. keep the
 * replicas running for it to adopt), or the process is shutting down.
 */
export interface LeaderApp {
  start(): Promise<void>;
  stop(why: "lease_lost" | "shutdown"): Promise<void>;
}

export type GateEvents = { elected(): void; lost(why: string): void };

/** The pause before a term's start that failed on a transient error is tried again. */
export const START_RETRY_MS = 1_000;

/**
 * Run a single writer with standbys (startOrExit's counterpart). `campaign` opens the lease
 * bucket (waiting for it until `signal`) and campaigns with the gate's callbacks. Each time the
 * lease is won a new app is built and started; when it is lost the app is stopped at once (a
 * start still waiting is aborted by its stop) and the instance stands by again.
 * SIGTERM/SIGINT: stop the app, release the lease (a standby takes over at once, not at the
 * TTL), then `after` (drain NATS). A start that fails is fatal (exit 1), as in startOrExit,
 * unless the app was stopped meanwhile, or it failed on a transient error of a NATS cluster
 * electing leaders (libs/bus isTransient: a request timed out): then the app is stopped and a
 * fresh one started, every `restartMs`, for as long as the term lasts.
 */
export async function leadOrStandBy(
  logger: Pino,
  campaign: (on: GateEvents, signal: AbortSignal) => Promise<GateLease>,
  makeApp: () => LeaderApp,
  o: {
    what: string;
    stopStep: string;
    after: ShutdownStep[];
    exit: Exit;
    graceMs?: number;
    /** The pause before a start that failed on a transient error is tried again (START_RETRY_MS). */
    restartMs?: number;
  },
): Promise<void> {
  const abort = new AbortController();
  let current: LeaderApp | null = null;
  /** Counts elections and losses: a start queued behind a stop runs only if nothing came since. */
  let term = 0;
  /** Settles once the last app's start and stop are over: a new term starts after it. */
  let idle: Promise<void> = Promise.resolve();
  const stopped = new WeakSet<LeaderApp>();

  function stopCurrent(why: "lease_lost" | "shutdown"): Promise<void> {
    const app = current;
    current = null;
    if (!app) return idle;
    stopped.add(app);
    const previous = idle;
    idle = app
      .stop(why)
      .catch((err) => logger.error({ err: String(err) }, `${o.what} did not stop cleanly`))
      .then(() => previous);
    return idle;
  }

  let lease: GateLease | null = null;
  onShutdown(
    logger,
    [
      {
        name: o.stopStep,
        run: () => {
          abort.abort();
          term++;
          return stopCurrent("shutdown");
        },
      },
      { name: "release the lease", run: () => lease?.release() },
      ...o.after,
    ],
    { exit: o.exit, graceMs: o.graceMs },
  );

  const on: GateEvents = {
    elected() {
      const mine = ++term;
      idle = idle.then(async () => {
        for (let attempt = 1; mine === term && !abort.signal.aborted; attempt++) {
          const app = makeApp();
          current = app;
          logger.info({ role: o.what, ...(attempt > 1 ? { attempt } : {}) }, "leading: starting");
          try {
            await app.start();
            return;
          } catch (err) {
            if (abort.signal.aborted || stopped.has(app)) return;
            if (!isTransient(err)) {
              logger.fatal({ err: String(err) }, `${o.what} failed to start`);
              return o.exit(1);
            }
            // A cluster electing leaders (a node lost) times requests out for seconds: this term
            // starts again, with a fresh app, instead of the process exiting and a supervisor
            // restarting it (slower, and a service without one would stay down). The failed app
            // is stopped as on a lost lease: what runs is kept for the next start to adopt.
            logger.warn(
              { role: o.what, attempt, err: String(err), retry_ms: o.restartMs ?? START_RETRY_MS },
              `${o.what} could not start while NATS is unavailable; starting again`,
            );
            // Not stopCurrent: that queues behind `idle`, which is this very start.
            current = null;
            stopped.add(app);
            await app
              .stop("lease_lost")
              .catch((e) => logger.error({ err: String(e) }, `${o.what} did not stop cleanly`));
            await new Promise((r) => setTimeout(r, o.restartMs ?? START_RETRY_MS));
          }
        }
      });
    },
    lost() {
      term++;
      if (abort.signal.aborted) return;
      void stopCurrent("lease_lost").then(() => {
        if (!abort.signal.aborted) logger.info({ role: o.what }, "standing by");
      });
    },
  };
  try {
    lease = await campaign(on, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) return;
    logger.fatal({ err: String(err) }, `${o.what} cannot campaign for its lease`);
    o.exit(1);
  }
}
