/** What the chat load benchmarks (bench:discord, bench:slack) send: the same mix on both platforms. */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { startTsWorker } from "../src/ts-worker.js";
import type { PaperStore } from "../src/search/paper-store.js";

/** The options both chat load benchmarks take; `heartbeat` (ms) is Discord's gateway interval. */
export interface ChatLoadArgs {
  index: string | undefined;
  n: number;
  concurrency: number;
  related: number;
  warmup: number;
  heartbeat: number;
}

/**
 * Parses the benchmark's arguments: the command line on the main thread, the same strings passed
 * on to the load worker in its thread (both threads must agree). A bad option is named on stderr
 * and the process exits 2 (usage), before anything starts.
 */
export function chatLoadArgs(bench: string): ChatLoadArgs {
  try {
    return parseChatLoadArgs();
  } catch (err) {
    process.stderr.write(`${bench}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

function parseChatLoadArgs(): ChatLoadArgs {
  const { values } = parseArgs({
    args: isMainThread ? process.argv.slice(2) : (workerData as { args: string[] }).args,
    options: {
      index: { type: "string" },
      n: { type: "string", default: "200" },
      concurrency: { type: "string", default: "20" },
      related: { type: "string", default: "0.2" },
      // Not timed, one at a time. A fresh bot's first few hundred commands run before V8 has compiled
      // the hot code: with 10 of them, 200 timed interactions measured p99 104-118 ms where the same
      // 200 after 300 measured 81-91 (docs/discord.md). The figures are meant for a running bot.
      warmup: { type: "string", default: "300" },
      heartbeat: { type: "string", default: "250" },
    },
  });
  const whole = (name: "n" | "concurrency" | "warmup" | "heartbeat", min: number): number => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${values[name]}"`);
    return n;
  };
  const related = Number(values.related);
  if (!(related >= 0 && related <= 1)) throw new Error(`--related must be a share between 0 and 1, got "${values.related}"`);
  return { index: values.index, n: whole("n", 1), concurrency: whole("concurrency", 1), related, warmup: whole("warmup", 0), heartbeat: whole("heartbeat", 1) };
}

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

const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ, what /proc reports CPU times in

/** CPU time (user + system) of the calling thread in ms, from /proc/thread-self/stat; undefined off Linux. */
function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** CPU time of the whole process, all threads, in ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Where the CPU went during the timed load, per command: the bot's main thread (chat library,
 * command handling, rendering), the load worker (the fake chat service and the load generator:
 * another machine in production), and the rest of the process (search threads, ONNX Runtime and
 * libuv threads, GC helpers). On 2 cores the three compete; this says which one bounds throughput.
 */
export interface CpuSplit {
  botMainMs: number;
  loadWorkerMs: number;
  searchAndOtherMs: number;
}

/**
 * The load worker's timed phase: `n` calls of `one`, `concurrency` at a time. Tells the bot's thread
 * it starts ("timed", for `startCpuSplit`); returns its wall time and this thread's CPU time.
 */
export async function runTimedLoad(n: number, concurrency: number, one: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number | undefined }> {
  parentPort!.postMessage({ type: "timed" });
  const cpu0 = threadCpuMs();
  const wall0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        await one();
      }
    }),
  );
  const wallMs = performance.now() - wall0;
  const cpu1 = threadCpuMs();
  return { wallMs, cpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined };
}

/** Started by the bot's thread when the load worker says the timed phase began. */
export function startCpuSplit(): { finish(loadWorkerMs: number | undefined, commands: number): CpuSplit | undefined } {
  const main0 = threadCpuMs();
  const proc0 = processCpuMs();
  return {
    finish(loadWorkerMs, commands) {
      const main1 = threadCpuMs();
      const proc1 = processCpuMs();
      if (main0 === undefined || main1 === undefined || loadWorkerMs === undefined || commands === 0) return undefined;
      const botMain = main1 - main0;
      return {
        botMainMs: botMain / commands,
        loadWorkerMs: loadWorkerMs / commands,
        searchAndOtherMs: Math.max(0, proc1 - proc0 - botMain - loadWorkerMs) / commands,
      };
    },
  };
}

/** The CPU split as one table row's text. */
export function describeCpuSplit(split: CpuSplit | undefined): string {
  if (!split) return "n/a (needs Linux /proc)";
  const total = split.botMainMs + split.loadWorkerMs + split.searchAndOtherMs;
  return `${total.toFixed(1)} ms: bot main thread ${split.botMainMs.toFixed(1)}, search and other threads ${split.searchAndOtherMs.toFixed(1)}, fake service + load generator ${split.loadWorkerMs.toFixed(1)}`;
}
