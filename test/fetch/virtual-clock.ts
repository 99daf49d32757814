/**
 * A clock whose sleeps return at once and move its time forward, for checking long waits
 * (Retry-After, 3 s politeness gaps) without spending them. Every sleep is recorded.
 */
import type { Clock } from "../../src/papers/fetch/clock.js";

export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];

  /** Starts on a whole second, so HTTP dates (second precision) convert exactly. */
  constructor(public time = Date.UTC(2026, 10, 2, 12, 0, 0)) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
    // Let other tasks run, as a real sleep would.
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  }
}
