/**
 * Searches for a chat bot, run on worker threads so the thread that answers Discord and Slack never
 * waits for one: a Slack ack, a Discord deferral or a gateway heartbeat is sent while searches run,
 * and on a machine with two or more cores the search of one command overlaps the network and
 * rendering work of the others.
 *
 * Each worker opens the index read-only with its own embedder, so each holds a copy of the HNSW
 * graph and the BM25 index in memory; the bot's main thread, whose searches run here, holds neither
 * unless something there needs them (PaperIndex's deferVectorGraph; a digest builds BM25), and no
 * model: what it embeds goes to a worker (ThreadEmbedder, below). Given the main thread's store
 * (`papersOf`), a worker answers with ranked row ids and the papers are read here: under load the
 * worker is the bottleneck and this thread has CPU to spare (RankedHit). One worker
 * is the default (SEARCH_THREADS), 0 runs searches on the calling thread. A worker answers one
 * request at a time, in order; requests wait in one queue here and go to a worker with room. A
 * worker that dies fails the requests it held with an error and is started again for the next.
 */
import type { Worker } from "node:worker_threads";
import { startTsWorker } from "../ts-worker.js";
import type { PrecisionSetting } from "../embed/precision.js";
import type { Device, EmbedKind, EmbedResult, Embedder } from "../embed/types.js";
import type { LogFields, Logger, LogLevel } from "../log.js";
import {
  hitsWithPapers,
  PaperNotFoundError,
  SearchInputError,
  type PaperIndex,
  type QueryOptions,
  type RankedHit,
  type RankedRelated,
  type RelatedResult,
} from "./paper-index.js";
import type { SearchHit, StoredPaper } from "./types.js";
import { PaperhoundError } from "../errors.js";

/** What a search waiting on, or sent to, stopped threads fails with. */
const STOPPED = "the search threads were stopped";

/**
 * Queries a worker holds at once: the one it answers and the next, already in its port so that it
 * starts at once when the first is done (without waiting for this thread to hand it over).
 */
const QUERIES_PER_WORKER = 2;

/** What chat commands ask of the search core; `PaperIndex` does it on the calling thread. */
export interface PaperSearch {
  search(query: string, opts?: QueryOptions): Promise<SearchHit[]>;
  related(ref: string, opts?: QueryOptions): Promise<RelatedResult>;
  resolvePaper(ref: string): Promise<StoredPaper>;
}

/** Searches on the calling thread (SEARCH_THREADS=0, the CLI, tests). */
export function searchOnThisThread(index: PaperIndex): PaperSearch {
  return {
    search: (query, opts) => index.search(query, opts),
    related: (ref, opts) => index.related(ref, opts),
    resolvePaper: async (ref) => index.resolvePaper(ref),
  };
}

/** What a search worker needs to open the index as the main thread would. */
export interface SearchWorkerSetup {
  dir: string;
  embedder: { model: string; device: "auto" | "cpu" | "cuda"; precision?: PrecisionSetting; threads: number; batchSize?: number; allowRemote: boolean; modelsDir?: string };
}

export type SearchOp = "search" | "related" | "resolvePaper" | "refresh" | "embed";

/** Main → worker. */
export interface SearchRequest {
  id: number;
  op: SearchOp;
  ref: string;
  opts?: QueryOptions;
  /** "search", "related": answer with ranked hits (RankedHit); the asking thread reads their papers. */
  ranked?: boolean;
  /** "embed": the texts and their kind. */
  texts?: string[];
  kind?: EmbedKind;
}

/** An error as it crosses the thread boundary: the search core's own errors keep their class. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  candidates?: StoredPaper[];
}

/** Worker → main. */
export type SearchWorkerMessage =
  | { type: "ready"; embedder: { device: Device; batchSize: number } }
  | { type: "failed"; error: WireError }
  | { type: "result"; id: number; value: unknown }
  | { type: "error"; id: number; error: WireError }
  | { type: "log"; level: LogLevel; msg: string; fields?: LogFields };

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const wire: WireError = { name: err.name, message: err.message };
    if (err.stack) wire.stack = err.stack;
    if (err instanceof PaperNotFoundError) wire.candidates = err.candidates;
    return wire;
  }
  return { name: "Error", message: String(err) };
}

