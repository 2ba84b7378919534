// @pure: no I/O (tools/lint-boundaries checks it)
import type { AcceleratorCandidate } from "@switchyard/contracts";
import { z } from "zod";
import { dedupe, parseAccelerators } from "./accelerators.js";
import { fromZod, type Issue, isRecord } from "./issues.js";
import { parsePorts } from "./ports.js";

const numOrString = z.union([z.number(), z.string()], { error: "expected a number or a string like 4+" });

/** One resources candidate as SkyPilot's single-resources schema knows it. */
const single = {
  cloud: z.string(),
  region: z.string(),
  zone: z.string(),
  infra: z.string(),
  cpus: numOrString,
  memory: numOrString,
  accelerators: z.unknown(), // every form is read by parseAccelerators
  instance_type: z.string(),
  use_spot: z.boolean(),
  job_recovery: z.unknown(), // rejected with SkyServe's reason by the service-task rules
  spot_recovery: z.unknown(), // the older name of job_recovery
  volumes: z.array(z.unknown()),
  disk_size: numOrString,
  ephemeral_storage: numOrString,
  disk_tier: z.string(),
  network_tier: z.string(),
  local_disk: z.string(),
  max_hourly_cost: z.number().positive(),
  ports: z.unknown(), // every form is read by parsePorts
  labels: z.record(z.string(), z.string()),
  accelerator_args: z.record(z.string(), z.unknown()),
  image_id: z.union([z.string(), z.record(z.string(), z.unknown()), z.null()], {
    error: "expected an image name or a mapping of region to image",
  }),
  autostop: z.unknown(),
  priority: z.number().int(),
  priority_class: z.string(),
};
const Single = z.strictObject(single).partial();
const Resources = z.strictObject({ ...single, any_of: z.array(Single), ordered: z.array(Single) }).partial();

/** One candidate after merging `any_of`/`ordered` items over the base fields. */
export interface Candidate {
  /** `resources`, or `resources.any_of[i]` / `resources.ordered[i]`. */
  path: string;
  fields: Record<string, unknown>;
  /** Where each field was written, e.g. `ports` → `resources.any_of[1].ports`. */
  where: Record<string, string>;
  accelerators: AcceleratorCandidate[];
  ports: number[];
}

export interface ResourcesResult {
  candidates: Candidate[];
  accelerators: AcceleratorCandidate[];
  ports: number[];
  other: Record<string, unknown>;
  issues: Issue[];
}

function describe(fields: Record<string, unknown>, prefix: string, issues: Issue[]) {
  const acc = parseAccelerators(fields.accelerators, `${prefix}.accelerators`);
  const ports = parsePorts(fields.ports, `${prefix}.ports`);
  issues.push(...acc.issues, ...ports.issues);
  return { accelerators: acc.candidates, ports: ports.ports };
}

/** Validate `resources` and expand it into the candidates a replica may be placed on. */
export function readResources(raw: unknown): ResourcesResult {
  const issues: Issue[] = [];
  const value = raw === undefined || raw === null ? {} : raw;
  if (!isRecord(value)) {
    issues.push({ path: "resources", message: "expected a mapping" });
    return { candidates: [], accelerators: [], ports: [], other: {}, issues };
  }
  const parsed = Resources.safeParse(value);
  if (!parsed.success) issues.push(...fromZod(parsed.error, "resources"));
  const { any_of, ordered, ...base } = value;
  if (any_of !== undefined && ordered !== undefined) {
    issues.push({ path: "resources.ordered", message: "cannot specify both any_of and ordered" });
  }
  const listKey = any_of !== undefined ? "any_of" : "ordered";
  const list = any_of ?? ordered;
  const items = Array.isArray(list) && list.length > 0 ? list : [{}];
  const baseWhere = Object.fromEntries(Object.keys(base).map((k) => [k, `resources.${k}`]));
  const baseDesc = describe(base, "resources", issues);
  const candidates = items.map((item, i): Candidate => {
    const own = isRecord(item) ? item : {};
    const prefix = items === list ? `resources.${listKey}[${i}]` : "resources";
    const where = { ...baseWhere, ...Object.fromEntries(Object.keys(own).map((k) => [k, `${prefix}.${k}`])) };
    const ownDesc = describe(own, prefix, issues);
    return {
      path: prefix,
      fields: { ...base, ...own },
      where,
      accelerators: "accelerators" in own ? ownDesc.accelerators : baseDesc.accelerators,
      ports: "ports" in own ? ownDesc.ports : baseDesc.ports,
    };
  });
  const { accelerators: _a, ports: _p, ...other } = value;
  return {
    candidates,
    accelerators: dedupe(candidates.flatMap((c) => c.accelerators)),
    ports: [...new Set(candidates.flatMap((c) => c.ports))].sort((a, b) => a - b),
    other,
    issues,
  };
}
