import type { ScaleRecord } from "@switchyard/contracts";
import { renderTable } from "./table.js";

/** Seconds since an ISO time, as `42s` / `3m` / `2h`; "" when it cannot be read. */
function age(iso: string | null | undefined, now: number): string {
  const t = iso ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function perReplica(t: ScaleRecord["target_qps_per_replica"]): string {
  if (t === null || t === undefined) return "";
  if (typeof t === "number") return `${t} QPS per replica`;
  return `QPS per replica by accelerator: ${Object.entries(t)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")}`;
}

/** Why the autoscaler's target is what it is, in one line (the record's `reason` in words). */
export function scaleWhy(r: ScaleRecord, now: number): string {
  const wanted = r.wanted_replicas ?? null;
  const per = perReplica(r.target_qps_per_replica);
  const asks = wanted === null ? "" : `the load asks for ${wanted}`;
  const since = age(r.pending_since, now);
  switch (r.reason) {
    case "min_replicas":
      return per
        ? `min_replicas: ${asks || "the load asks for no more"} (${per})`
        : "min_replicas: no target_qps_per_replica";
    case "qps":
      return `${asks} (${per})`;
    case "max_replicas":
      return `max_replicas: ${asks ? `${asks} (${per})` : "the load asks for more"}`;
    case "upscale_delay":
    case "downscale_delay":
      return `${asks}${since ? ` since ${since} ago` : ""}; held for ${r.reason}_seconds`;
    case "from_zero":
      return "demand at zero replicas: scaled up at once, without the upscale delay";
    case "spec_changed":
      return `revision ${r.revision ?? "?"}: recomputed at once, without the delays`;
    case "paused":
      return `paused: waiting for a whole window of load reports (never scales down on missing data)${asks ? `; ${asks}` : ""}`;
    default:
      return "-";
  }
}

/** One row per service the autoscaler has a record for: its target, the QPS and why. */
export function scaleTable(records: readonly ScaleRecord[], now: number): string {
  return renderTable(
    ["SERVICE", "TARGET", "QPS", "WHY"],
    [...records]
      .sort((a, b) => a.service.localeCompare(b.service))
      .map((r) => [
        r.service,
        String(r.target_replicas),
        r.qps === null || r.qps === undefined ? "-" : r.qps.toFixed(2),
        scaleWhy(r, now),
      ]),
  );
}