export function fromWireError(wire: WireError): Error {
  let err: Error;
  if (wire.name === "PaperNotFoundError") err = new PaperNotFoundError(wire.message, wire.candidates ?? []);
  else if (wire.name === "SearchInputError") err = new SearchInputError(wire.message);
  else {
    err = new Error(wire.message);
    // Keep the worker's class name (IndexUnusableError, DeviceError…) for logs and error mapping.
    Object.defineProperty(err, "name", { value: wire.name, enumerable: false, configurable: true, writable: true });
  }
  if (wire.stack) err.stack = wire.stack;
  return err;
}

/** The worker failed to start or died; requests it held fail with this. */
export class SearchThreadError extends PaperhoundError {
  readonly identifier = "search_thread";
  override readonly name = "SearchThreadError";
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** One worker thread holding an opened index. */
class SearchWorker {
  readonly pending = new Map<number, Pending>();
  /** Where the worker's model runs, from its "ready" (a worker is only kept once it said it). */
  embedder?: { device: Device; batchSize: number };
  private constructor(readonly worker: Worker) {}

  static start(setup: SearchWorkerSetup, logger: Logger, onExit: (w: SearchWorker, err: Error) => void): Promise<SearchWorker> {
    const worker = startTsWorker(new URL("./search-worker.ts", import.meta.url).href, { workerData: setup, stdout: false, stderr: false });
    const self = new SearchWorker(worker);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on("message", (m: SearchWorkerMessage) => {
        switch (m.type) {
          case "ready":
            started = true;
            self.embedder = m.embedder;
            resolve(self);
            return;
          case "failed":
            reject(fromWireError(m.error));
            void worker.terminate();
            return;
          case "log":
            logger[m.level](m.msg, { ...m.fields, thread: "search" });
            return;
          case "result":
          case "error": {
            const p = self.pending.get(m.id);
            if (!p) return;
            self.pending.delete(m.id);
            if (m.type === "result") p.resolve(m.value);
            else p.reject(fromWireError(m.error));
            return;
          }
        }
      });
      const died = (err: Error) => {
        if (!started) {
          reject(err);
          return;
        }
        for (const p of self.pending.values()) p.reject(err);
        self.pending.clear();
        onExit(self, err);
      };
      worker.on("error", (err) => died(new SearchThreadError(`the search thread failed: ${err.message}`)));
      worker.on("exit", (code) => died(new SearchThreadError(`the search thread stopped (exit code ${code})`)));
    });
  }

  request(req: SearchRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.postMessage(req);
    });
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners("exit");
    for (const p of this.pending.values()) p.reject(new SearchThreadError(STOPPED));
    this.pending.clear();
    await this.worker.terminate();
  }
}

/** Searches on `count` worker threads (≥ 1), each with the index in `setup.dir` opened read-only. */
export class SearchThreads implements PaperSearch {
  private workers: (SearchWorker | undefined)[];
  private starting: (Promise<SearchWorker> | undefined)[];
  private nextId = 1;
  private stopped = false;
  /** Queries not yet handed to a worker, oldest first. */
  private readonly waiting: (Pending & { req: SearchRequest })[] = [];
  /** Queries handed to each slot's worker and not answered yet. */
  private readonly inFlight: number[];

  private constructor(
    private readonly setup: SearchWorkerSetup,
    private readonly logger: Logger,
    count: number,
    private readonly papersOf?: (rowids: number[]) => StoredPaper[],
  ) {
    this.workers = new Array<SearchWorker | undefined>(count).fill(undefined);
    this.starting = new Array<Promise<SearchWorker> | undefined>(count).fill(undefined);
    this.inFlight = new Array<number>(count).fill(0);
  }

