import { ServiceName } from "@switchyard/contracts";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { describeError, EXIT } from "./cli-error.js";
import { down } from "./commands/down.js";
import { events } from "./commands/events.js";
import { logs } from "./commands/logs.js";
import { status } from "./commands/status.js";
import { up } from "./commands/up.js";
import { update } from "./commands/update.js";
import { createCtx } from "./context.js";
import type { Io } from "./io.js";

const collect = (v: string, prev: string[]) => [...prev, v];
const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};
const nonNegativeInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a whole number >= 0`);
  return n;
};

const serviceName = (v: string) => {
  // NAME becomes a subject token: "*", ">" or a dot would widen the filter to other services.
  if (!ServiceName.safeParse(v).success)
    throw new InvalidArgumentError(
      "NAME must be a service name: a lowercase DNS label (a-z, 0-9 and '-', starting with a letter, at most 63)",
    );
  return v;
};

/** The options of `up` and `update`: both send the same apply request. */
function withApplyOptions(cmd: Command): Command {
  return cmd
    .option(
      "--env <K=V|K>",
      "set an env var; a bare K takes its value from your environment (repeatable)",
      collect,
      [],
    )
    .option("--env-file <file>", "dotenv file of env vars (YAML envs < --env-file < --env)")
    .option("--secret <K=V|K>", "set a secret (never printed or logged; repeatable)", collect, [])
    .option(
      "--dry-run",
      "resolve and print the spec with secrets masked; store nothing (needs no NATS)",
      false,
    )
    .option(
      "--wait",
      "after publishing, show each replica phase change until the new revision is READY or failed",
      false,
    )
    .addOption(
      new Option("--timeout <seconds>", "with --wait: give up after this long")
        .argParser(positiveInt("--timeout"))
        .default(1800),
    );
}

const ENV_HELP = `
Environment:
  NATS_URL          NATS server(s), comma-separated (default nats://127.0.0.1:4222; --nats wins)
  NATS_USER         NATS user name (optional)
  NATS_PASS         NATS password (optional)
  YARD_PROXY_URL    endpoint shown for a service; {service} is replaced by its name
                    (default http://<service>.<YARD_DOMAIN>:<YARD_PROXY_PORT>)
  YARD_DOMAIN       domain the proxy routes by Host header (default localhost)
  YARD_PROXY_PORT   port of the proxy (default 8080)

Exit codes: 0 success, 1 error, 2 usage error, 130 interrupted.`;

/**
 * Run the `yard` command line with `argv` (without node and script) and return the exit code.
 * Never calls process.exit, so tests run it in-process.
 */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  let ctx: ReturnType<typeof createCtx> | null = null;
  const program = new Command("yard")
    .description("Switchyard: serve models behind authenticated, load-balanced endpoints (SkyServe YAML).")
    .option("--nats <url>", "NATS server URL (default: $NATS_URL, else nats://127.0.0.1:4222)")
    .addHelpText("after", ENV_HELP)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.write(s),
      writeErr: (s) => io.err(s.replace(/\n$/, "")),
    });
  const context = () => {
    ctx ??= createCtx(io, program.opts<{ nats?: string }>().nats);
    return ctx;
  };
  const act =
    <A extends unknown[]>(fn: (...a: A) => Promise<number>) =>
    async (...a: A) => {
      code = await fn(...a);
    };

  const upCmd = program
    .command("up")
    .description(
      "Validate a SkyServe service YAML, resolve its envs and publish it (a new revision if it changed).",
    )
    .argument("<file>", "service YAML (SkyServe format)")
    .option("-n, --name <name>", "service name (default: `name:` in the YAML, else from the file name)");
  withApplyOptions(upCmd)
    .addHelpText("after", ENV_HELP)
    .action(act((file: string, o) => up(file, o, context())));

  const updateCmd = program
    .command("update")
    .description(
      "Publish FILE as the next revision of the running service NAME and roll it out (SkyServe's `sky serve update`).",
    )
    .argument("<name>", "the running service to update (the YAML's `name:` does not matter)")
    .argument("<file>", "service YAML (SkyServe format)")
    .addOption(
      new Option(
        "--mode <mode>",
        "rolling: new replicas replace old ones as they become ready (both serve meanwhile); blue_green: a full new set starts, traffic switches to it at once when enough are ready, then the old set drains",
      )
        .choices(["rolling", "blue_green"])
        .default("rolling"),
    );
  withApplyOptions(updateCmd)
    .addHelpText("after", ENV_HELP)
    .action(act((name: string, file: string, o) => update(name, file, o, context())));

  program
    .command("status")
    .description(
      "Show services (NAME, REVISION, VERSION, STATUS, REPLICAS, ENDPOINT) and their replicas, like `sky serve status`.",
    )
    .argument("[names...]", "services to show (default: all)")
    .option("--endpoint", "print only the endpoint URL of each service", false)
    .option("--json", "print one JSON document: services (masked specs), replicas, endpoints", false)
    .addHelpText("after", ENV_HELP)
    .action(act((names: string[], o) => status(names, o, context())));

  program
    .command("down")
    .description(
      "Remove services (their specs are deleted, their replicas drained and shut down), or one replica.",
    )
    .argument("[names...]", "services to remove")
    .option("-a, --all", "remove every service", false)
    .option(
      "--replica-id <id>",
      "only this replica of the one NAME: it is replaced, and drained once its replacement is READY",
      positiveInt("--replica-id"),
    )
    .option("-p, --purge", "with --replica-id: remove a failed replica's record", false)
    .addHelpText("after", ENV_HELP)
    .action(act((names: string[], o) => down(names, o, context())));

  program
    .command("logs")
    .description("Print a replica's log (served by the provisioner).")
    .argument("<name>", "service name")
    .argument("[replica_id]", "replica id (default: the newest replica)", positiveInt("REPLICA_ID"))
    .option("-f, --follow", "keep printing new output until the replica finishes or Ctrl-C", false)
    .option("--tail <n>", "start with the last N lines", nonNegativeInt("--tail"))
    .addHelpText("after", ENV_HELP)
    .action(act((name: string, replica: number | undefined, o) => logs(name, replica, o, context())));

  program
    .command("events")
    .description(
      "Show what happened (spec published, replica phases, probe verdicts, autoscaler decisions), one line each.",
    )
    .argument("[name]", "only this service's events (default: every service)", serviceName)
    .option("-f, --follow", "after the stored events, print each new one as it happens until Ctrl-C", false)
    .addOption(
      new Option("--last <n>", "start with the newest N stored events (0: none)")
        .argParser(nonNegativeInt("--last"))
        .default(50),
    )
    .option("--json", "one JSON object per line: the event as published", false)
    .addHelpText("after", ENV_HELP)
    .action(act((name: string | undefined, o) => events(name, o, context())));

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with code 0; every other commander error is a usage error.
      code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      const d = describeError(err);
      io.err(d.text);
      code = d.code;
    }
  } finally {
    await (ctx as ReturnType<typeof createCtx> | null)?.close();
  }
  return code;
}
