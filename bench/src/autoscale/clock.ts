/** Epoch milliseconds with sub-millisecond resolution: one clock for every time the bench takes. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
