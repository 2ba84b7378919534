import { describe, expect, it } from "vitest";
import { commandLine } from "./flags.js";
import { COMPONENTS, cacheLayout, stateLayout } from "./layout.js";

const cache = cacheLayout("/var/cache/k");
const state = stateLayout("/run/s");
const ports = { api: 6443, etcd: 23790 };
const all = COMPONENTS.map((c) => [c, ...commandLine(c, cache, state, ports)] as const);

describe("component command lines", () => {
  it("kube binaries come from the cache, etcd from the system", () => {
    expect(all.map(([c, cmd]) => [c, cmd])).toEqual([
      ["etcd", "etcd"],
      ["kube-apiserver", "/var/cache/k/bin/kube-apiserver"],
      ["kube-controller-manager", "/var/cache/k/bin/kube-controller-manager"],
      ["kube-scheduler", "/var/cache/k/bin/kube-scheduler"],
      ["kubelet", "/var/cache/k/bin/kubelet"],
    ]);
  });

  it("every listener is on 127.0.0.1; no insecure ports", () => {
    for (const [, , args] of all) {
      for (const a of args.filter((x) => /(address|urls|servers|hostname-override)=/.test(x)))
        expect(a, a).toMatch(
          /=(https?:\/\/127\.0\.0\.1:\d+|127\.0\.0\.1|switchyard=http:\/\/127\.0\.0\.1:\d+)$/,
        );
    }
    const api = all.find(([c]) => c === "kube-apiserver")![2];
    expect(api).toEqual(
      expect.arrayContaining([
        "--insecure-port=0",
        "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC",
      ]),
    );
    for (const c of ["kube-controller-manager", "kube-scheduler"])
      expect(all.find(([x]) => x === c)![2]).toContain("--port=0");
    expect(all.find(([c]) => c === "etcd")![2]).toContain("--client-cert-auth");
  });

  it("the scheduler's flags are the controller manager's, in order, but for its own kubeconfig", () => {
    const args = (c: string, who: string) =>
      all.find(([x]) => x === c)![2].map((a) => a.replace(state.kubeconfigOf(who), "KC"));
    const sc = args("kube-scheduler", "scheduler");
    const cm = args("kube-controller-manager", "controller-manager");
    expect(sc).toEqual(
      expect.arrayContaining(["--kubeconfig=KC", "--leader-elect=false", "--profiling=false"]),
    );
    expect(cm.filter((a) => sc.includes(a))).toEqual(sc);
    expect(cm).toContain("--use-service-account-credentials=true");
  });

  it("secrets are files: no argument carries a token or key material", () => {
    for (const [, , args] of all)
      for (const a of args) {
        expect(a).not.toMatch(/[0-9a-f]{32}/);
        expect(a).not.toMatch(/BEGIN|token=/i);
      }
  });
});
