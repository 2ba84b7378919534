// @pure: no I/O (tools/lint-boundaries checks it)
import { z } from "zod";
import { fromZod, type Issue, isRecord, show } from "./issues.js";
import type { ParsedYaml } from "./parse-yaml.js";

/** Task keys of SkyPilot's schema that the local backend does not act on (accepted, warned). */
export const IGNORED_TASK_KEYS = [
  "api_server_access",
  "config",
  "event_callback",
  "file_mounts",
  "file_mounts_mapping",
  "inputs",
  "managed_secrets",
  "num_nodes",
  "outputs",
  "volume_mounts",
  "volumes",
  "_metadata",
] as const;

const USED_KEYS = ["name", "envs", "secrets", "resources", "setup", "run", "workdir", "service"];

export const ENV_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const envValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "expected a string, number, boolean or nothing",
});
const text = z.string().nullable();

const Task = z.object({
  name: z.string().optional(),
  envs: z.record(z.string().regex(ENV_NAME_RE, "not a valid env var name"), envValue).nullable().optional(),
  secrets: z
    .record(z.string().regex(ENV_NAME_RE, "not a valid env var name"), envValue, {
      error: "expected a mapping of NAME: value (managed secret references are not supported)",
    })
    .nullable()
    .optional(),
  setup: text.optional(),
  run: text.optional(),
  workdir: z
    .string("expected a directory path (a git workdir {url, ref} is not supported)")
    .nullable()
    .optional(),
});

export interface TaskFields {
  name?: string;
  /** Values stringified as written (`3.10` stays "3.10"); null = no value given. */
  envs: Record<string, string | null>;
  secrets: Record<string, string | null>;
  setup: string | null;
  run: string | null;
  workdir: string | null;
  ignored: string[];
  issues: Issue[];
}

function stringify(
  section: "envs" | "secrets",
  raw: unknown,
  yaml: ParsedYaml,
): Record<string, string | null> {
  if (!isRecord(raw)) return {};
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null || v === undefined) out[k] = null;
    else if (typeof v === "string") out[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[k] = yaml.literal(section, k) ?? String(v);
  }
  return out;
}

/** Top-level task keys: the ones Switchyard uses are validated; known SkyPilot ones are ignored. */
export function readTask(yaml: ParsedYaml): TaskFields {
  const data = yaml.data;
  const issues: Issue[] = [];
  const ignored: string[] = [];
  for (const key of Object.keys(data)) {
    if (USED_KEYS.includes(key)) continue;
    if ((IGNORED_TASK_KEYS as readonly string[]).includes(key)) ignored.push(key);
    else if (key === "pool") {
      issues.push({
        path: "pool",
        message: "a `pool:` section defines a cluster pool for jobs, not a service",
      });
    } else issues.push({ path: key, message: `unknown top-level key ${show(key)}` });
  }
  const parsed = Task.safeParse(data);
  if (!parsed.success) issues.push(...fromZod(parsed.error, ""));
  const ok = parsed.success ? parsed.data : {};
  return {
    name: typeof data.name === "string" ? data.name : undefined,
    envs: stringify("envs", data.envs, yaml),
    secrets: stringify("secrets", data.secrets, yaml),
    setup: ok.setup ?? null,
    run: ok.run ?? null,
    workdir: ok.workdir ?? null,
    ignored,
    issues,
  };
}
