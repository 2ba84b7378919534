import { ResolvedSpec } from "@switchyard/contracts";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveSpec } from "./index.js";

// Service sections as SkyServe's docs write them (skyserve.md §1.1–1.5 sources D-*).
describe("examples from SkyServe's docs", () => {
  it.each([
    {
      name: "auth: Bearer token header (D-auth)",
      doc: {
        envs: { AUTH_TOKEN: null },
        service: {
          readiness_probe: { path: "/v1/models", headers: { Authorization: "Bearer $AUTH_TOKEN" } },
          replicas: 2,
        },
        resources: { ports: 8000, accelerators: "L4:1" },
        run: "vllm serve --api-key $AUTH_TOKEN",
      },
      env: { AUTH_TOKEN: "abc" },
      want: { readiness_probe: { headers: { Authorization: "Bearer abc" } } },
    },
    {
      name: "post_data with $MODEL_NAME (TASK docstring)",
      doc: {
        envs: { MODEL_NAME: "meta-llama/Llama-2-7b-chat-hf" },
        service: {
          readiness_probe: {
            path: "/v1/chat/completions",
            post_data: {
              model: "$MODEL_NAME",
              messages: [{ role: "user", content: "Hello!" }],
              max_tokens: 1,
            },
          },
          replicas: 2,
        },
        resources: { ports: 8080 },
        run: "x",
      },
      env: {},
      want: { readiness_probe: { post_data: { model: "meta-llama/Llama-2-7b-chat-hf", max_tokens: 1 } } },
    },
    {
      name: "autoscaling (D-autoscaling)",
      doc: {
        service: {
          readiness_probe: "/health",
          replica_policy: {
            min_replicas: 2,
            max_replicas: 10,
            target_qps_per_replica: 2.5,
            upscale_delay_seconds: 300,
            downscale_delay_seconds: 1200,
          },
        },
        resources: { ports: 8080 },
        run: "x",
      },
      env: {},
      want: { replica_policy: { min_replicas: 2, max_replicas: 10, target_qps_per_replica: 2.5 } },
    },
    {
      name: "instance-aware autoscaling (POL)",
      doc: {
        service: {
          load_balancing_policy: "instance_aware_least_load",
          replica_policy: {
            min_replicas: 1,
            max_replicas: 5,
            target_qps_per_replica: { "H100:1": 10, A100: 5 },
          },
        },
        resources: { ports: 8080, accelerators: { "H100:1": null, "A100:1": null } },
        run: "x",
      },
      env: {},
      want: {
        load_balancing_policy: "instance_aware_least_load",
        replica_policy: { target_qps_per_replica: { "H100:1": 10, A100: 5 } },
      },
    },
    {
      name: "spot with dynamic on-demand fallback (D-spot-policy)",
      doc: {
        service: {
          readiness_probe: "/health",
          replica_policy: {
            min_replicas: 2,
            max_replicas: 3,
            target_qps_per_replica: 1,
            dynamic_ondemand_fallback: true,
          },
        },
        resources: { ports: 8081, cpus: "2+", use_spot: true },
        run: "x",
      },
      env: {},
      want: { replica_policy: { dynamic_ondemand_fallback: true } },
    },
    {
      name: "HTTPS (D-https)",
      doc: {
        service: { readiness_probe: "/", replicas: 1, tls: { keyfile: "~/key.pem", certfile: "~/cert.pem" } },
        resources: { ports: 8080 },
        run: "python3 -m http.server 8080",
      },
      env: {},
      want: { tls: { keyfile: "~/key.pem", certfile: "~/cert.pem" } },
    },
  ])("$name", ({ doc, env, want }) => {
    const r = resolveSpec({ yaml: stringify(doc), fileName: "doc.yaml", env: env as Record<string, string> });
    if (!r.ok) throw new Error(JSON.stringify(r.error.issues));
    expect(ResolvedSpec.parse(r.spec)).toEqual(r.spec);
    expect(r.spec.service).toMatchObject(want);
  });
});
