import { describe, expect, it } from "vitest";
import { IDENTITY_NAMES, kubeconfig, kubeletConfig, tokenFile } from "./config-files.js";
import { readAccess } from "./kubeconfig-read.js";
import { stateLayout } from "./layout.js";

const tok = (c: string) => c.repeat(48);
const TOKENS = { admin: tok("a"), kubelet: tok("b"), "controller-manager": tok("c"), scheduler: tok("d") };

describe("the cluster's config files", () => {
  it("token file: one line per identity with RBAC's user names and groups", () => {
    expect(tokenFile(TOKENS).split("\n").filter(Boolean)).toEqual([
      `${tok("a")},yard-admin,yard-admin,"system:masters"`,
      `${tok("b")},system:node:127.0.0.1,system:node:127.0.0.1,"system:nodes"`,
      `${tok("c")},system:kube-controller-manager,system:kube-controller-manager`,
      `${tok("d")},system:kube-scheduler,system:kube-scheduler`,
    ]);
    expect(IDENTITY_NAMES).toHaveLength(4);
  });

  it("refuses a token that could break the CSV or YAML", () => {
    expect(() => tokenFile({ ...TOKENS, admin: `${tok("a")},x` })).toThrow(/admin/);
    expect(() =>
      kubeconfig({ server: "https://127.0.0.1:6443", caPem: "x", token: "short", user: "u" }),
    ).toThrow();
  });

  it("a kubeconfig reads back as the same server, CA and token", () => {
    const text = kubeconfig({
      server: "https://127.0.0.1:6443",
      caPem: "-----BEGIN CERTIFICATE-----\nAA\n",
      token: tok("e"),
      user: "yard-admin",
    });
    expect(readAccess(text)).toEqual({
      server: "https://127.0.0.1:6443",
      caPem: "-----BEGIN CERTIFICATE-----\nAA\n",
      token: tok("e"),
    });
    expect(readAccess(text.replace("127.0.0.1", "10.0.0.1"))).toBeNull();
  });

  it("the kubelet: loopback only, no anonymous access, never deletes the machine's images", () => {
    const c = JSON.parse(kubeletConfig(stateLayout("/run/x")));
    expect(c).toMatchObject({
      address: "127.0.0.1",
      healthzBindAddress: "127.0.0.1",
      readOnlyPort: 0,
      authentication: { anonymous: { enabled: false }, x509: { clientCAFile: "/run/x/pki/ca.crt" } },
      authorization: { mode: "Webhook" },
      imageGCHighThresholdPercent: 100,
      oomScoreAdj: 0,
      makeIPTablesUtilChains: false,
    });
  });
});
