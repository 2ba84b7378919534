// @pure: no I/O (tools/lint-boundaries checks it)
/** Freeze an object graph so a resolved spec cannot be changed by whoever holds it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
