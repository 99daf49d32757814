/** What the chat load benchmarks (bench:discord, bench:slack) send: the same mix on both platforms. */
import { startTsWorker } from "../src/ts-worker.js";
import type { PaperStore } from "../src/search/paper-store.js";

export interface PaperRef {
  id: string;
  title: string;
}

/** `count` stored papers picked at random (rowids are sparse after updates: misses are retried). */
export function pickPaperRefs(store: PaperStore, count: number, rand: () => number): PaperRef[] {
  const maxRowid = store.paperCountHint() * 2 + 10;
  const refs: PaperRef[] = [];
  for (let i = 0; refs.length < count && i < 100 * count; i++) {
    const p = store.getByRowid(1 + Math.floor(rand() * maxRowid));
    if (p) refs.push({ id: p.id, title: p.title });
  }
  return refs;
}

/** A /paper query: 3 to 6 consecutive words of the paper's title ("learning" for an empty title). */
export function titleSpan(title: string, rand: () => number): string {
  const words = title.split(/\s+/).filter(Boolean);
  const len = 3 + Math.floor(rand() * 4);
  const from = Math.floor(rand() * Math.max(1, words.length - len));
  return words.slice(from, from + len).join(" ") || "learning";
}

/** The load generator's worker thread, seen from the bot's thread: messages by type, and a clean end. */
export interface LoadWorker<M extends { type: string }> {
  /** The first message of this type (waits for it). */
  next(type: M["type"]): Promise<M>;
  post(message: unknown): void;
  /** Tells the worker the bot has stopped and waits for it to exit. */
  finish(): Promise<void>;
}

/**
 * Runs the benchmark script `scriptUrl` again on a worker thread (its fake chat service and load
 * generator), so their CPU time is not the bot's thread's. A worker error ends the process.
 */
export function startLoadWorker<M extends { type: string }>(name: string, scriptUrl: string, data: Record<string, unknown>): LoadWorker<M> {
  const w = startTsWorker(scriptUrl, { workerData: { ...data, args: process.argv.slice(2) } });
  const messages: M[] = [];
  const waiters: (() => void)[] = [];
  w.on("message", (m: M) => {
    messages.push(m);
    for (const f of waiters.splice(0)) f();
  });
  w.on("error", (err) => {
    process.stderr.write(`${name} worker: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
  return {
    async next(type) {
      for (;;) {
        const m = messages.find((x) => x.type === type);
        if (m) return m;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    post: (message) => w.postMessage(message),
    async finish() {
      const exited = new Promise((resolve) => w.once("exit", resolve));
      w.postMessage("stop");
      await exited;
    },
  };
}
