import { open } from "node:fs/promises";
import { basename, resolve } from "node:path";
import {
  type ApplyRequestInput,
  type ApplyResult,
  type ErrorCode,
  maskSpec,
  Subjects,
  secretValues,
  type UpdateMode,
  YardError,
} from "@switchyard/contracts";
import {
  checkTlsMaterial,
  DEFAULT_SPEC_LIMITS,
  parseEnvFile,
  resolveSpec,
  SECRET_NAME_RE,
  type SpecLimits,
  tlsMaterialError,
} from "@switchyard/service-spec";
import { stringify } from "yaml";
import { describeError, UsageError } from "../cli-error.js";
import type { Ctx } from "../context.js";
import { endpointOf } from "../endpoint.js";
import { decodeUtf8, maskedIo } from "../io.js";
import { collectKeyValues } from "../kv-args.js";
import { readTlsFiles } from "../tls-files.js";
import { waitReady } from "./wait.js";

export interface UpOptions {
  name?: string;
  env: string[];
  envFile?: string;
  secret: string[];
  dryRun: boolean;
  wait: boolean;
  timeout: number;
  /** `yard update`: the service must exist; a changed spec rolls out in this mode. */
  updateMode?: UpdateMode;
}

/** Nothing larger fits one apply request (NATS's default max_payload). */
const REQUEST_BYTES = 1024 * 1024;

/**
 * A file's text, reading at most `maxBytes` + 1 bytes (`yard up /dev/zero` stops there), and
 * refusing bytes that are not UTF-8 with their offset. `code` is the error code of a file that
 * breaks those rules (SY_ERR_SPEC_YAML for the service YAML).
 */
async function readText(
  path: string,
  what: string,
  maxBytes = REQUEST_BYTES,
  code: ErrorCode = "SY_ERR_SPEC_INVALID",
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readAtMost(path, maxBytes + 1);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(code ?? err);
    throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  }
  if (bytes.length > maxBytes) {
    const message = `too large: more than the ${maxBytes} bytes a ${what} may have`;
    throw new YardError(code === "SY_ERR_SPEC_YAML" ? code : "SY_ERR_TOO_LARGE", `${path}: ${message}`, [
      { path: "", message },
    ]);
  }
  const text = decodeUtf8(bytes);
  if (!text.ok) {
    const message = `not UTF-8 at byte ${text.offset}: save the ${what} as UTF-8`;
    throw new YardError(code, `${path}: ${message}`, [{ path: `byte ${text.offset}`, message }]);
  }
  return text.text;
}

