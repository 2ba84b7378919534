// @pure: no I/O (tools/lint-boundaries checks it)
import type { V1Toleration } from "@kubernetes/client-node";

const KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

/** `key=value,key2=value2` (YARD_K8S_SPOT_NODE_SELECTOR) → a node selector; throws naming the bad entry. */
export function parseNodeSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(",")) {
    const e = raw.trim();
    if (!e) continue;
    const [k, v, ...rest] = e.split("=");
    if (rest.length || v === undefined || !KEY.test(k) || !VALUE.test(v))
      throw new Error(`bad node selector entry "${e}": expected label-key=value`);
    out[k] = v;
  }
  return out;
}

/**
 * `key=value:Effect,key:Effect,key` (YARD_K8S_SPOT_TOLERATIONS) → tolerations: with a value it
 * tolerates that taint (Equal), without one any value of the key (Exists); without an effect,
 * every effect.
 */
export function parseTolerations(text: string): V1Toleration[] {
  const out: V1Toleration[] = [];
  for (const raw of text.split(",")) {
    const e = raw.trim();
    if (!e) continue;
    const m = /^([^=:]+)(?:=([^:]*))?(?::(\w+))?$/.exec(e);
    const effect = m?.[3];
    if (
      !m ||
      !KEY.test(m[1]) ||
      (m[2] !== undefined && !VALUE.test(m[2])) ||
      (effect !== undefined && !(EFFECTS as readonly string[]).includes(effect))
    )
      throw new Error(`bad toleration "${e}": expected key[=value][:${EFFECTS.join("|")}]`);
    out.push({
      key: m[1],
      operator: m[2] === undefined ? "Exists" : "Equal",
      ...(m[2] !== undefined ? { value: m[2] } : {}),
      ...(effect ? { effect } : {}),
    });
  }
  return out;
}
