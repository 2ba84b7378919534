import { CommonEnv, parseEnv, port } from "@switchyard/runtime";
import { z } from "zod";

/**
 * Spec service env vars (parsed once at start):
 * - NATS_URL (nats://127.0.0.1:4222) / NATS_USER / NATS_PASS / LOG_LEVEL (info): as every service.
 * - YARD_SPEC_HTTP_HOST (127.0.0.1): address of the HTTP API.
 * - YARD_SPEC_HTTP_PORT (7070): its port; 0 picks a free one (logged with msg "listening").
 */
export const SpecEnv = z.object({
  ...CommonEnv,
  YARD_SPEC_HTTP_HOST: z.string().default("127.0.0.1"),
  YARD_SPEC_HTTP_PORT: port(7070),
});
export type SpecConfig = z.infer<typeof SpecEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<SpecConfig> {
  return parseEnv(SpecEnv, env);
}
