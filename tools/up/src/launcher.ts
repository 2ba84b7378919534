import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BuildError, buildBundle } from "@switchyard/build";
import { connectBus, silentLogger } from "@switchyard/bus";
import { banner, portOf } from "./banner.js";
import { type Child, stopTree } from "./child.js";
import { newToken, publishExample, waitProxyRoutes, waitServiceReady } from "./example.js";
import { chooseNats } from "./nats-choice.js";
import { devPassword, passwordVar } from "./nats-permissions.js";
import { findNatsServer, INSTALL_HINT, probeNats, spawnNatsServer } from "./nats-server.js";
import type { UpOptions } from "./options.js";
import {
  bundlesOf,
  clusterNodes,
  natsClusterNode,
  natsClusterStoreDir,
  natsServerArgs,
  natsServerEnv,
  natsStoreDir,
  pinPorts,
  planServices,
  type ServicePlan,
  specTokenPath,
} from "./plan.js";
import { colourOf, formatLine } from "./prefix.js";
import { stopReplicaGroups } from "./replica-groups.js";
import { type RunningService, startService } from "./services.js";
import {
  ensureSecretFile,
  JS_KEY_FILE,
  jetStreamKey,
  SecretFileError,
  wrongKeyMessage,
} from "./state-secrets.js";
import { Supervisor } from "./supervisor.js";

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

/** A state-dir secret, or a StartError saying which file and what to do. */
function secret<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof SecretFileError) throw new StartError(err.message);
    throw err;
  }
}

/**
 * nats-server's own lines worth showing: warnings and errors, except the plaintext-password
 * warning (the passwords are env vars of a local config, on purpose).
 */
export function showNatsLine(line: string): boolean {
  return /\[(WRN|ERR|FTL)\]/.test(line) && !/Plaintext passwords/.test(line);
}

/** A child's grace between SIGTERM (SIGINT for nats-server) and SIGKILL when stopping. */
const STOP_GRACE_MS = 10_000;

/** Our nats-server: `ready` resolves with its URL. */
type NatsInstance = { child: Child; ready: Promise<string> };

/**
 * Runs the system under supervision: a process that exits on its own is restarted (backoff,
 * supervisor.ts) while the others keep running; `stop()` tears everything down in reverse order,
 * then stops any replica process group the provisioner left behind.
 */
