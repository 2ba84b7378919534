import { Buckets, BusAccessByUser } from "@switchyard/contracts";
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
    expect(pub.includes(`$JS.API.STREAM.CREATE.KV_${bucket}`)).toBe(writes);
    if (!reads) expect(touches(pub, bucket)).toEqual([]);
  });

  it.each([
    { user: "spec", responds: true, sub: ["_INBOX_spec.>", "yard.api.spec.*"] },
    { user: "provisioner", responds: true, sub: ["_INBOX_provisioner.>", "yard.api.replica.logs"] },
    { user: "prober", responds: false, sub: ["_INBOX_prober.>", "yard.hint.probe"] },
    { user: "proxy", responds: false, sub: ["_INBOX_proxy.>"] },
    { user: "cli", responds: false, sub: ["_INBOX_cli.>"] },
  ])("$user subscribes to $sub", ({ user, responds, sub }) => {
    expect(perms[user].subscribe).toEqual(sub);
    expect(perms[user].allowResponses).toBe(responds);
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
