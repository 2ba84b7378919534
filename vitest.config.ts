import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (`src/**/*.test.ts`); suites that start nats-server or
// processes live in each package's `test/` folder and in the top-level `test/` package.
const CLUSTER = [
  "test/kubernetes-e2e.test.ts",
  "services/provisioner/test/kubernetes-backend.test.ts",
  "tools/cluster/test/cluster.test.ts",
  "test/nats-cluster.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{libs,services,tools}/*/src/**/*.test.ts", "cli/src/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "{libs,services,tools}/*/test/**/*.test.ts",
            "cli/test/**/*.test.ts",
            "test/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**", ...CLUSTER],
        },
      },
      {
        // The suites on the local Kubernetes cluster (they skip without it) and the NATS-cluster
        // node-loss drills: after the others (groupOrder), one file at a time. One kubelet on a
        // machine running every other suite starts Pods slowly enough to run out their rollouts;
        // two of these files at once share the node's stand-in GPUs; and a JetStream election
        // on a machine that busy takes long enough to blur what the drills measure.
        extends: true,
        test: {
          name: "cluster",
          include: CLUSTER,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
