// @pure: no I/O (tools/lint-boundaries checks it)
import type { LbPolicy } from "@switchyard/contracts";
import { instanceAwareLeastLoad, leastLoad } from "./least-load.js";
import { roundRobin } from "./round-robin.js";
import type { LbPolicyImpl } from "./types.js";

/** Every policy by its `load_balancing_policy` name (the names of contracts' LbPolicy). */
export const policies: Record<LbPolicy, LbPolicyImpl> = {
  round_robin: roundRobin,
  least_load: leastLoad,
  instance_aware_least_load: instanceAwareLeastLoad,
};
