import { Buckets, BusAccessByUser, Durables, Streams } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { BUS_USERS, permissionsOf } from "./nats-permissions.js";

const perms = Object.fromEntries(BUS_USERS.map((u) => [u, permissionsOf(u, BusAccessByUser[u])]));
const touches = (subjects: string[], bucket: string) =>
  subjects.filter((s) => s.includes(`KV_${bucket}`) || s.startsWith(`$KV.${bucket}.`));

describe("permissionsOf", () => {
  it.each([
    { user: "proxy", bucket: Buckets.specs, reads: false, writes: false },
    { user: "proxy", bucket: Buckets.endpoints, reads: true, writes: false },
    { user: "proxy", bucket: Buckets.services, reads: true, writes: false },
    { user: "cli", bucket: Buckets.specs, reads: false, writes: false },
    { user: "cli", bucket: Buckets.replicas, reads: true, writes: false },
    { user: "spec", bucket: Buckets.specs, reads: true, writes: true },
    { user: "spec", bucket: Buckets.services, reads: true, writes: true },
    { user: "provisioner", bucket: Buckets.specs, reads: true, writes: false },
    { user: "provisioner", bucket: Buckets.replicas, reads: true, writes: true },
    { user: "prober", bucket: Buckets.endpoints, reads: true, writes: true },
    { user: "prober", bucket: Buckets.services, reads: false, writes: false },
  ])("$user on $bucket: reads=$reads writes=$writes", ({ user, bucket, reads, writes }) => {
    const pub = perms[user].publish;
    expect(pub.includes(`$JS.API.DIRECT.GET.KV_${bucket}.>`)).toBe(reads);
    expect(pub.includes(`$KV.${bucket}.>`)).toBe(writes);
    // The spec user creates every stream; a writer binds to the one the spec user made.
    expect(pub.includes(`$JS.API.STREAM.CREATE.KV_${bucket}`)).toBe(user === "spec");
    if (!reads) expect(touches(pub, bucket)).toEqual([]);
  });

  it("only the spec user creates streams, and it creates every one (each bucket and the events stream)", () => {
    const streams = [...Object.values(Buckets).map((b) => `KV_${b}`), Streams.events.name];
    expect(perms.spec.publish.filter((s) => s.startsWith("$JS.API.STREAM.CREATE.")).sort()).toEqual(
      streams.map((s) => `$JS.API.STREAM.CREATE.${s}`).sort(),
    );
    for (const user of BUS_USERS.filter((u) => u !== "spec"))
      expect(perms[user].publish.filter((s) => s.includes("STREAM.CREATE"))).toEqual([]);
  });

  it.each([
    { user: "spec", answers: ["_INBOX_cli.>"], sub: ["_INBOX_spec.>", "yard.api.spec.*"] },
    {
      user: "provisioner",
      answers: ["_INBOX_cli.>"],
      sub: ["_INBOX_provisioner.>", "yard.api.replica.logs", "yard.api.replica.down", "yard.load"],
    },
    { user: "prober", answers: [], sub: ["_INBOX_prober.>", "yard.hint.probe"] },
    { user: "proxy", answers: [], sub: ["_INBOX_proxy.>"] },
    { user: "cli", answers: [], sub: ["_INBOX_cli.>"] },
  ])("$user subscribes to $sub and answers on $answers only", ({ user, answers, sub }) => {
    expect(perms[user].subscribe).toEqual(sub);
    // Replies go to the callers' inboxes, never to a subject a request names (no allow_responses).
    expect(perms[user].publish.filter((s) => s.startsWith("_INBOX"))).toEqual(answers);
    expect(perms[user]).not.toHaveProperty("allowResponses");
  });

  it.each(BUS_USERS)(
    "%s creates consumers only by name, filtered to a bucket or the events, or its own durable; pulls from none",
    (user) => {
      const { stream, name } = Durables.provisionerFailures;
      const own = new RegExp(`^\\$JS\\.API\\.CONSUMER\\.CREATE\\.${stream}\\.${name}(\\.>)?$`);
      const events = `$JS.API.CONSUMER.CREATE.${Streams.events.name}.*.yard.events.>`;
      const lease = `$JS.API.CONSUMER.CREATE.KV_${Buckets.leases}.*.$KV.${Buckets.leases}.${user}`;
      const creates = perms[user].publish.filter((s) => s.startsWith("$JS.API.CONSUMER.CREATE."));
      for (const s of creates)
        expect(
          s.match(/^\$JS\.API\.CONSUMER\.CREATE\.KV_([a-z-]+)\.\*\.\$KV\.\1\.>$/) ??
            s.match(own) ??
            (s === events && BusAccessByUser[user].readsEvents ? s : null) ??
            (s === lease && BusAccessByUser[user].lease ? s : null),
          s,
        ).not.toBeNull();
      // A pull request subject is one any reader's push consumer could feed (see access.ts Durables).
      expect(perms[user].publish.filter((s) => s.includes("MSG.NEXT"))).toEqual([]);
      // No stream-wide verbs: purge, delete, update, message delete, snapshot, restore.
      expect(
        perms[user].publish.filter(
          (s) => /\.(PURGE|DELETE|UPDATE|SNAPSHOT|RESTORE)\b/.test(s) && !s.includes("CONSUMER.DELETE"),
        ),
      ).toEqual([]);
    },
  );

  it.each(BUS_USERS)(
    "%s touches in yard-leases its own lease key only, and only if it holds a lease",
    (user) => {
      const all = [...perms[user].publish, ...perms[user].subscribe].filter((s) =>
        s.includes(Buckets.leases),
      );
      const writes = all.filter((s) => s.startsWith(`$KV.${Buckets.leases}.`));
      const keyed = all.filter((s) => s.includes(`$KV.${Buckets.leases}.`));
      if (!BusAccessByUser[user].lease) {
        // The spec user creates every bucket, yard-leases included: only that (stream create and info).
        expect(all.filter((s) => !/^\$JS\.API\.STREAM\.(INFO|CREATE)\./.test(s))).toEqual([]);
        return;
      }
      expect(writes).toEqual([`$KV.${Buckets.leases}.${user}`]);
      for (const s of keyed) expect(s.endsWith(`$KV.${Buckets.leases}.${user}`), s).toBe(true);
    },
  );

  it("nobody deletes a durable of the events stream but the provisioner its earlier versions' pull durable; readers of the events delete their own consumers", () => {
    const { stream, name, replaces } = Durables.provisionerFailures;
    expect(replaces).not.toBe(name);
    for (const user of BUS_USERS)
      expect(perms[user].publish.filter((s) => s.startsWith(`$JS.API.CONSUMER.DELETE.${stream}.`))).toEqual(
        user === "provisioner"
          ? [`$JS.API.CONSUMER.DELETE.${stream}.${replaces}`]
          : BusAccessByUser[user].readsEvents
            ? [`$JS.API.CONSUMER.DELETE.${stream}.*`]
            : [],
      );
  });

  it("a reader of the events is denied every durable's name: a create under it would update the durable, a delete drop it", () => {
    const { stream, name, replaces } = Durables.provisionerFailures;
    expect(BusAccessByUser.cli.readsEvents).toBe(true);
    expect(perms.cli.publishDeny).toEqual([
      `$JS.API.CONSUMER.CREATE.${stream}.${name}.>`,
      `$JS.API.CONSUMER.DELETE.${stream}.${name}`,
      `$JS.API.CONSUMER.CREATE.${stream}.${replaces}.>`,
      `$JS.API.CONSUMER.DELETE.${stream}.${replaces}`,
    ]);
    // The durable's own reader is not denied its own names; nobody else reads the events.
    for (const user of BUS_USERS.filter((u) => u !== "cli"))
      expect(perms[user].publishDeny, user).toEqual([]);
  });

  it.each([
    { user: "spec", events: ["yard.events.*.spec.published", "yard.events.*.spec.deleted"] },
    {
      user: "prober",
      events: [
        "yard.events.*.replica.ready",
        "yard.events.*.replica.unready",
        "yard.events.*.replica.failed",
      ],
    },
    { user: "proxy", events: [] },
    { user: "cli", events: [] },
  ])("$user publishes only its own event types", ({ user, events }) => {
    expect(perms[user].publish.filter((s) => s.startsWith("yard.events."))).toEqual(events);
  });
});