async function readAtMost(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(n);
    let total = 0;
    while (total < n) {
      const { bytesRead } = await fh.read(buf, total, n - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return buf.subarray(0, total);
  } finally {
    await fh.close();
  }
}

/**
 * The spec service's replica limit, for a dry run: the same env var when set here (as `pnpm
 * start` passes the caller's environment on), else the default. The server's own setting decides.
 */
function limitsFromEnv(env: Record<string, string | undefined>): Partial<SpecLimits> {
  const raw = env.YARD_MAX_REPLICAS_PER_SERVICE;
  if (raw === undefined || raw === "") return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError("YARD_MAX_REPLICAS_PER_SERVICE must be a whole number ≥ 1");
  return { maxReplicasPerService: n };
}

/** `yard up FILE`: resolve locally (--dry-run) or apply through the spec service. */
export async function up(file: string, o: UpOptions, ctx: Ctx): Promise<number> {
  const yaml = await readText(
    resolve(ctx.io.cwd, file),
    "service file",
    DEFAULT_SPEC_LIMITS.maxYamlBytes,
    "SY_ERR_SPEC_YAML",
  );
  const envFile = o.envFile
    ? parseEnvFile(await readText(resolve(ctx.io.cwd, o.envFile), "env file"), o.envFile)
    : {};
  const env = collectKeyValues(o.env, "--env", ctx.io.env);
  const secrets = collectKeyValues(o.secret, "--secret", ctx.io.env);

  // Until the spec says which names are secret, hide every --secret value and every value of
  // a secret-looking env name; afterwards, exactly the spec's secrets too.
  const guessed = [
    ...Object.values(secrets),
    ...Object.entries({ ...envFile, ...env })
      .filter(([k]) => SECRET_NAME_RE.test(k))
      .map(([, v]) => v),
  ];
  let known: string[] = [];
  const io = maskedIo(ctx.io, () => [...guessed, ...known]);
  const given = { ...envFile, ...env, ...secrets };
  try {
    return await apply();
  } catch (err) {
    // Printed here, through the masking Io, rather than by the program's generic handler.
    const d = describeError(err);
    io.err(d.text);
    return d.code;
  }

  async function apply(): Promise<number> {
    // Resolved here as well: `service.tls` names files that only this machine can read, and the
    // request carries their contents. A spec that does not resolve gets its error from the server.
    const limits = limitsFromEnv(ctx.io.env);
    const r = resolveSpec({ yaml, name: o.name, fileName: file, envFile, env, secrets, limits });
    const tlsFiles = r.ok ? r.spec.service.tls : null;
    const where = { cwd: ctx.io.cwd, home: ctx.io.env.HOME };
    const tls = tlsFiles ? await readTlsFiles(tlsFiles, where, readText) : undefined;
    if (tls) guessed.push(tls.key);
    if (o.dryRun) {
      if (!r.ok) throw r.error;
      known = secretValues(r.spec);
      const cert = tls ? checkTlsMaterial(tls) : null;
      if (cert && !cert.ok) throw tlsMaterialError(cert.issues);
      io.out(`# ${r.spec.name}: resolved from ${file} (dry run: nothing stored; secrets shown as ***)`);
      if (cert?.ok)
        io.out(
          `# service.tls: ${cert.facts.subject}, SHA-256 ${cert.facts.fingerprint256}, until ${cert.facts.notAfter}`,
        );
      io.out(stringify(maskSpec(r.spec), { lineWidth: 0 }).trimEnd());
      for (const w of r.warnings) io.err(`warning: ${w}`);
      return 0;
    }

    const req: ApplyRequestInput = {
      yaml,
      name: o.name,
      file_name: basename(file),
      env_file: envFile,
      env,
      secrets,
      tls,
      ...(o.updateMode ? { update_mode: o.updateMode } : {}),
    };
    const bus = await ctx.bus();
    // The client would refuse to publish it anyway, with a message that names no limit.
    const size = Buffer.byteLength(JSON.stringify(req));
    const max = bus.nc.info?.max_payload;
    if (max !== undefined && size > max)
      throw new YardError(
        "SY_ERR_TOO_LARGE",
        `the apply request is ${size} bytes; the NATS server takes at most ${max} bytes in one message (its max_payload): nothing was sent`,
      );
    const res = await bus.request<ApplyResult>(Subjects.specApply, req);
    known = res.record.spec.secret_names.map((k) => given[k]).filter((v): v is string => v !== undefined);
    const { name, revision } = res.record;
    const how = o.updateMode ? ` (${o.updateMode.replace("_", "-")} update)` : "";
    io.out(
      res.changed
        ? `Service ${name}: revision ${revision} published${how}.`
        : `Service ${name}: unchanged, revision ${revision} (identical to the stored spec).`,
    );
    for (const w of res.warnings) io.err(`warning: ${w}`);
    const endpoint = endpointOf(name, ctx.io.env, res.record.spec.service.tls !== null);
    io.out(`Endpoint: ${endpoint}  (through the Switchyard proxy)`);
    if (!o.wait) {
      io.out(`Status:   pnpm yard status ${name}`);
      return 0;
    }
    return waitReady({ bus, io, service: name, revision, timeoutS: o.timeout });
  }
}
