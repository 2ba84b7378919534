// Types of the NATS client that callers hold, re-exported so nothing outside libs/bus imports
// @nats-io/* (biome's noRestrictedImports enforces it).
export type { JetStreamClient } from "@nats-io/jetstream";
export type { NatsConnection, Subscription } from "@nats-io/transport-node";
export type { BusOptions } from "./connect.js";
export { connectBus, redactUrl } from "./connect.js";
export type { DurableConsumer } from "./consumer.js";
export { consumeDurable, ensureDurableConsumer } from "./consumer.js";
export type { ReadEventsOptions, StoredEvent } from "./event-reader.js";
export { readEvents } from "./event-reader.js";
export { countEvents, ensureEventsStream, jetstream, publishEvent, waitForEventsStream } from "./events.js";
export type { Fence } from "./fenced-kv.js";
export { FencedKv, NO_FENCE, WriteConflict } from "./fenced-kv.js";
export type { KV } from "./kv.js";
export { createBucket, decode, getJson, openBucket, putJson, readAll, tryOpenBucket } from "./kv.js";
export type { Lease, LeaseEvents, LeaseOptions } from "./lease.js";
export { campaign, campaignFor, defaultHolder, isWrongRevision, openLeaseBucket } from "./lease.js";
export { listen } from "./listen.js";
export type { Logger } from "./logger.js";
export { silentLogger } from "./logger.js";
export { call, serve } from "./rpc.js";
export type { BusConfig } from "./service-bus.js";
export { connectServiceBus, connectServiceBusOrExit } from "./service-bus.js";
export type { WaitOptions } from "./streams.js";
export { isTransient } from "./streams.js";
export type { BucketWatch, WatchChange } from "./watch.js";
export { watchBucket } from "./watch.js";
export { createYardStreams } from "./yard-streams.js";
