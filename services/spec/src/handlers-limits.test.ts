import type { Logger } from "@switchyard/bus";
import { ApplyRequest, type ResolvedSpec, type SpecRecord, YardError } from "@switchyard/contracts";
import { resolvedSpec } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import { checkPayload, createHandlers, type SpecStore } from "./handlers.js";
import { decideApply } from "./records.js";

const YAML = `name: svc
run: python3 server.py
resources: {ports: 8080, use_spot: true}
service: {replicas: 2}
`;

/** A request as the bus or HTTP adapter hands it over (defaults filled). */
const req = (o: Record<string, unknown>) => ApplyRequest.parse(o);

/** A store that keeps records in memory and counts its writes. */
function memoryStore(o: { failPut?: Error } = {}) {
  const records = new Map<string, SpecRecord>();
  let writes = 0;
  const store: SpecStore = {
    async apply(spec: ResolvedSpec) {
      writes++;
      if (o.failPut) throw o.failPut;
      const d = decideApply(records.get(spec.name) ?? null, spec, new Date());
      records.set(spec.name, d.record);
      return d;
    },
    async preview(spec) {
      return decideApply(records.get(spec.name) ?? null, spec, new Date());
    },
    async get(name) {
      return records.get(name) ?? null;
    },
    async list() {
      return [...records.values()];
    },
    async remove() {
      return null;
    },
    async putTls() {
      return true;
    },
    async removeTls() {
      return false;
    },
  };
  return { store, writes: () => writes };
}

function capture() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return { logger, lines };
}

async function rejection(p: Promise<unknown>): Promise<YardError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof YardError)) throw new Error(`expected a YardError, got ${String(e)}`);
  return e;
}

describe("apply limits in the spec service", () => {
  it("a record over max_payload is refused with SY_ERR_TOO_LARGE before any write", async () => {
    const { store, writes } = memoryStore();
    const h = createHandlers(store, capture().logger, { maxPayload: () => 2048 });
    const e = await rejection(h.apply(req({ yaml: YAML, env: { BIG: "x".repeat(4096) }, dry_run: false })));
    expect(e.code).toBe("SY_ERR_TOO_LARGE");
    expect(e.message).toMatch(/at most 2048 bytes in one message \(its max_payload\)/);
    expect(e.message).not.toContain("xxxx");
    expect(writes()).toBe(0);
    // A dry run says the same: the real apply would fail.
    expect(
      (await rejection(h.apply(req({ yaml: YAML, env: { BIG: "x".repeat(4096) }, dry_run: true })))).code,
    ).toBe("SY_ERR_TOO_LARGE");
  });

  it("a KV write refused for its size (another server, smaller max_payload) is SY_ERR_TOO_LARGE too", async () => {
    const { store } = memoryStore({ failPut: new Error("'payload' max_payload size exceeded") });
    const h = createHandlers(store, capture().logger);
    expect((await rejection(h.apply(req({ yaml: YAML, dry_run: false })))).code).toBe("SY_ERR_TOO_LARGE");
  });

  it("uses YARD_MAX_REPLICAS_PER_SERVICE", async () => {
    const h = createHandlers(memoryStore().store, capture().logger, { maxReplicasPerService: 1 });
    const e = await rejection(h.apply(req({ yaml: YAML, dry_run: false })));
    expect(e.code).toBe("SY_ERR_SPEC_INVALID");
    expect(e.issues).toContainEqual({
      path: "service.replicas",
      message:
        "2 is more than the 1 replicas a service may have (the spec service's YARD_MAX_REPLICAS_PER_SERVICE)",
    });
  });

  it("logs the warnings of an accepted spec with the service name", async () => {
    const { logger, lines } = capture();
    const r = await createHandlers(memoryStore().store, logger).apply(req({ yaml: YAML, dry_run: false }));
    expect(r.warnings.join("\n")).toContain("`resources.use_spot`");
    const warn = lines.find((l) => l.msg === "spec warnings");
    expect(warn).toMatchObject({ level: "warn", obj: { service: "svc" } });
    expect(JSON.stringify(warn?.obj)).toContain("resources.use_spot");
  });

  it.each([
    { name: "fits", max: 1024 * 1024, ok: true },
    { name: "over", max: 1000, ok: false },
  ])("checkPayload: $name", ({ max, ok }) => {
    const run = () => checkPayload(resolvedSpec(), [], null, max);
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/max_payload/);
  });
});
