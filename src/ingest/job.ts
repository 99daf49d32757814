/**
 * The fetches the bot asks for, as typed jobs: for the daily digest, Hugging Face daily papers of a
 * range of days or arXiv's latest announcements of some categories; for chat, papers by arXiv id. A job runs in this process (`runIngestJob`)
 * or, as the bot does it, in a child process of its own (`runIngestJobInChild`: its own memory, its
 * logs kept out of the bot's output) that receives the job and sends back the typed report over
 * Node's IPC channel.
 */
import { fork } from "node:child_process";
import path from "node:path";
import { z } from "zod";
import type { AppContext } from "../app/context.js";
import { indexLocation } from "../app/open-index.js";
import { isArxivCategoryCode, isCalendarDate } from "../papers/checks.js";
import { parseArxivRef } from "../papers/arxiv-id.js";
import { projectRoot } from "../paths.js";
import { runIngest, type IngestRunReport } from "./run.js";
import { arxivIdsSource, arxivRssSource, hfDailySource, type IngestSource } from "./sources.js";

/** Ids one chat fetch may ask for (one arXiv API request holds 100 at most). */
export const MAX_JOB_IDS = 100;

const day = z.string().refine((d) => isCalendarDate(d, { dayOnly: true }), "expected a day as YYYY-MM-DD");

export const IngestJobSchema = z.discriminatedUnion("source", [
  z.object({ source: z.literal("hf-daily"), since: day, until: day }).strict(),
  z.object({ source: z.literal("arxiv-rss"), categories: z.array(z.string().refine(isArxivCategoryCode, "expected an arXiv category")).min(1) }).strict(),
  z.object({ source: z.literal("arxiv-ids"), ids: z.array(z.string().refine((id) => parseArxivRef(id) !== undefined, "expected an arXiv id")).min(1).max(MAX_JOB_IDS) }).strict(),
]);

export type IngestJob = z.infer<typeof IngestJobSchema>;

/** How a job reads in logs: the equivalent `paperhound ingest` arguments. */
export function describeJob(job: IngestJob): string {
  if (job.source === "hf-daily") return `hf-daily --since ${job.since} --until ${job.until}`;
  return job.source === "arxiv-rss" ? `arxiv-rss ${job.categories.join("+")}` : `arxiv ids ${job.ids.join(",")}`;
}

function sourceOf(ctx: AppContext, job: IngestJob): IngestSource {
  if (job.source === "hf-daily") return hfDailySource(ctx.config(), { since: job.since, until: job.until });
  return job.source === "arxiv-rss" ? arxivRssSource(ctx.config(), job.categories.join("+")) : arxivIdsSource(ctx.config(), job.ids);
}

/** Runs a job into the index in `indexDir`, in this process. */
export function runIngestJob(ctx: AppContext, indexDir: string, job: IngestJob): Promise<IngestRunReport> {
  return runIngest(ctx, indexLocation(ctx, { index: indexDir }), sourceOf(ctx, job));
}

/** What the parent sends the child, and what the child answers. */
export interface JobRequest {
  job: IngestJob;
  indexDir: string;
}
export type JobAnswer = { ok: true; report: IngestRunReport } | { ok: false; error: string };

/** Registers tsx (a child does not inherit the loader the project's TypeScript runs through), then job-child.ts. */
const CHILD = path.join(projectRoot, "bin", "ingest-job.js");

/**
 * Runs a job in a child process with `env` as its environment; resolves with its report, rejects
 * with its error (or the last lines it wrote to stderr) when it fails or runs past `timeoutMs`.
 */
export function runIngestJobInChild(job: IngestJob, opts: { indexDir: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<IngestRunReport> {
  const what = `ingest ${describeJob(job)}`;
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], { env: opts.env, execArgv: [], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    let answer: JobAnswer | undefined;
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on("message", (m) => (answer = m as JobAnswer));
    const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 20 * 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (answer?.ok) return resolve(answer.report);
      if (answer) return reject(new Error(`${what} failed: ${answer.error}`));
      const tail = stderr.trim().split("\n").slice(-3).join(" | ");
      reject(new Error(`${what} ${signal ? `was stopped (${signal})` : `exited with ${code}`}${tail ? `: ${tail}` : ""}`));
    });
    child.send({ job, indexDir: opts.indexDir } satisfies JobRequest);
  });
}