  /**
   * Starts every worker; resolves when all have opened the index (or rejects with the first failure).
   * `papersOf` (the calling thread's store): the workers answer with ranked hits and their papers are
   * read here, so a worker neither reads nor copies them (RankedHit). Without it, workers send papers.
   */
  static async start(setup: SearchWorkerSetup, opts: { count: number; logger: Logger; papersOf?: (rowids: number[]) => StoredPaper[] }): Promise<SearchThreads> {
    if (!Number.isInteger(opts.count) || opts.count < 1) throw new RangeError(`SearchThreads needs at least one thread, got ${opts.count}`);
    const threads = new SearchThreads(setup, opts.logger, opts.count, opts.papersOf);
    try {
      await Promise.all(threads.workers.map((_, slot) => threads.worker(slot)));
    } catch (err) {
      await threads.close();
      throw err;
    }
    return threads;
  }

  get size(): number {
    return this.workers.length;
  }

  async search(query: string, opts?: QueryOptions): Promise<SearchHit[]> {
    const papersOf = this.papersOf;
    if (!papersOf) return (await this.send("search", query, opts)) as SearchHit[];
    return hitsWithPapers((await this.send("search", query, opts, { ranked: true })) as RankedHit[], papersOf);
  }

  async related(ref: string, opts?: QueryOptions): Promise<RelatedResult> {
    const papersOf = this.papersOf;
    if (!papersOf) return (await this.send("related", ref, opts)) as RelatedResult;
    const { paper, hits } = (await this.send("related", ref, opts, { ranked: true })) as RankedRelated;
    return { paper, hits: hitsWithPapers(hits, papersOf) };
  }

  resolvePaper(ref: string): Promise<StoredPaper> {
    return this.send("resolvePaper", ref) as Promise<StoredPaper>;
  }

  /** Texts embedded by a worker's model (the main thread of a bot holds none: ThreadEmbedder). */
  embedDetailed(texts: readonly string[], kind: EmbedKind): Promise<EmbedResult[]> {
    return this.send("embed", "", undefined, { texts: [...texts], kind }) as Promise<EmbedResult[]>;
  }

  /** Where the workers' model runs and its batch size (as the first running worker said when it started). */
  get embedderInfo(): { device: Device; batchSize: number } | undefined {
    return this.workers.find((w) => w !== undefined)?.embedder;
  }

