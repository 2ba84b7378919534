import { mkdirSync } from "node:fs";
import { connectBus, silentLogger } from "@switchyard/bus";
import { banner, portOf } from "./banner.js";
import { type Child, stopTree } from "./child.js";
import { newToken, publishExample, waitProxyRoutes, waitServiceReady } from "./example.js";
import { chooseNats } from "./nats-choice.js";
import { devPassword, passwordVar } from "./nats-permissions.js";
import { findNatsServer, INSTALL_HINT, probeNats, startNatsServer } from "./nats-server.js";
import type { UpOptions } from "./options.js";
import { natsServerArgs, natsServerEnv, planServices } from "./plan.js";
import { colourOf, formatLine } from "./prefix.js";
import { type RunningService, startService } from "./services.js";

export interface Output {
  /** The launcher's own progress lines. */
  say(text: string): void;
  /** A line a child wrote. */
  child(name: string, index: number, line: string): void;
}

export function makeOutput(o: UpOptions, names: string[]): Output {
  const width = Math.max(...names.map((n) => n.length), 4);
  const style = { pretty: o.pretty, width };
  const write = (s: string) => process.stdout.write(`${s}\n`);
  return {
    say: (text) => write(formatLine("up", 1, text, style)),
    child: (name, i, line) => write(formatLine(name, colourOf(i + 2), line, style)),
  };
}

export class StartError extends Error {}

/**
 * nats-server's own lines worth showing: warnings and errors, except the plaintext-password
 * warning (the passwords are env vars of a local config, on purpose).
 */
export function showNatsLine(line: string): boolean {
  return /\[(WRN|ERR|FTL)\]/.test(line) && !/Plaintext passwords/.test(line);
}

/** Runs the system; `stop()` tears everything down in reverse order. */
export function createLauncher(o: UpOptions, repoRoot: string) {
  const running: RunningService[] = [];
  let nats: Child | null = null;
  let stopping: Promise<void> | null = null;
  const plannedNames = ["nats", "spec", "provisioner", "prober"];
  for (let i = 1; i <= o.proxies; i++) plannedNames.push(`proxy-${i}`);
  const out = makeOutput(o, plannedNames);

  async function resolveNats(): Promise<string> {
    const explicit = o.natsUrl !== null;
    const candidate = o.natsUrl ?? `nats://127.0.0.1:${o.natsPort}`;
    if (explicit || o.natsPort !== 0) {
      const choice = chooseNats(candidate, explicit, await probeNats(candidate, o.passwords));
      if (choice.action === "fail") throw new StartError(choice.message);
      if (choice.note) out.say(choice.note);
      if (choice.action === "use") return choice.url;
    }
    const bin = findNatsServer(process.env);
    if (!bin) throw new StartError(INSTALL_HINT);
    mkdirSync(o.stateDir, { recursive: true });
    const args = natsServerArgs(repoRoot, { ...o, natsPort: explicit ? 0 : o.natsPort });
    out.say(`starting nats-server (${bin}, JetStream in ${o.stateDir}/nats)`);
    const own = await startNatsServer(bin, args, natsServerEnv(o, passwordVar), (l) => {
      if (showNatsLine(l)) out.child("nats", 0, l);
    });
    nats = own.child;
    out.say(`nats-server ready at ${own.url} (pid ${own.child.pid})`);
    return own.url;
  }

  async function start(): Promise<void> {
    const natsUrl = await resolveNats();
    mkdirSync(o.stateDir, { recursive: true });
    const plans = planServices(o, natsUrl);
    for (const [i, plan] of plans.entries()) {
      const svc = startService(plan, repoRoot, (l) => out.child(plan.name, i + 1, l));
      running.push(svc);
      out.say(`started ${plan.name} (pid ${svc.child.pid}, NATS user ${plan.user})`);
    }
    let n = 0;
    await Promise.all(
      running.map((s) =>
        s.ready.then(
          () => out.say(`${s.plan.name} ready (${++n}/${running.length})`),
          (err) => {
            throw new StartError(`${String(err.message)}: see its lines above`);
          },
        ),
      ),
    );
    const proxies = running.filter((s) => s.plan.user === "proxy");
    let service: string | null = null;
    let token: string | null = null;
    if (o.example) {
      const nc = await connectBus({
        url: natsUrl,
        name: "yard-up",
        user: "cli",
        pass: o.passwords.cli,
        logger: silentLogger,
      });
      try {
        token = newToken();
        const pub = await publishExample(nc, o.examplePath, token);
        service = pub.name;
        out.say(`published ${o.examplePath} as "${service}" revision ${pub.revision}; waiting until READY`);
        const urls = await waitServiceReady(nc, service, pub.revision, (l) => out.say(l));
        out.say(`${service} is READY: ${urls.length} replica(s) ready; waiting for the proxies to route it`);
        for (const p of proxies) {
          const admin = p.addresses.get("admin");
          if (admin) await waitProxyRoutes(admin.replace("0.0.0.0", "127.0.0.1"), service, urls);
        }
      } finally {
        await nc.close();
      }
    }
    const spec = running.find((s) => s.plan.name === "spec")?.addresses;
    out.say("everything is up");
    process.stdout.write(
      `${banner({
        service,
        token,
        proxyPorts: proxies.map((p) => portOf(p.addresses.get("proxy") ?? "")),
        specHttp: spec ? ([...spec.values()][0] ?? null) : null,
        natsUrl,
        cliPass: o.passwords.cli === devPassword("cli") ? devPassword("cli") : `$${passwordVar("cli")}`,
        stateDir: o.stateDir,
      })}\n`,
    );
  }

  /** Proxies first (stop taking traffic), then prober, provisioner, spec, and our nats-server. */
  function stop(): Promise<void> {
    stopping ??= (async () => {
      const proxies = running.filter((s) => s.plan.user === "proxy");
      const others = running.filter((s) => s.plan.user !== "proxy").reverse();
      const stopOne = async (s: RunningService) => {
        const code = await stopTree(s.child, 10_000);
        out.say(`${s.plan.name} stopped (${code})`);
      };
      await Promise.all(proxies.map(stopOne));
      for (const s of others) await stopOne(s);
      // nats-server exits 0 on SIGINT (1 on SIGTERM).
      if (nats) out.say(`nats-server stopped (${await stopTree(nats, 10_000, "SIGINT")})`);
    })();
    return stopping;
  }

  /** Resolves when a started service exits on its own (a crash), with its name. */
  const died = (): Promise<string> =>
    Promise.race([
      ...running.map((s) => s.child.exited.then(() => s.plan.name)),
      ...(nats ? [(nats as Child).exited.then(() => "nats-server")] : []),
    ]);

  return { start, stop, died, say: out.say };
}
