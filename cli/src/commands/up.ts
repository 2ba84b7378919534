import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import {
  type ApplyRequestInput,
  type ApplyResult,
  maskSpec,
  Subjects,
  secretValues,
} from "@switchyard/contracts";
import {
  checkTlsMaterial,
  parseEnvFile,
  resolveSpec,
  SECRET_NAME_RE,
  tlsMaterialError,
} from "@switchyard/service-spec";
import { stringify } from "yaml";
import { describeError, UsageError } from "../cli-error.js";
import type { Ctx } from "../context.js";
import { endpointOf } from "../endpoint.js";
import { maskedIo } from "../io.js";
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
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(code ?? err);
    throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  }
}

/** `yard up FILE`: resolve locally (--dry-run) or apply through the spec service. */
export async function up(file: string, o: UpOptions, ctx: Ctx): Promise<number> {
  const yaml = await readText(resolve(ctx.io.cwd, file), "service file");
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
    const r = resolveSpec({ yaml, name: o.name, fileName: file, envFile, env, secrets });
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
    };
    const bus = await ctx.bus();
    const res = await bus.request<ApplyResult>(Subjects.specApply, req);
    known = res.record.spec.secret_names.map((k) => given[k]).filter((v): v is string => v !== undefined);
    const { name, revision } = res.record;
    io.out(
      res.changed
        ? `Service ${name}: revision ${revision} published.`
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
