import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (`src/**/*.test.ts`); suites that start nats-server or
// processes live in each package's `test/` folder and in the top-level `test/` package.
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
          exclude: ["**/node_modules/**"],
        },
      },
    ],
  },
});
