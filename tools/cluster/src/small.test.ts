import { describe, expect, it } from "vitest";
import { mountsUnder } from "./mounts.js";
import { nodeReady } from "./node-state.js";
import { parsePids } from "./pids.js";
import { CERTS, extensions, subject } from "./pki-plan.js";

describe("mount points under the kubelet's dir, deepest first", () => {
  it("only under the dir (not a sibling with the same prefix), escapes decoded", () => {
    const info = [
      "36 25 0:32 / /run/s/kubelet/pods/u1/volumes/kubernetes.io~secret/tok rw - tmpfs tmpfs rw",
      "37 25 0:33 / /run/s/kubelet/pods/u1 rw - tmpfs tmpfs rw",
      "38 25 0:34 / /run/s/kubelet2/x rw - tmpfs tmpfs rw",
      "39 25 0:35 / /run/s/kubelet/a\\040b rw - tmpfs tmpfs rw",
      "",
    ].join("\n");
    expect(mountsUnder(info, "/run/s/kubelet/")).toEqual([
      "/run/s/kubelet/pods/u1/volumes/kubernetes.io~secret/tok",
      "/run/s/kubelet/pods/u1",
      "/run/s/kubelet/a b",
    ]);
  });
});

describe("pids.json", () => {
  it("keeps well-formed records, drops the rest (never pid 0 or 1)", () => {
    const text = JSON.stringify([
      { name: "etcd", pid: 100, startTime: 5 },
      { name: "x", pid: 1, startTime: 5 },
      { name: "y", pid: "7", startTime: 5 },
      { pid: 8, startTime: 1 },
    ]);
    expect(parsePids(text)).toEqual([{ name: "etcd", pid: 100, startTime: 5 }]);
    expect(parsePids("{")).toEqual([]);
    expect(parsePids('{"a":1}')).toEqual([]);
  });
});

describe("node readiness", () => {
  it("Ready only on Ready=True; otherwise the kubelet's reason", () => {
    expect(
      nodeReady({ status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] } })
        .ready,
    ).toBe(true);
    expect(
      nodeReady({
        status: {
          conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", message: "PLEG" }],
        },
      }),
    ).toEqual({ ready: false, why: "KubeletNotReady: PLEG" });
    expect(nodeReady({}).why).toMatch(/no Ready condition/);
  });
});

describe("certificates", () => {
  it("subjects hold no character openssl's -subj would treat specially", () => {
    for (const c of CERTS) expect(subject(c)).toMatch(/^(\/O=[a-z:]+)?\/CN=[a-z0-9:.-]+$/);
  });

  it("serving certificates name 127.0.0.1; the apiserver also its Service names", () => {
    const api = CERTS.find((c) => c.name === "apiserver")!;
    expect(extensions(api)).toMatch(/extendedKeyUsage=serverAuth\n/);
    expect(extensions(api)).toContain("IP:127.0.0.1");
    expect(extensions(api)).toContain("DNS:kubernetes.default.svc.cluster.local");
    expect(extensions(CERTS.find((c) => c.name === "apiserver-kubelet-client")!)).not.toMatch(
      /subjectAltName/,
    );
    expect(subject(CERTS.find((c) => c.name === "apiserver-kubelet-client")!)).toBe(
      "/O=system:masters/CN=kube-apiserver-kubelet-client",
    );
  });
});