  /**
   * Every running worker picks up what the indexer committed (`PaperIndex.refresh`, then its BM25
   * index is rebuilt before the next search needs it); resolves to whether any changed. A worker
   * not running now opens the current index when it starts.
   */
  async refresh(): Promise<boolean> {
    if (this.stopped) return false;
    const changed = await Promise.all(
      this.workers.map((w) => (w ? (w.request({ id: this.nextId++, op: "refresh", ref: "" }) as Promise<boolean>) : Promise.resolve(false))),
    );
    return changed.some(Boolean);
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiting.splice(0)) w.reject(new SearchThreadError(STOPPED));
    const all = await Promise.allSettled(this.workers.map((w, slot) => w ?? this.starting[slot]));
    await Promise.all(all.map((r) => (r.status === "fulfilled" && r.value ? r.value.stop() : undefined)));
    this.workers.fill(undefined);
  }

  /**
   * Queries wait here, in one queue for all workers, and go to a worker only when it holds fewer
   * than QUERIES_PER_WORKER: a worker answers one at a time, so a query handed to a busy worker
   * would wait behind its queue even when another worker is free.
   */
  private send(op: SearchOp, ref: string, opts?: QueryOptions, extra?: Pick<SearchRequest, "texts" | "kind" | "ranked">): Promise<unknown> {
    if (this.stopped) return Promise.reject(new SearchThreadError(STOPPED));
    const req: SearchRequest = { id: this.nextId++, op, ref, ...extra };
    if (opts !== undefined) req.opts = opts;
    return new Promise((resolve, reject) => {
      this.waiting.push({ req, resolve, reject });
      this.dispatch();
    });
  }

  /** Hands waiting queries, oldest first, to workers with room (a dead worker's slot restarts it). */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.slotWithRoom();
      if (slot === undefined) return;
      const { req, resolve, reject } = this.waiting.shift()!;
      // Queries still waiting: the threads are the bottleneck, so this one spends no CPU on overlapping (QueryOptions.overlap).
      if (this.waiting.length > 0 && (req.op === "search" || req.op === "related")) req.opts = { ...req.opts, overlap: false };
      this.inFlight[slot]!++;
      this.worker(slot)
        .then((w) => w.request(req))
        .then(resolve, reject)
        .finally(() => {
          this.inFlight[slot]!--;
          this.dispatch();
        });
    }
  }

  /** The slot holding the fewest queries, if it holds fewer than QUERIES_PER_WORKER. */
  private slotWithRoom(): number | undefined {
    let best: number | undefined;
    this.inFlight.forEach((n, slot) => {
      if (n < QUERIES_PER_WORKER && (best === undefined || n < this.inFlight[best]!)) best = slot;
    });
    return best;
  }

  private worker(slot: number): Promise<SearchWorker> {
    const running = this.workers[slot];
    if (running) return Promise.resolve(running);
    const starting = this.starting[slot];
    if (starting) return starting;
    const started = SearchWorker.start(this.setup, this.logger, (dead, err) => {
      if (this.workers[slot] === dead) this.workers[slot] = undefined;
      if (!this.stopped) this.logger.error("search thread died; it restarts on the next search", { slot, error: err.message });
    }).then(
      (w) => {
        this.starting[slot] = undefined;
        if (this.stopped) {
          void w.stop();
          throw new SearchThreadError(STOPPED);
        }
        this.workers[slot] = w;
        return w;
      },
      (err: unknown) => {
        this.starting[slot] = undefined;
        throw err;
      },
    );
    this.starting[slot] = started;
    return started;
  }
}

/**
 * The model of a bot's main thread when searches run on worker threads: the index there is opened
 * with the identity of the configured model (read from its files: `modelIdentity`), and what it
 * embeds (a digest's topics) is embedded by a search thread's model. The main thread then holds no
 * inference session and tokenizer of its own (about 40 MB at 140k papers, measured: docs/benchmarks.md).
 */
export class ThreadEmbedder implements Embedder {
  readonly modelId: string;
  readonly dim: number;
  readonly checksum: string;
  readonly maxTokens: number;

  /** `threads`: the search threads, once started (they start after the main thread's index opens). */
  constructor(
    identity: { modelId: string; dim: number; checksum: string; maxTokens: number },
    private readonly threads: () => SearchThreads | undefined,
  ) {
    this.modelId = identity.modelId;
    this.dim = identity.dim;
    this.checksum = identity.checksum;
    this.maxTokens = identity.maxTokens;
  }

  get device(): Device {
    return this.threads()?.embedderInfo?.device ?? "cpu";
  }

  get batchSize(): number {
    return this.threads()?.embedderInfo?.batchSize ?? 1;
  }

  async embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    return (await this.embedDetailed(texts, kind)).map((r) => r.vector);
  }

  embedDetailed(texts: readonly string[], kind: EmbedKind): Promise<EmbedResult[]> {
    const threads = this.threads();
    if (!threads) return Promise.reject(new SearchThreadError("the search threads, which hold the model, are not running"));
    return threads.embedDetailed(texts, kind);
  }

  /** Token counts are for splitting papers into passages, which only a writer or a search thread does. */
  countTokens(): number {
    throw new Error(`ThreadEmbedder counts no tokens: the model ${this.modelId} is held by the search threads`);
  }

  async dispose(): Promise<void> {
    // The search threads own the model and release it when they stop.
  }
}