export function createLauncher(o: UpOptions, repoRoot: string) {
  const running: Supervisor<RunningService>[] = [];
  /** Our nats-server(s): one, or each node of our cluster. */
  const nats: Supervisor<NatsInstance>[] = [];
  let stopping: Promise<void> | null = null;
  const natsNames = o.natsCluster ? clusterNodes(o).map((n) => n.name) : ["nats"];
  const plannedNames = [...natsNames, "spec", "provisioner", "prober", "autoscaler"];
  for (let i = 1; i <= o.proxies; i++) plannedNames.push(`proxy-${i}`);
  const out = makeOutput(o, plannedNames);

  /**
   * Our own cluster (--nats-cluster N): N supervised nats-servers on loopback, each restarted on
   * its ports and store when it exits. Resolves with every node's URL, comma-separated (NATS_URL).
   */
  async function startCluster(): Promise<string> {
    const bin = findNatsServer(process.env);
    if (!bin) throw new StartError(INSTALL_HINT);
    mkdirSync(o.stateDir, { recursive: true });
    const store = natsClusterStoreDir(o);
    const keyPath = join(o.stateDir, JS_KEY_FILE);
    const jsKey = secret(() => jetStreamKey(o.stateDir, store));
    const nodes = clusterNodes(o);
    out.say(
      `starting a ${nodes.length}-node NATS cluster (${bin}, configs in ${store}, routes on 127.0.0.1:${o.clusterPort}-${o.clusterPort + nodes.length - 1}, JetStream in ${store}, encrypted with the key in ${keyPath}${jsKey.created ? ", made now" : ""}; buckets replicated ${o.replicas}x)`,
    );
    mkdirSync(store, { recursive: true });
    for (const [i, node] of nodes.entries()) {
      // Its config: this cluster's routes and route user (tools/up/src/nats-cluster-conf.ts).
      const conf = natsClusterNode(o, node);
      writeFileSync(conf.path, conf.text, { mode: 0o600 });
      nats.push(
        new Supervisor<NatsInstance>(
          {
            name: node.name,
            spawn: () =>
              spawnNatsServer(
                bin,
                conf.args,
                natsServerEnv(o, passwordVar, jsKey.value),
                (l) => {
                  if (showNatsLine(l)) out.child(node.name, i, l);
                },
                wrongKeyMessage(keyPath, node.storeDir),
              ),
            stop: (c) => stopTree(c, STOP_GRACE_MS, "SIGINT"),
          },
          o.restart,
          out.say,
        ),
      );
    }
    const urls = await Promise.all(
      nats.map((sup) =>
        sup.current.ready.catch((err: Error) => {
          throw new StartError(err.message);
        }),
      ),
    );
    for (const [i, sup] of nats.entries())
      out.say(`${nodes[i].name} ready at ${urls[i]} (pid ${sup.current.child.pid})`);
    return urls.join(",");
  }

  async function resolveNats(): Promise<string> {
    if (o.natsCluster && o.natsUrl === null) return startCluster();
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
    let port = explicit ? 0 : o.natsPort;
    const store = natsStoreDir(o);
    const keyPath = join(o.stateDir, JS_KEY_FILE);
    const jsKey = secret(() => jetStreamKey(o.stateDir, store));
    out.say(
      `starting nats-server (${bin}, JetStream in ${store}, encrypted with the key in ${keyPath}${jsKey.created ? ", made now" : ""})`,
    );
    const sup = new Supervisor<NatsInstance>(
      {
        name: "nats-server",
        // A restart listens on the port the first run got (the services reconnect there) with
        // the same store dir: JetStream's buckets and streams survive it.
        spawn: () =>
          spawnNatsServer(
            bin,
            natsServerArgs(repoRoot, { ...o, natsPort: port }),
            natsServerEnv(o, passwordVar, jsKey.value),
            (l) => {
              if (showNatsLine(l)) out.child("nats", 0, l);
            },
            wrongKeyMessage(keyPath, store),
          ),
        // nats-server exits 0 on SIGINT (1 on SIGTERM).
        stop: (c) => stopTree(c, STOP_GRACE_MS, "SIGINT"),
      },
      o.restart,
      out.say,
    );
    nats.push(sup);
    const url = await sup.current.ready.catch((err: Error) => {
      throw new StartError(err.message);
    });
    port = portOf(url);
    out.say(`nats-server ready at ${url} (pid ${sup.current.child.pid})`);
    return url;
  }

  function supervise(base: ServicePlan, i: number): Supervisor<RunningService> {
    let plan = base;
    return new Supervisor<RunningService>(
      {
        name: base.name,
        spawn: (prev) => {
          if (prev) plan = pinPorts(plan, prev.addresses);
          return startService(plan, repoRoot, (l) => out.child(base.name, i + 1, l));
        },
        stop: (c) => stopTree(c, STOP_GRACE_MS),
      },
      o.restart,
      out.say,
    );
  }

  /**
   * Build every bundle a service runs from (the proxy's, ~1-2 s) from the source as it is now:
   * never a dist/ left from an earlier build. A restart later runs the same bundle, the code this
   * start began with. A source that does not bundle stops the start before any service runs.
   */
  async function buildBundles(): Promise<void> {
    for (const b of bundlesOf(planServices(o, ""))) {
      const built = await buildBundle(b, repoRoot).catch((err: Error) => {
        throw err instanceof BuildError ? new StartError(err.message) : err;
      });
      for (const w of built.warnings) out.say(w.trimEnd());
      out.say(built.line);
    }
  }

  async function start(): Promise<void> {
    // The bundles build while nats-server starts; both have finished before anything else
    // happens (a stop then knows every process there is).
    const [bus, built] = await Promise.allSettled([resolveNats(), buildBundles()]);
    if (bus.status === "rejected") throw bus.reason;
    if (built.status === "rejected") throw built.reason;
    const natsUrl = bus.value;
    mkdirSync(o.stateDir, { recursive: true });
    // The spec service reads it from the file (YARD_SPEC_API_TOKEN_FILE); kept across restarts.
    secret(() => ensureSecretFile(specTokenPath(o)));
    const plans = planServices(o, natsUrl);
    for (const [i, plan] of plans.entries()) {
      const sup = supervise(plan, i);
      running.push(sup);
      out.say(`started ${plan.name} (pid ${sup.current.child.pid}, NATS user ${plan.user})`);
    }
    let n = 0;
    const first = running.map((s) => s.current);
    await Promise.all(
      first.map((s) =>
        s.ready.then(
          () => out.say(`${s.plan.name} ready (${++n}/${first.length})`),
          (err) => {
            throw new StartError(`${String(err.message)}: see its lines above`);
          },
        ),
      ),
    );
    const proxies = first.filter((s) => s.plan.user === "proxy");
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
    const spec = first.find((s) => s.plan.name === "spec")?.addresses;
    out.say("everything is up");
    process.stdout.write(
      `${banner({
        service,
        token,
        proxyPorts: proxies.map((p) => portOf(p.addresses.get("proxy") ?? "")),
        specHttp: spec ? ([...spec.values()][0] ?? null) : null,
        specTokenFile: specTokenPath(o),
        natsUrl,
        cliPass: o.passwords.cli === devPassword("cli") ? devPassword("cli") : `$${passwordVar("cli")}`,
        stateDir: o.stateDir,
      })}\n`,
    );
  }

  /**
   * Proxies first (stop taking traffic), then autoscaler, prober, provisioner, spec; then the replica groups
   * that outlived the provisioner (it crashed, or hung and was killed); our nats-server last.
   */
  function stop(): Promise<void> {
    stopping ??= (async () => {
      const isProxy = (s: Supervisor<RunningService>) => s.current.plan.user === "proxy";
      const stopOne = async (s: Supervisor<RunningService>) => {
        const code = await s.stop();
        out.say(`${s.current.plan.name} stopped (${code})`);
      };
      await Promise.all(running.filter(isProxy).map(stopOne));
      for (const s of running.filter((s) => !isProxy(s)).reverse()) await stopOne(s);
      const left = await stopReplicaGroups(o.stateDir, STOP_GRACE_MS);
      if (left.length)
        out.say(`stopped ${left.length} replica process group(s) left behind (pgid ${left.join(", ")})`);
      for (const [i, n] of nats.entries())
        out.say(`${o.natsCluster ? natsNames[i] : "nats-server"} stopped (${await n.stop()})`);
    })();
    return stopping;
  }

  return { start, stop, say: out.say };
}
