import { type BucketName, Buckets } from "@switchyard/contracts";
import { TestSystem } from "@switchyard/testkit";

/** The token of the suites' specs; no output may hold it. */
export const TOKEN = "tok-9c1e5b7a-never-log-me";

/** The fake engine on the provisioner-chosen port, with the spec's token (as local-auth.yaml). */
export const ENGINE_RUN =
  'echo "cvd=[$CUDA_VISIBLE_DEVICES] id=$YARD_REPLICA_ID"\n' +
  "exec fake-openai-engine --host 127.0.0.1 --port $YARD_REPLICA_PORT --api-key $AUTH_TOKEN";

/**
 * A provisioner suite's system: the suite plays the spec service (it creates the streams the
 * provisioner binds to, yard-replicas included) and the prober (it writes yard-specs and
 * yard-endpoints and publishes their events) and starts provisioners itself.
 */
export function provisionerSystem(extraBuckets: BucketName[] = []): TestSystem {
  return new TestSystem({
    buckets: [Buckets.specs, Buckets.endpoints, Buckets.replicas, ...extraBuckets],
    eventsStream: true,
  });
}
