import { readAll } from "@switchyard/bus";
import {
  Buckets,
  EndpointRecord,
  type ListResult,
  ReplicaRecord,
  ScaleRecord,
  type SpecRecord,
  Subjects,
  YardError,
} from "@switchyard/contracts";
import type { z } from "zod";
import type { Ctx } from "../context.js";
import { endpointOf } from "../endpoint.js";
import { scaleTable } from "../scale-view.js";
import { haltNotes, replicasTable, serviceRows, servicesTable } from "../status-view.js";

export interface StatusOptions {
  endpoint: boolean;
  json: boolean;
}

/** `yard status [NAME...]`: services (as `sky serve status`) then their replicas. */
export async function status(names: string[], o: StatusOptions, ctx: Ctx): Promise<number> {
  const bus = await ctx.bus();
  const specs: SpecRecord[] = [];
  const missing: string[] = [];
  if (names.length === 0) {
    specs.push(...(await bus.request<z.infer<typeof ListResult>>(Subjects.specList, {})).records);
  } else {
    for (const name of [...new Set(names)]) {
      try {
        specs.push(await bus.request<SpecRecord>(Subjects.specGet, { name }));
      } catch (err) {
        if (err instanceof YardError && err.code === "SY_ERR_NOT_FOUND") missing.push(name);
        else throw err;
      }
    }
  }
  // Without NAMEs, replicas of a service just removed stay listed while they shut down.
  const shown = new Set(specs.map((s) => s.name));
  const wanted = (service: string) => names.length === 0 || shown.has(service);
  const replicas = (await readAll(bus.nc, Buckets.replicas, ReplicaRecord)).filter((r) => wanted(r.service));
  const endpoints = (await readAll(bus.nc, Buckets.endpoints, EndpointRecord)).filter((e) =>
    wanted(e.service),
  );
  // The autoscaler's target and why, for the services shown (none while it does not run).
  const scale = (await readAll(bus.nc, Buckets.scale, ScaleRecord)).filter((s) => shown.has(s.service));
  const scaleOf = (name: string) => scale.find((s) => s.service === name) ?? null;
  // https:// for a service with service.tls: the proxy serves its certificate by SNI.
  const tls = new Set(specs.filter((s) => s.spec.service.tls !== null).map((s) => s.name));
  const url = (n: string) => endpointOf(n, ctx.io.env, tls.has(n));
  const rows = serviceRows(specs, replicas, endpoints, url);
  const { io } = ctx;

  if (o.json) {
    const services = rows.map((r, i) => ({ ...r, record: specs[i], autoscaler: scaleOf(r.name) }));
    io.out(JSON.stringify({ services, replicas, endpoints, missing }, null, 2));
  } else if (o.endpoint) {
    for (const r of rows) io.out(r.endpoint);
  } else if (specs.length === 0 && replicas.length === 0 && missing.length === 0) {
    io.out("No services. Start one with: pnpm yard up SERVICE_YAML");
  } else if (specs.length > 0 || replicas.length > 0) {
    io.out("Services");
    io.out(rows.length ? servicesTable(rows) : "No services.");
    io.out("");
    if (scale.length) {
      io.out("Autoscaler");
      io.out(scaleTable(scale, Date.now()));
      io.out("");
    }
    io.out("Service Replicas");
    io.out(replicas.length ? replicasTable(replicas, endpoints) : "No replicas yet.");
    const halts = haltNotes(rows);
    if (halts) io.out(`\n${halts}`);
  }
  if (missing.length === 0) return 0;
  throw new YardError("SY_ERR_NOT_FOUND", `no service named ${missing.map((m) => `'${m}'`).join(", ")}`);
}
