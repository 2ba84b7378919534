import type { ResolvedSpec } from "@switchyard/contracts";
import { resolveSpec } from "@switchyard/service-spec";
import { specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { applyResult, canonicalJson, decideApply, digestOf } from "./records.js";

const YAML = `
name: llm
envs:
  AUTH_TOKEN:
run: serve --port 8000
resources:
  ports: 8000
service:
  readiness_probe:
    path: /v1/models
    headers:
      Authorization: Bearer $AUTH_TOKEN
  replicas: 1
`;

function spec(env: Record<string, string>, yaml = YAML): ResolvedSpec {
  const r = resolveSpec({ yaml, env });
  if (!r.ok) throw r.error;
  return r.spec;
}

const NOW = new Date("2026-01-02T03:04:05.000Z");
const a = spec({ AUTH_TOKEN: "t0k" });
const b = spec({ AUTH_TOKEN: "other" });

const stored = (s: ResolvedSpec, revision: number) => specRecord({ spec: s, revision, digest: digestOf(s) });

describe("canonicalJson", () => {
  it.each([
    {
      name: "sorts keys at every level",
      v: { b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } },
      want: '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    },
    { name: "drops undefined like JSON.stringify", v: { a: undefined, b: 2 }, want: '{"b":2}' },
    { name: "keeps array order", v: [3, 1, 2], want: "[3,1,2]" },
  ])("$name", ({ v, want }) => {
    expect(canonicalJson(v)).toBe(want);
  });

  it("gives the same digest whatever the key order", () => {
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as ResolvedSpec;
    expect(digestOf(reordered)).toBe(digestOf(a));
    expect(digestOf(b)).not.toBe(digestOf(a));
  });
});

describe("decideApply", () => {
  it.each([
    { name: "first apply is revision 1", stored: null, spec: a, deleted: 0, changed: true, revision: 1 },
    {
      name: "identical re-apply makes no revision",
      stored: stored(a, 3),
      spec: a,
      deleted: 0,
      changed: false,
      revision: 3,
    },
    {
      name: "a changed secret is a new revision",
      stored: stored(a, 3),
      spec: b,
      deleted: 0,
      changed: true,
      revision: 4,
    },
    {
      name: "after a delete revisions keep counting",
      stored: null,
      spec: a,
      deleted: 7,
      changed: true,
      revision: 8,
    },
    {
      name: "stored wins over an older deleted revision",
      stored: stored(a, 9),
      spec: b,
      deleted: 2,
      changed: true,
      revision: 10,
    },
  ])("$name", ({ stored: s, spec: sp, deleted, changed, revision }) => {
    const d = decideApply(s, sp, NOW, deleted);
    expect(d.changed).toBe(changed);
    expect(d.record.revision).toBe(revision);
    expect(d.record.digest).toBe(digestOf(sp));
    if (d.changed) expect(d.record.applied_at).toBe(NOW.toISOString());
    else expect(d.record).toBe(s);
  });
});

describe("decideApply for yard update", () => {
  it("needs a stored service: none is SY_ERR_NOT_FOUND naming it", () => {
    expect(() => decideApply(null, a, NOW, 0, "blue_green")).toThrow(
      expect.objectContaining({
        code: "SY_ERR_NOT_FOUND",
        message: expect.stringMatching(/no service named 'llm'/),
      }),
    );
  });

  it("a changed spec records the mode; `yard up` records none (rolling); an unchanged one changes nothing", () => {
    const d = decideApply(stored(a, 1), b, NOW, 0, "blue_green");
    expect(d.changed && d.record).toMatchObject({ revision: 2, update_mode: "blue_green" });
    expect(decideApply(stored(a, 1), b, NOW).record).not.toHaveProperty("update_mode");
    const same = stored(a, 1);
    expect(decideApply(same, a, NOW, 0, "rolling").record).toBe(same);
  });
});

describe("applyResult", () => {
  it("masks the secret in envs and the probe header", () => {
    const out = applyResult(decideApply(null, a, NOW), ["w"]);
    const text = JSON.stringify(out);
    expect(text).not.toContain("t0k");
    expect(out.record.spec.service.readiness_probe.headers.Authorization).toBe("Bearer ***");
    expect(out.warnings).toEqual(["w"]);
  });
});
