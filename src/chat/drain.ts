/** How long an adapter's stop() waits for the commands in flight (a search takes milliseconds; REST may retry after a 429). */
export const DRAIN_MS = 10_000;

/** Waits for `work` to settle, at most `ms`; true when all of it did (graceful shutdown of the adapters). */
export async function settleWithin(work: Iterable<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([Promise.allSettled([...work]).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
