/**
 * Fetching a channel's sources before its digest is decided: the papers announced since its last
 * digest must be in the index by then, or the window moves past them and they are never shown.
 *
 * One tick plans one fetch per source for all the channels due together: Hugging Face daily papers
 * from the day after the earliest window end (at most a week back: a bot down for longer catches up
 * on that week), and arXiv's latest announcements of the union of their categories (arXiv's feed is
 * per category: a channel without categories gets no arXiv fetch, and `/digest show` says so). A
 * fetch that ran less than `minIntervalMs` ago with the same arguments is not repeated, so channels
 * due a minute apart share it. A fetch is an ingest job (src/ingest/job.ts; the bot runs it in a
 * child process); a failed fetch is reported, and the digest is decided with what the index holds.
 */
import { describeJob, type IngestJob } from "../ingest/job.js";
import { ingestFailure, type IngestRunReport } from "../ingest/run.js";
import { addDays } from "./digest-runner.js";
import type { Subscription } from "./digest-store.js";

/** How far back a catch-up fetch of Hugging Face daily papers goes (days, today included). */
export const MAX_CATCH_UP_DAYS = 7;

/** The fetches the channels due now need; `today` is the latest of their local days (YYYY-MM-DD). */
export function planIngest(due: readonly Subscription[], today: string): IngestJob[] {
  const jobs: IngestJob[] = [];
  const hf = due.filter((s) => s.sources.includes("hf"));
  if (hf.length > 0) {
    const earliest = addDays(today, 1 - MAX_CATCH_UP_DAYS);
    const wanted = hf.map((s) => addDays(s.windowEnd, 1)).reduce((a, b) => (a < b ? a : b));
    const since = wanted < earliest ? earliest : wanted > today ? today : wanted;
    jobs.push({ source: "hf-daily", since, until: today });
  }
  const categories = [...new Set(due.filter((s) => s.sources.includes("arxiv")).flatMap((s) => s.categories))].sort();
  if (categories.length > 0) jobs.push({ source: "arxiv-rss", categories });
  return jobs;
}

export interface DigestIngestOptions {
  /** Runs a fetch to the end (runIngestJobInChild); its report says whether a page failed. */
  run: (job: IngestJob) => Promise<IngestRunReport>;
  /** After fetches that succeeded: make the new papers visible (PaperIndex.refresh and the search threads'). */
  afterFetch?: () => Promise<unknown>;
  /** A fetch with the same arguments is not repeated within this time (default 30 minutes). */
  minIntervalMs?: number;
  now?: () => Date;
}

export interface IngestReport {
  ran: { job: IngestJob; report: IngestRunReport }[];
  skipped: IngestJob[];
  failed: { job: IngestJob; error: string }[];
}

/** Runs the planned fetches before a tick decides digests. */
export class DigestIngest {
  private readonly lastRun = new Map<string, number>();
  private readonly minIntervalMs: number;
  private readonly now: () => Date;

  constructor(private readonly opts: DigestIngestOptions) {
    this.minIntervalMs = opts.minIntervalMs ?? 30 * 60_000;
    this.now = opts.now ?? (() => new Date());
  }

  async before(due: readonly Subscription[], today: string): Promise<IngestReport> {
    const report: IngestReport = { ran: [], skipped: [], failed: [] };
    for (const job of planIngest(due, today)) {
      const key = describeJob(job);
      const last = this.lastRun.get(key);
      if (last !== undefined && this.now().getTime() - last < this.minIntervalMs) {
        report.skipped.push(job);
        continue;
      }
      try {
        const ran = await this.opts.run(job);
        // A failed page: what came before it is stored, and the fetch is tried again next tick.
        const failure = ingestFailure(ran);
        if (failure) throw failure;
        this.lastRun.set(key, this.now().getTime());
        report.ran.push({ job, report: ran });
      } catch (err) {
        report.failed.push({ job, error: (err as Error).message });
      }
    }
    if (report.ran.length > 0) await this.opts.afterFetch?.();
    return report;
  }
}
