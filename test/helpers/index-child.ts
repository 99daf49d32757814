/**
 * Child process of test/search/crash.test.ts: indexes a paper file into an index directory with
 * the real default model, reporting on stdout as JSON lines, so the test can SIGKILL it mid-way:
 *   {"event":"open", "papers", "embedded", "pending"}     after PaperIndex.open (reconcile done)
 *   {"event":"progress", "phase", "done", "total"}        PaperIndex.add progress
 *   {"event":"done", "report"}                            add finished and the index is closed
 *
 *   node --import tsx test/helpers/index-child.ts <indexDir> <papers.jsonl>
 * The checkpoint interval comes from PAPERHOUND_CHECKPOINT_EVERY.
 */
import { loadEmbedder } from "../../src/embed/load.js";
import { readPaperFile } from "../../src/papers/sources/jsonl.js";
import type { Paper } from "../../src/papers/types.js";
import { PaperIndex } from "../../src/search/paper-index.js";

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function* papersOf(file: string): AsyncGenerator<Paper> {
  for await (const entry of readPaperFile(file)) {
    if (entry.paper) yield entry.paper;
    else process.stderr.write(`index-child: ${file}:${entry.error.line}: ${entry.error.message}\n`);
  }
}

async function main(): Promise<void> {
  const [dir, file] = process.argv.slice(2);
  if (!dir || !file) throw new Error("usage: index-child.ts <indexDir> <papers.jsonl>");
  const quiet = { info: () => undefined, warn: () => undefined };
  const embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: quiet });
  const index = await PaperIndex.open({ dir, embedder });
  const stats = index.stats();
  emit({ event: "open", papers: stats.papers, embedded: stats.embedded, pending: stats.pending });
  const report = await index.add(papersOf(file), (p) => emit({ event: "progress", ...p }));
  index.close();
  await embedder.dispose();
  emit({ event: "done", report });
}

main().catch((err: unknown) => {
  process.stderr.write(`index-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
