import {
  type BucketName,
  type BusAccess,
  BusAccessByUser,
  type BusUser,
  inboxPrefixOf,
  Streams,
  Subjects,
} from "@switchyard/contracts";

/**
 * The exact NATS subjects behind a BusAccess, as nats.js 3.4.0 uses them against
 * nats-server 2.9.10 (found by tracing the client's protocol lines; proved by
 * test/packaging-nats.test.ts). Pure: data in, subject lists out.
 */
export interface UserPermissions {
  publish: string[];
  subscribe: string[];
  allowResponses: boolean;
}

export const BUS_USERS = Object.keys(BusAccessByUser) as BusUser[];

/** Env var holding a user's password, e.g. YARD_NATS_PROXY_PASS. */
export function passwordVar(user: BusUser): string {
  return `YARD_NATS_${user.toUpperCase()}_PASS`;
}

/** The local-dev default password of a user (documented; change it outside a laptop). */
export function devPassword(user: BusUser): string {
  return `${user}-dev`;
}

/** Watch/keys (named ordered consumers with the filter in the subject), get, status. */
export function bucketReadSubjects(b: BucketName): string[] {
  const s = `KV_${b}`;
  return [
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}.>`,
    `$JS.API.CONSUMER.INFO.${s}.>`,
    `$JS.API.CONSUMER.DELETE.${s}.>`,
    `$JS.API.DIRECT.GET.${s}.>`,
    // A reader that opens (binds) a bucket without its stream info gets without direct get.
    `$JS.API.STREAM.MSG.GET.${s}`,
    // Replies to the push consumer's flow-control messages.
    `$JS.FC.${s}.>`,
  ];
}

/** Create the bucket's stream (createBucket), put/delete keys (a JetStream publish). */
export function bucketWriteSubjects(b: BucketName): string[] {
  return [`$JS.API.STREAM.CREATE.KV_${b}`, `$KV.${b}.>`];
}

/** A durable pull consumer on a stream: create, info, fetch, ack. */
export function consumerSubjects(stream: string): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.ACK.${stream}.>`,
  ];
}

export function permissionsOf(user: BusUser, a: BusAccess): UserPermissions {
  const ev = Streams.events.name;
  const publish = [
    "$JS.API.INFO",
    ...a.writes.flatMap(bucketWriteSubjects),
    ...[...new Set([...a.writes, ...a.reads])].flatMap(bucketReadSubjects),
    ...(a.events.length ? [`$JS.API.STREAM.INFO.${ev}`, `$JS.API.STREAM.CREATE.${ev}`] : []),
    ...a.events.map((t) => Subjects.eventsOfType(t)),
    ...a.consumes.flatMap(consumerSubjects),
    ...a.publish,
  ];
  return {
    publish: [...new Set(publish)],
    // Replies, JetStream API answers and push-consumer deliveries arrive on the user's own
    // inboxes (libs/bus connects with this prefix); never another user's.
    subscribe: [`${inboxPrefixOf(user)}.>`, ...a.subscribe],
    allowResponses: a.serves,
  };
}
