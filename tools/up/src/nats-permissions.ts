import {
  type BucketName,
  Buckets,
  type BusAccess,
  BusAccessByUser,
  type BusUser,
  type DurableGrant,
  Durables,
  inboxPrefixOf,
  leaseKey,
  requestersOf,
  Streams,
  type StreamsCreated,
  Subjects,
} from "@switchyard/contracts";

/**
 * The exact NATS subjects behind a BusAccess, as nats.js 3.4.0 uses them against
 * nats-server 2.9.10 (found by tracing the client's protocol lines; proved by
 * test/packaging-nats.test.ts). Pure: data in, subject lists out.
 */
export interface UserPermissions {
  publish: string[];
  /** Refused although `publish` covers it (nats-server applies deny over allow). */
  publishDeny: string[];
  subscribe: string[];
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

/**
 * Watch/keys/history (named ordered push consumers with the filter in the subject), get, status.
 * Only the create form with a name and a filter inside the bucket; info and delete of one
 * consumer by name (an ordered consumer deletes its predecessor when it resets). A push
 * consumer's deliver subject is in the request body, where no grant reaches: what it can aim
 * at is closed by the receivers (libs/bus rpc.ts `admit`); see test/bus-roles.test.ts.
 */
export function bucketReadSubjects(b: BucketName): string[] {
  const s = `KV_${b}`;
  return [
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}.*.$KV.${b}.>`,
    `$JS.API.CONSUMER.INFO.${s}.*`,
    `$JS.API.CONSUMER.DELETE.${s}.*`,
    `$JS.API.DIRECT.GET.${s}.>`,
    // A reader that opens (binds) a bucket without its stream info gets without direct get.
    `$JS.API.STREAM.MSG.GET.${s}`,
    // Replies to the push consumer's flow-control messages.
    `$JS.FC.${s}.>`,
  ];
}

/** Put/delete keys (a JetStream publish). The stream itself is the spec service's to create. */
export function bucketWriteSubjects(b: BucketName): string[] {
  return [`$KV.${b}.>`];
}

/**
 * Create a stream (look it up first, to find an existing one and check its config). Only for
 * StreamsCreated: the creator chooses `republish`, `sources` and `mirror`, where no grant reaches.
 */
export function streamCreateSubjects(created: StreamsCreated): string[] {
  const streams = [
    ...created.buckets.map((b) => `KV_${b}`),
    ...(created.events ? [Streams.events.name] : []),
  ];
  return streams.flatMap((s) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`]);
}

/**
 * One durable push consumer, by name: create or update (with or without filter), info, ack;
 * delete only of the durable it replaces. No `MSG.NEXT`: a push consumer takes no pull requests,
 * and nobody needs a subject on which another user's records could be made into them.
 */
export function consumerSubjects({ stream, name, replaces }: DurableGrant): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${stream}.${name}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${name}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.${name}`,
    `$JS.ACK.${stream}.${name}.>`,
    ...(replaces ? [`$JS.API.CONSUMER.DELETE.${stream}.${replaces}`] : []),
  ];
}

/**
 * Read the events stream (`yard events`): named ordered push consumers with the filter in the
 * subject, inside `yard.events.>`, and deleting them when done (an ordered consumer also
 * deletes its predecessor when it resets); flow-control replies. Durables' names are denied
 * (eventsReadDeny).
 */
export function eventsReadSubjects(): string[] {
  const s = Streams.events.name;
  return [
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}.*.${Subjects.eventsAll}`,
    `$JS.API.CONSUMER.DELETE.${s}.*`,
    `$JS.FC.${s}.>`,
  ];
}

/**
 * The durables on the events stream that are not `a`'s own, for a reader of the stream: a
 * consumer created under a durable's name updates that durable (nats-server 2.9 takes the
 * name from the subject: headers only or a rate limit would starve its reader), and a delete
 * would drop what it holds for its reader.
 */
export function eventsReadDeny(a: BusAccess): string[] {
  if (!a.readsEvents) return [];
  const names = (d: DurableGrant) => (d.replaces ? [d.name, d.replaces] : [d.name]);
  const mine = new Set(a.consumes.flatMap(names));
  const durables: DurableGrant[] = Object.values(Durables);
  return durables
    .filter((d) => d.stream === Streams.events.name)
    .flatMap(names)
    .filter((name) => !mine.has(name))
    .flatMap((name) => [
      `$JS.API.CONSUMER.CREATE.${Streams.events.name}.${name}.>`,
      `$JS.API.CONSUMER.DELETE.${Streams.events.name}.${name}`,
    ]);
}

/**
 * Its own lease key in yard-leases and nothing else there: put, update and delete it (a
 * JetStream publish on the key), get it (direct get by subject), watch it (a named ordered push
 * consumer filtered to the key; deleting one, which an ordered consumer does when it resets).
 */
export function leaseSubjects(user: BusUser): string[] {
  const b = Buckets.leases;
  const s = `KV_${b}`;
  const key = `$KV.${b}.${leaseKey(user)}`;
  return [
    `$JS.API.STREAM.INFO.${s}`,
    key,
    `$JS.API.DIRECT.GET.${s}.${key}`,
    `$JS.API.CONSUMER.CREATE.${s}.*.${key}`,
    `$JS.API.CONSUMER.INFO.${s}.*`,
    `$JS.API.CONSUMER.DELETE.${s}.*`,
    `$JS.FC.${s}.>`,
  ];
}

export function permissionsOf(user: BusUser, a: BusAccess): UserPermissions {
  const ev = Streams.events.name;
  const publish = [
    "$JS.API.INFO",
    ...streamCreateSubjects(a.creates),
    ...a.writes.flatMap(bucketWriteSubjects),
    ...[...new Set([...a.writes, ...a.reads])].flatMap(bucketReadSubjects),
    // Publishers wait for the events stream (waitForEventsStream); they cannot create it.
    ...(a.events.length ? [`$JS.API.STREAM.INFO.${ev}`] : []),
    ...a.events.map((t) => Subjects.eventsOfType(t)),
    ...(a.readsEvents ? eventsReadSubjects() : []),
    ...a.consumes.flatMap(consumerSubjects),
    ...(a.lease ? leaseSubjects(user) : []),
    ...a.publish,
    // Answers go to the inboxes of the users allowed to ask, not wherever a request's reply
    // points: with `allow_responses` a caller could name, say, `$JS.API.STREAM.PURGE.<stream>`
    // as its reply and the server would take the answer as that user's API call.
    ...requestersOf(user).map((u) => `${inboxPrefixOf(u)}.>`),
  ];
  return {
    publish: [...new Set(publish)],
    publishDeny: eventsReadDeny(a),
    // Replies, JetStream API answers and push-consumer deliveries arrive on the user's own
    // inboxes (libs/bus connects with this prefix); never another user's.
    subscribe: [`${inboxPrefixOf(user)}.>`, ...a.subscribe],
  };
}
