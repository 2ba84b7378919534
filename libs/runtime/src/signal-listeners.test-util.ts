import { afterEach } from "vitest";

/**
 * onShutdown's signal handlers are real process listeners: call the returned function in a
 * case before code that adds them, and the ones it added are removed after that case.
 */
export function removesSignalListenersAfterEach(): () => void {
  let added: (() => void) | null = null;
  afterEach(() => {
    added?.();
    added = null;
  });
  return () => {
    const before = new Set([...process.listeners("SIGTERM"), ...process.listeners("SIGINT")]);
    added = () => {
      for (const sig of ["SIGTERM", "SIGINT"] as const)
        for (const l of process.listeners(sig)) if (!before.has(l)) process.off(sig, l);
    };
  };
}
