// @pure: no I/O (tools/lint-boundaries checks it)
import {
  type Issue,
  ResolvedSpec,
  SPEC_SCHEMA_VERSION,
  secretValues,
  YardError,
} from "@switchyard/contracts";
import { crossFieldIssues } from "./cross-field.js";
import { definedOnly, envNameIssues, mergeLayers, nullEnvError, nullIssues } from "./env-merge.js";
import { deepFreeze } from "./freeze.js";
import { fromZod, isRecord, redactMessage } from "./issues.js";
import { replicaLimitIssues } from "./limit-issues.js";
import { specLimits } from "./limits.js";
import { resolveName } from "./name.js";
import { normaliseService } from "./normalise.js";
import { parseYaml } from "./parse-yaml.js";
import { readResources } from "./resources.js";
import { secretNames } from "./secrets.js";
import { ServiceSchema } from "./service-schema.js";
import { serviceTaskIssues } from "./service-task.js";
import { serviceView } from "./service-view.js";
import { substitute } from "./substitute.js";
import { readTask } from "./task-schema.js";
import type { ResolveInput, ResolveResult } from "./types.js";
import { unusedFieldWarnings } from "./unused-fields.js";

function redactError(e: YardError, secrets: readonly string[]): YardError {
  const issues = e.issues.map((i) => ({ path: i.path, message: redactMessage(i.message, secrets) }));
  return new YardError(e.code, redactMessage(e.message, secrets), issues);
}

/** YAML text + overrides → a validated, resolved, frozen spec, or every problem found. */
export function resolve(input: ResolveInput): ResolveResult {
  const limits = specLimits(input.limits);
  let yaml: ReturnType<typeof parseYaml>;
  try {
    yaml = parseYaml(input.yaml, input.fileName, limits);
  } catch (e) {
    if (e instanceof YardError) return { ok: false, error: e };
    throw e;
  }
  const task = readTask(yaml);
  // Names from outside the YAML (an API request's maps) follow the rule YAML envs follow.
  const issues: Issue[] = [
    ...task.issues,
    ...envNameIssues(task.envs, "envs", false),
    ...envNameIssues(task.secrets, "secrets", false),
    ...envNameIssues(input.envFile, "env_file", true),
    ...envNameIssues(input.env, "env", true),
    ...envNameIssues(input.secrets, "secrets", true),
  ];
  const warnings = task.ignored.map((k) => `\`${k}\` is ignored: the local backend does not act on it`);

  const envs = mergeLayers(task.envs, input.envFile, input.env);
  const secrets = mergeLayers(task.secrets, input.secrets);
  const nulls = nullIssues(envs, secrets);
  // Secrets win over envs of the same name, as in SkyPilot (`envs.copy().update(secrets)`).
  const vars = { ...definedOnly(envs), ...definedOnly(secrets) };

  const raw = yaml.data.service;
  const hasService = isRecord(raw);
  if (raw === undefined || raw === null) {
    issues.push({ path: "service", message: 'Service YAML must have a "service" section' });
  } else if (!hasService) issues.push({ path: "service", message: "expected a mapping" });

  // Substitution comes before the schema check, so `replicas: $N` fails as a non-integer.
  const sub = substitute(hasService ? raw : {}, vars, "service");
  for (const n of [...sub.unknown].sort()) {
    warnings.push(`service: $${n} is not a known env var or secret and was left as written`);
  }
  const parsed = ServiceSchema.safeParse(sub.value);
  if (hasService && !parsed.success) issues.push(...fromZod(parsed.error, "service"));
  const view = serviceView(isRecord(sub.value) ? sub.value : {});
  const res = readResources(yaml.data.resources);
  issues.push(...res.issues);
  let port: number | undefined;
  if (hasService) {
    issues.push(...crossFieldIssues(view), ...replicaLimitIssues(view, limits.maxReplicasPerService));
    warnings.push(...unusedFieldWarnings(view, res.candidates));
    const t = serviceTaskIssues(view, res.candidates);
    issues.push(...t.issues);
    port = t.port;
  }
  const name = resolveName(input.name, task.name, input.fileName);
  issues.push(...name.issues);

  const secret_names = secretNames({
    secretKeys: Object.keys(secrets),
    envNames: Object.keys(envs),
    substituted: sub.used,
  });
  const masked = secretValues({ envs: vars, secret_names });
  if (issues.length > 0) {
    const all = [...issues, ...nulls];
    const where = input.fileName ? `${input.fileName}: ` : "";
    const msg = `${where}the service spec is invalid (${all.length} problem${all.length === 1 ? "" : "s"})`;
    return { ok: false, error: redactError(new YardError("SY_ERR_SPEC_INVALID", msg, all), masked) };
  }
  if (nulls.length > 0) return { ok: false, error: nullEnvError(nulls) };
  if (!parsed.success || port === undefined || name.name === undefined) {
    return {
      ok: false,
      error: new YardError("SY_ERR_INTERNAL", "spec resolution reached an impossible state"),
    };
  }

  const spec = ResolvedSpec.safeParse({
    schema: SPEC_SCHEMA_VERSION,
    name: name.name,
    envs: vars,
    secret_names,
    resources: { accelerators: res.accelerators, ports: res.ports, other: res.other },
    setup: task.setup,
    run: task.run,
    workdir: task.workdir,
    service: normaliseService(parsed.data, port),
    ignored_keys: task.ignored,
    warnings: warnings.map((w) => redactMessage(w, masked)),
  });
  if (!spec.success) {
    const detail = fromZod(spec.error, "");
    return {
      ok: false,
      error: redactError(new YardError("SY_ERR_INTERNAL", "resolved spec failed its schema", detail), masked),
    };
  }
  const frozen = deepFreeze(spec.data);
  return { ok: true, spec: frozen, warnings: [...frozen.warnings] };
}
