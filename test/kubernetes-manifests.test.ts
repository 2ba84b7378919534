import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@switchyard/testkit";
import { BUS_USERS, passwordVar, renderServerConf } from "@switchyard/up";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

/**
 * deploy/kubernetes/ in step with what the rest of the project generates and expects: the NATS
 * config and its users, each service connecting as its own user with its own password, the
 * provisioner's RBAC exactly what its backend calls. (test/kubernetes-e2e.test.ts applies it.)
 */
const DIR = join(REPO_ROOT, "deploy", "kubernetes");
const read = (rel: string) => readFileSync(join(DIR, rel), "utf8");
// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Obj = any;
const kustomization = parseAllDocuments(read("kustomization.yaml"))[0].toJS() as Obj;
const objects: Obj[] = (kustomization.resources as string[]).flatMap((f) =>
  parseAllDocuments(read(f)).map((d) => d.toJS()),
);
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const container = (name: string) => {
  const o = find("Deployment", name) ?? find("StatefulSet", name);
  return o.spec.template.spec.containers[0];
};
const envOf = (c: Obj, name: string) => c.env.find((e: Obj) => e.name === name);

describe("deploy/kubernetes", () => {
  it("carries deploy/nats/server.conf and with-js-key.sh unchanged (kustomize reads no file outside its folder)", () => {
    const why = "copy them: cp deploy/nats/server.conf deploy/nats/with-js-key.sh deploy/kubernetes/nats/";
    expect(read("nats/server.conf"), why).toBe(renderServerConf());
    expect(read("nats/with-js-key.sh"), why).toBe(
      readFileSync(join(REPO_ROOT, "deploy/nats/with-js-key.sh"), "utf8"),
    );
  });

  it("gives NATS every bus user's password and the JetStream key from Secret switchyard-nats", () => {
    const nats = container("nats");
    for (const u of BUS_USERS)
      expect(envOf(nats, passwordVar(u))?.valueFrom, passwordVar(u)).toEqual({
        secretKeyRef: { name: "switchyard-nats", key: u },
      });
    expect(envOf(nats, "YARD_NATS_JS_KEY").valueFrom).toEqual({
      secretKeyRef: { name: "switchyard-nats", key: "js-key" },
    });
    // No password or key is written in a manifest.
    expect(JSON.stringify(objects)).not.toMatch(/-dev"/);
  });

  it.each(["spec", "provisioner", "prober", "autoscaler", "proxy"])(
    "%s connects as its own bus user with its own password",
    (svc) => {
      const c = container(svc);
      expect(BUS_USERS).toContain(svc);
      expect(envOf(c, "NATS_USER").value).toBe(svc);
      expect(envOf(c, "NATS_PASS").valueFrom).toEqual({
        secretKeyRef: { name: "switchyard-nats", key: svc },
      });
      // The proxy runs its bundle (built in the image by `pnpm build`), the others their source.
      expect(c.command.join(" ")).toBe(
        svc === "proxy"
          ? "node services/proxy/dist/main.mjs"
          : `node --import tsx services/${svc}/src/main.ts`,
      );
    },
  );

  it("runs the provisioner alone (Recreate) with the kubernetes backend and its ServiceAccount", () => {
    const d = find("Deployment", "provisioner");
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type).toBe("Recreate");
    expect(d.spec.template.spec.serviceAccountName).toBe("switchyard-provisioner");
    expect(envOf(container("provisioner"), "YARD_BACKEND").value).toBe("kubernetes");
    // Only the provisioner talks to the API server.
    for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "StatefulSet"))
      if (o.metadata.name !== "provisioner")
        expect(o.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it("grants the provisioner exactly the verbs its backend uses", () => {
    expect(find("Role", "switchyard-provisioner").rules).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "watch"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete", "list"] },
    ]);
    expect(find("ClusterRole", "switchyard-provisioner-nodes").rules).toEqual([
      { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
    ]);
  });

  it("runs proxies as a Deployment of several behind a Service, ready on /-/ready", () => {
    const d = find("Deployment", "proxy");
    expect(d.spec.replicas).toBeGreaterThan(1);
    expect(find("Service", "proxy").spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(container("proxy").readinessProbe.exec.command.join(" ")).toContain("/-/ready");
  });
});
