import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { debSrcStanza, parseDeb822, parseOneLine } from "./apt-sources.js";
import { mustRun, run } from "./exec.js";
import { type CacheLayout, KUBE_BINARIES } from "./layout.js";
import { withLock } from "./lock.js";

/** Debian packages the build and the cluster need (etcd-server is the cluster's etcd). */
export const PACKAGES = [
  "golang-go",
  "etcd-server",
  "rsync",
  "jq",
  "make",
  "gcc",
  "libc6-dev",
  "dpkg-dev",
  "openssl",
];
const DEB_SRC_FILE = "/etc/apt/sources.list.d/switchyard-cluster-src.sources";

/** True when every binary of a finished build is in the cache. */
export function built(cache: CacheLayout): boolean {
  return existsSync(cache.stamp) && [...KUBE_BINARIES, "pause"].every((b) => existsSync(cache.binary(b)));
}

/**
 * Build the Kubernetes binaries once into the cache: Debian's `kubernetes` source package
 * (1.20.2; no binary package has kube-apiserver or kubelet), unpacked with Debian's patches and
 * built with its vendored modules, no network but apt's. Also the pod sandbox ("pause") binary
 * from the same tree. A second caller waits on the lock and then finds the build done.
 */
export async function ensureBuilt(cache: CacheLayout, say: (s: string) => void): Promise<void> {
  if (built(cache)) return;
  mkdirSync(cache.dir, { recursive: true });
  await withLock(cache.lock, say, "a build of the cluster's binaries", async () => {
    if (built(cache)) return;
    const t0 = Date.now();
    say(
      `building Kubernetes 1.20 from Debian's source package into ${cache.dir} (once; ~10 min on 2 cores; log: ${cache.buildLog})`,
    );
    await installPackages(say);
    await fetchSource(cache, say);
    await compile(cache, say);
    say(`built in ${Math.round((Date.now() - t0) / 1000)} s`);
  });
}

async function installPackages(say: (s: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const p of PACKAGES) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const r = await run("dpkg-query", ["-W", "-f=${Status}", p]);
    if (!r.stdout.includes("install ok installed")) missing.push(p);
  }
  if (!missing.length) return;
  say(`apt-get install ${missing.join(" ")}`);
  await mustRun("apt-get", ["update", "-qq"]);
  await mustRun("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function aptSourcesText(): { deb822: string; oneLine: string } {
  const dir = "/etc/apt/sources.list.d";
  let deb822 = "";
  let oneLine = existsSync("/etc/apt/sources.list") ? readFileSync("/etc/apt/sources.list", "utf8") : "";
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (f.endsWith(".sources")) deb822 += `\n\n${readFileSync(`${dir}/${f}`, "utf8")}`;
    else if (f.endsWith(".list")) oneLine += `\n${readFileSync(`${dir}/${f}`, "utf8")}`;
  }
  return { deb822, oneLine };
}

async function fetchSource(cache: CacheLayout, say: (s: string) => void): Promise<void> {
  mkdirSync(cache.src, { recursive: true });
  const dsc = () => readdirSync(cache.src).find((f) => /^kubernetes_.*\.dsc$/.test(f));
  if (!dsc()) {
    const osRelease = readFileSync("/etc/os-release", "utf8");
    const codename = /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, "") ?? "";
    const { deb822, oneLine } = aptSourcesText();
    const stanza = debSrcStanza([...parseDeb822(deb822), ...parseOneLine(oneLine)], codename);
    if (!stanza)
      throw new Error(
        `no Debian apt source for "${codename}" main to take the kubernetes source package from`,
      );
    say("apt-get source --download-only kubernetes (a temporary deb-src entry)");
    writeFileSync(DEB_SRC_FILE, stanza);
    try {
      await mustRun("apt-get", ["update", "-qq"]);
      await mustRun("apt-get", ["source", "--download-only", "kubernetes"], { cwd: cache.src });
    } finally {
      rmSync(DEB_SRC_FILE, { force: true });
    }
  }
  const file = dsc();
  if (!file) throw new Error("apt-get source left no kubernetes .dsc");
  if (!existsSync(`${cache.tree}/Makefile`)) {
    rmSync(cache.tree, { recursive: true, force: true });
    say(`unpacking ${file} with Debian's patches`);
    // apt verified the files against the signed Sources index; the .dsc's own signature is not checked.
    await mustRun("dpkg-source", ["-x", "--no-check", file, "tree"], { cwd: cache.src });
  }
}

async function compile(cache: CacheLayout, say: (s: string) => void): Promise<void> {
  const tree = cache.tree;
  mkdirSync(`${tree}/.go/src/k8s.io`, { recursive: true });
  if (!existsSync(`${tree}/.go/src/k8s.io/kubernetes`))
    await mustRun("ln", ["-s", "../../..", `${tree}/.go/src/k8s.io/kubernetes`]);
  const what = KUBE_BINARIES.map((b) => `cmd/${b}`).join(" ");
  // A build that was interrupted after make finished (or made by hand) is not made again.
  if (!KUBE_BINARIES.every((b) => existsSync(`${tree}/_output/bin/${b}`))) {
    say(`make WHAT="${what}" (nice 10)`);
    // hack/lib/golang.sh keeps its Go build cache in _output/local/go/cache. The kubelet is built
    // statically (CGO_ENABLED=0) like the other four: built with cgo, every package it shares
    // with them (nearly all of client-go, apimachinery, the cloud SDKs) was compiled a second time.
    const env = { ...process.env, GOPATH: `${tree}/.go`, GOFLAGS: "", KUBE_STATIC_OVERRIDES: "kubelet" };
    await mustRun("nice", ["-n", "10", "make", `WHAT=${what}`], {
      cwd: tree,
      env,
      logFile: cache.buildLog,
      // make prints "+++ [date] Building go targets ..." before each step: show those as progress.
      onLine: (l) => {
        if (l.startsWith("+++")) say(`  ${l.replace(/^\+\+\+ \[[^\]]*\]\s*/, "")}`);
      },
    });
  }
  mkdirSync(cache.bin, { recursive: true });
  for (const b of KUBE_BINARIES) copyFileSync(`${tree}/_output/bin/${b}`, cache.binary(b));
  await mustRun("chmod", ["0755", ...KUBE_BINARIES.map((b) => cache.binary(b))]);
  say("compiling the pod sandbox binary (build/pause/linux/pause.c)");
  await mustRun("gcc", [
    "-Os",
    "-Wall",
    "-Werror",
    "-static",
    '-DVERSION="v3.2-switchyard"',
    "-o",
    cache.binary("pause"),
    `${tree}/build/pause/linux/pause.c`,
  ]);
  const version = (await mustRun(cache.binary("kubectl"), ["version", "--client", "--short"])).trim();
  // The Go build cache and intermediate output (_output/local) are large and not needed again.
  rmSync(`${tree}/_output`, { recursive: true, force: true });
  writeFileSync(cache.stamp, `${version}\n`);
}
