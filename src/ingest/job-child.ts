/**
 * The child process of `runIngestJobInChild` (job.ts): receives one job over IPC, runs it, answers
 * with the typed report or the error's message, and exits.
 */
import { createContext } from "../app/context.js";
import { IngestJobSchema, runIngestJob, type JobAnswer } from "./job.js";

process.once("message", (message: unknown) => {
  void (async () => {
    let answer: JobAnswer;
    try {
      const { job, indexDir } = message as { job: unknown; indexDir: unknown };
      if (typeof indexDir !== "string") throw new Error("the ingest job has no index directory");
      answer = { ok: true, report: await runIngestJob(createContext(), indexDir, IngestJobSchema.parse(job)) };
    } catch (err) {
      answer = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    process.send!(answer, () => process.disconnect());
  })();
});
