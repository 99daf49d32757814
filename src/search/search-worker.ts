/**
 * Entry of a search worker thread (see search-threads.ts): opens the index read-only with its own
 * embedder, says "ready", then answers search, related and resolvePaper requests until terminated.
 * Log lines go to the main thread's logger.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadEmbedder } from "../embed/load.js";
import type { Embedder } from "../embed/types.js";
import { levelEnabled, type LogFields, type Logger, type LogLevel } from "../log.js";
import { PaperIndex } from "./paper-index.js";
import { toWireError, type SearchRequest, type SearchWorkerMessage, type SearchWorkerSetup } from "./search-threads.js";

const port = parentPort!;
const setup = workerData as SearchWorkerSetup;

function post(m: SearchWorkerMessage): void {
  port.postMessage(m);
}

function forwardingLogger(level: LogLevel, bound: LogFields = {}): Logger {
  const enabled = (l: LogLevel) => levelEnabled(l, level);
  const write = (l: LogLevel) => (msg: string, fields?: LogFields) => {
    if (!enabled(l)) return;
    const all = { ...bound, ...fields };
    try {
      post({ type: "log", level: l, msg, fields: all });
    } catch {
      // A field that cannot be cloned (a function, a socket): send its text instead.
      post({ type: "log", level: l, msg, fields: JSON.parse(JSON.stringify(all)) as LogFields });
    }
  };
  return { level, enabled, debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error"), child: (f) => forwardingLogger(level, { ...bound, ...f }) };
}

async function main(): Promise<void> {
  let embedder: Embedder | undefined;
  let index: PaperIndex;
  try {
    embedder = await loadEmbedder({ ...setup.embedder, logger: forwardingLogger("info") });
    index = await PaperIndex.open({ dir: setup.dir, embedder, readonly: true, warm: true });
  } catch (err) {
    await embedder?.dispose().catch(() => undefined);
    post({ type: "failed", error: toWireError(err) });
    return;
  }
  // Queries are answered one at a time, in the order they came. Each is CPU work on this thread
  // (onnxruntime runs the model here too, after a setImmediate), so answering them side by side
  // only interleaved them: every query in the queue finished late instead of the first ones early
  // (bench:discord at 140k, 20 in flight, alternating: p99 138-146 -> 106-124 ms). A refresh
  // mostly waits on the disk and must not hold queries up, so it runs beside the queue.
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  port.on("message", (req: SearchRequest) => {
    if (req.op === "refresh") void answer(index, req, true);
    else {
      queued++;
      // With other queries waiting (here, or in SearchThreads' queue, which then says overlap: false),
      // this thread's CPU time is what limits them all: no overlapping (QueryOptions.overlap) then.
      queue = queue.then(() => answer(index, req, --queued === 0 && req.opts?.overlap !== false));
    }
  });
  post({ type: "ready", embedder: { device: embedder.device, batchSize: embedder.batchSize } });
}

async function answer(index: PaperIndex, req: SearchRequest, overlap: boolean): Promise<void> {
  try {
    let value: unknown;
    const opts = { ...req.opts, overlap };
    if (req.op === "search") value = req.ranked ? await index.searchRanked(req.ref, opts) : await index.search(req.ref, opts);
    else if (req.op === "related") value = req.ranked ? await index.relatedRanked(req.ref, opts) : await index.related(req.ref, opts);
    else if (req.op === "resolvePaper") value = index.resolvePaper(req.ref);
    else if (req.op === "embed") value = await index.embedder.embedDetailed(req.texts ?? [], req.kind!); // SearchThreads.embedDetailed sends both
    else {
      value = await index.refresh();
      // The new papers' BM25 index is built now rather than by the next user's search.
      index.store.fullTextIndex();
    }
    post({ type: "result", id: req.id, value });
  } catch (err) {
    post({ type: "error", id: req.id, error: toWireError(err) });
  }
}

void main();
