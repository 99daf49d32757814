import { describe, expect, it } from "vitest";
import { RequestScheduler } from "../../src/papers/fetch/scheduler.js";
import { VirtualClock } from "./virtual-clock.js";

/** A task that records when (on `clock`) it started and ends when `release` is called. */
function gatedTask(clock: VirtualClock, starts: number[]): { task: () => Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      starts.push(clock.now());
      await gate;
    },
    release: () => release(),
  };
}

describe("RequestScheduler", () => {
  it("starts the requests of a budget in order, one interval apart", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const t0 = clock.now();
    const order: string[] = [];
    const starts: number[] = [];
    await Promise.all(
      ["a", "b", "c"].map((name) =>
        scheduler.run("arxiv", { minIntervalMs: 3000, maxConcurrent: 1 }, async () => {
          order.push(name);
          starts.push(clock.now() - t0);
        }),
      ),
    );
    expect(order).toEqual(["a", "b", "c"]);
    expect(starts).toEqual([0, 3000, 6000]);
  });

  it("counts the interval from the end of a slow request too", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const t0 = clock.now();
    const spans: [number, number][] = [];
    const slowTask = async (): Promise<void> => {
      const start = clock.now() - t0;
      clock.time += 5000; // a response that takes 5 s
      spans.push([start, clock.now() - t0]);
    };
    await Promise.all([1, 2].map(() => scheduler.run("arxiv", { minIntervalMs: 3000, maxConcurrent: 1 }, slowTask)));
    expect(spans).toEqual([
      [0, 5000],
      [8000, 13000],
    ]);
  });

  it("runs one request at a time when maxConcurrent is 1, whatever the interval", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const starts: number[] = [];
    const first = gatedTask(clock, starts);
    const second = gatedTask(clock, starts);
    const p1 = scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, first.task);
    const p2 = scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, second.task);
    await new Promise((r) => setTimeout(r, 20));
    expect(starts).toHaveLength(1);
    expect(scheduler.waiting("arxiv")).toBe(1);
    first.release();
    await p1;
    await new Promise((r) => setTimeout(r, 20));
    expect(starts).toHaveLength(2);
    second.release();
    await p2;
  });

  it("lets several run at once up to maxConcurrent", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const starts: number[] = [];
    const tasks = [gatedTask(clock, starts), gatedTask(clock, starts), gatedTask(clock, starts)];
    const runs = tasks.map((t) => scheduler.run("host:x", { minIntervalMs: 0, maxConcurrent: 2 }, t.task));
    await new Promise((r) => setTimeout(r, 20));
    expect(starts).toHaveLength(2);
    tasks[0]!.release();
    await runs[0];
    await new Promise((r) => setTimeout(r, 20));
    expect(starts).toHaveLength(3);
    tasks[1]!.release();
    tasks[2]!.release();
    await Promise.all(runs);
  });

  it("keeps budgets apart", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const t0 = clock.now();
    const starts: Record<string, number> = {};
    await Promise.all([
      scheduler.run("arxiv", { minIntervalMs: 3000, maxConcurrent: 1 }, async () => void (starts.a1 = clock.now() - t0)),
      scheduler.run("arxiv", { minIntervalMs: 3000, maxConcurrent: 1 }, async () => void (starts.a2 = clock.now() - t0)),
      scheduler.run("huggingface", { minIntervalMs: 1000, maxConcurrent: 1 }, async () => void (starts.h1 = clock.now() - t0)),
    ]);
    expect(starts.a1).toBe(0);
    expect(starts.h1).toBeLessThan(3000);
    expect(starts.a2).toBeGreaterThanOrEqual(3000);
  });

  it("holds every request of a budget back after holdOff", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const t0 = clock.now();
    scheduler.holdOff("arxiv", t0 + 120_000);
    let startedAt = -1;
    await scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, async () => void (startedAt = clock.now() - t0));
    expect(startedAt).toBeGreaterThanOrEqual(120_000);
    // Another budget is not held.
    let otherAt = -1;
    const t1 = clock.now();
    scheduler.holdOff("arxiv", t1 + 60_000);
    await scheduler.run("huggingface", { minIntervalMs: 0, maxConcurrent: 1 }, async () => void (otherAt = clock.now() - t1));
    expect(otherAt).toBe(0);
  });

  it("drops a waiter whose signal aborts, without running its task", async () => {
    const clock = new VirtualClock();
    const scheduler = new RequestScheduler(clock);
    const starts: number[] = [];
    const first = gatedTask(clock, starts);
    const p1 = scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, first.task);
    const controller = new AbortController();
    let ran = false;
    const p2 = scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, async () => void (ran = true), controller.signal);
    controller.abort(new Error("stop"));
    await expect(p2).rejects.toThrow("stop");
    expect(scheduler.waiting("arxiv")).toBe(0);
    first.release();
    await p1;
    // The budget still works afterwards.
    await scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, async () => {});
    expect(ran).toBe(false);
  });

  it("frees the slot when a task fails", async () => {
    const scheduler = new RequestScheduler(new VirtualClock());
    await expect(
      scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(scheduler.run("arxiv", { minIntervalMs: 0, maxConcurrent: 1 }, async () => 42)).resolves.toBe(42);
  });

  it("rejects a nonsensical politeness", async () => {
    const scheduler = new RequestScheduler(new VirtualClock());
    await expect(scheduler.run("x", { minIntervalMs: 0, maxConcurrent: 0 }, async () => 1)).rejects.toThrow(RangeError);
    await expect(scheduler.run("x", { minIntervalMs: -1, maxConcurrent: 1 }, async () => 1)).rejects.toThrow(RangeError);
  });
});
