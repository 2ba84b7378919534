import { silentLogger } from "@switchyard/bus";
import type { ReplicaRecord } from "@switchyard/contracts";
import { replicaRecord as rep, specRecord } from "@switchyard/testkit";
import { describe, expect, it } from "vitest";
import type { Backend, FoundReplica, LaunchRequest } from "./backends/backend.js";
import { Provisioner } from "./provisioner.js";
import { ReplicaStore } from "./replica-store.js";

// A provisioner term that starts after the spec changed (its lease lost in a NATS election while
// `yard up` scaled the service) knows only the latest revision from its watch. What a user sees:
// the running replicas keep serving, relabelled, and only the missing ones are launched.

/** The backend calls a term start makes; launches and stops are recorded, nothing runs. */
function stubBackend() {
  const launched: number[] = [];
  const stopped: number[] = [];
  const backend = {
    name: "local",
    inventory: async () => [],
    choosePort: async () => ({ ok: true, port: 9000 }),
    launch: async (req: LaunchRequest) => {
      launched.push(req.id);
      return { handle: `h${req.id}`, host: "127.0.0.1" };
    },
    terminate: async (_svc: string, id: number) => {
      stopped.push(id);
    },
    list: async () => [],
    adopt: () => {},
    readLog: () => ({ data: "", next_offset: 0 }),
    logTail: () => [],
    secretValues: () => [],
    running: () => true,
    onEvent: () => {},
    close: () => {},
  } as unknown as Backend;
  return { backend, launched, stopped };
}

function memoryStore(records: ReplicaRecord[]): ReplicaStore {
  const store = new ReplicaStore({ put: async () => 0, delete: async () => {} }, silentLogger);
  store.load(records);
  return store;
}

const found = (id: number): FoundReplica => ({
  service: "svc",
  id,
  handle: `h${id}`,
  running: true,
  runStarted: true,
});

/** Two READY replicas of revision 1, their endpoints up; the spec now at revision 2 (3 replicas). */
function termAfterScaleUp() {
  const b = stubBackend();
  const ready = (id: number) =>
    rep({ service: "svc", id, revision: 1, phase: "READY", handle: `h${id}`, first_ready_at: "x" });
  const store = memoryStore([ready(1), ready(2)]);
  const p = new Provisioner({
    backend: b.backend,
    store,
    publish: () => {},
    logger: silentLogger,
    inventory: [],
    hostAddress: "127.0.0.1",
  });
  p.setSpec(specRecord({ name: "svc", revision: 2, replicas: 3 }));
  p.setEndpoint("svc.1", true);
  p.setEndpoint("svc.2", true);
  return { ...b, store, p };
}

const pass = () => new Promise((r) => setImmediate(r));

describe("a provisioner term that starts after a scale-up", () => {
  it("with revision 1 learnt from the spec's history: both replicas are relabelled and keep serving, one is launched", async () => {
    const t = termAfterScaleUp();
    expect(t.p.servicesMissingLaunchKeys()).toEqual(["svc"]);
    // History as the bucket keeps it: oldest first, the current one included.
    for (const rec of [
      specRecord({ name: "svc", revision: 1, replicas: 2 }),
      specRecord({ name: "svc", revision: 2, replicas: 3 }),
    ])
      t.p.olderSpec(rec);
    expect(t.p.servicesMissingLaunchKeys()).toEqual([]);
    t.p.recover([found(1), found(2)]);
    t.p.resume();
    await pass();
    await pass();
    const byId = (id: number) => t.store.get(`svc.${id}`);
    expect([byId(1)?.revision, byId(1)?.phase]).toEqual([2, "READY"]);
    expect([byId(2)?.revision, byId(2)?.phase]).toEqual([2, "READY"]);
    expect(t.stopped).toEqual([]);
    expect(t.launched).toEqual([3]);
  });

  it("without it, every replica would be replaced (what the history prevents)", async () => {
    const t = termAfterScaleUp();
    t.p.recover([found(1), found(2)]);
    t.p.resume();
    await pass();
    await pass();
    expect(t.launched).toEqual([3, 4, 5]);
  });
});
