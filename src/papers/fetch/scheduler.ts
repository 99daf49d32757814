/**
 * Politeness budgets: how often and how many requests at once may go to one service.
 *
 * A budget is named ("arxiv", "huggingface", "host:example.org"). Requests in one budget start in
 * the order they asked, at least `minIntervalMs` after the previous request of the budget started
 * and after it finished, with at most `maxConcurrent` running (a "running" request holds its slot
 * until its body is read). Counting from the finish too keeps the gap the server sees at least
 * `minIntervalMs` even when a response is slow or a connection takes time to open. The process
 * shares one scheduler (`sharedScheduler`), so two fetchers running side by side still make one
 * stream of requests per service, as arXiv's terms ask ("one request every three seconds, on a
 * single connection").
 */
import { systemClock, type Clock } from "./clock.js";

export interface Politeness {
  /** Least time from the start and from the end of one request of the budget to the start of the next. */
  minIntervalMs: number;
  /** Most requests of the budget in flight at once. */
  maxConcurrent: number;
}

interface Waiter {
  politeness: Politeness;
  grant: () => void;
}

interface BudgetState {
  /** Latest start or end of a request of the budget. */
  lastActivityAt: number;
  active: number;
  /** Nobody starts before this (a server's Retry-After applies to every caller, not only the one told). */
  holdUntil: number;
  queue: Waiter[];
  /** True while one pump loop is deciding who goes next (there is never more than one per budget). */
  pumping: boolean;
  /** Cancels the pump's sleep when the queue empties, so an abandoned long wait does not keep the process alive. */
  sleepAbort?: AbortController;
}

export class RequestScheduler {
  private readonly budgets = new Map<string, BudgetState>();

  constructor(readonly clock: Clock = systemClock) {}

  /**
   * Runs `task` in the budget `key` once politeness allows; the slot is held until `task` settles.
   * Rejects without running `task` when `signal` aborts while waiting.
   */
  async run<T>(key: string, politeness: Politeness, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(key, politeness, signal);
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  /** Makes every request of the budget wait until `untilMs` (clock time), e.g. after a 429 with Retry-After. */
  holdOff(key: string, untilMs: number): void {
    const state = this.state(key);
    state.holdUntil = Math.max(state.holdUntil, untilMs);
  }

  /** Requests of the budget waiting for their turn (for diagnostics and tests). */
  waiting(key: string): number {
    return this.budgets.get(key)?.queue.length ?? 0;
  }

  private state(key: string): BudgetState {
    let state = this.budgets.get(key);
    if (!state) {
      state = { lastActivityAt: Number.NEGATIVE_INFINITY, active: 0, holdUntil: 0, queue: [], pumping: false };
      this.budgets.set(key, state);
    }
    return state;
  }

  private acquire(key: string, politeness: Politeness, signal?: AbortSignal): Promise<void> {
    if (!(politeness.maxConcurrent >= 1)) throw new RangeError(`maxConcurrent must be at least 1, got ${politeness.maxConcurrent}`);
    if (!(politeness.minIntervalMs >= 0)) throw new RangeError(`minIntervalMs must be at least 0, got ${politeness.minIntervalMs}`);
    signal?.throwIfAborted();
    const state = this.state(key);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = state.queue.indexOf(waiter);
        if (i >= 0) state.queue.splice(i, 1);
        if (state.queue.length === 0) state.sleepAbort?.abort();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        politeness,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      state.queue.push(waiter);
      this.pump(state);
    });
  }

  private release(key: string): void {
    const state = this.state(key);
    state.active -= 1;
    state.lastActivityAt = Math.max(state.lastActivityAt, this.clock.now());
    this.pump(state);
  }

  private pump(state: BudgetState): void {
    if (state.pumping) return;
    state.pumping = true;
    void (async () => {
      try {
        for (;;) {
          const next = state.queue[0];
          // Nothing to do, or every slot taken: release() pumps again when one frees up.
          if (!next || state.active >= next.politeness.maxConcurrent) return;
          const readyAt = Math.max(state.lastActivityAt + next.politeness.minIntervalMs, state.holdUntil);
          const wait = readyAt - this.clock.now();
          if (wait > 0) {
            state.sleepAbort = new AbortController();
            try {
              await this.clock.sleep(wait, state.sleepAbort.signal);
            } catch {
              // The queue emptied (its waiters aborted): loop once more and stop.
            }
            continue; // look again: the head may have changed, or holdUntil moved
          }
          state.queue.shift();
          state.active += 1;
          state.lastActivityAt = this.clock.now();
          next.grant();
        }
      } finally {
        state.pumping = false;
      }
    })();
  }
}

/** The process-wide scheduler every fetcher uses unless told otherwise. */
export const sharedScheduler = new RequestScheduler();
