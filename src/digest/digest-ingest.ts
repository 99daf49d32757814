/**
 * Fetching a channel's sources before its digest is decided: the papers announced since its last
 * digest must be in the index by then, or the window moves past them and they are never shown.
 *
 * One tick plans one fetch per source for all the channels due together: Hugging Face daily papers
 * from the day after the earliest window end (at most a week back: a bot down for longer catches up
 * on that week), and arXiv's latest announcements of the union of their categories (arXiv's feed is
 * per category: a channel without categories gets no arXiv fetch, and `/digest show` says so). A
 * fetch that ran less than `minIntervalMs` ago with the same arguments is not repeated, so channels
 * due a minute apart share it. Fetching is the `paperhound ingest` command (the caller runs it, e.g.
 * as a child process); a failed fetch is reported, and the digest is decided with what the index
 * holds.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../paths.js";
import { addDays } from "./digest-runner.js";
import type { Subscription } from "./digest-store.js";

/** How far back a catch-up fetch of Hugging Face daily papers goes (days, today included). */
export const MAX_CATCH_UP_DAYS = 7;

export interface IngestJob {
  source: "hf" | "arxiv";
  /** Arguments of `paperhound ingest` (e.g. ["hf-daily", "--since", "2026-11-30", "--until", "2026-12-02"]). */
  args: string[];
}

/** The fetches the channels due now need; `today` is the latest of their local days (YYYY-MM-DD). */
export function planIngest(due: readonly Subscription[], today: string): IngestJob[] {
  const jobs: IngestJob[] = [];
  const hf = due.filter((s) => s.sources.includes("hf"));
  if (hf.length > 0) {
    const earliest = addDays(today, 1 - MAX_CATCH_UP_DAYS);
    const wanted = hf.map((s) => addDays(s.windowEnd, 1)).reduce((a, b) => (a < b ? a : b));
    const since = wanted < earliest ? earliest : wanted > today ? today : wanted;
    jobs.push({ source: "hf", args: ["hf-daily", "--since", since, "--until", today] });
  }
  const categories = [...new Set(due.filter((s) => s.sources.includes("arxiv")).flatMap((s) => s.categories))].sort();
  if (categories.length > 0) jobs.push({ source: "arxiv", args: ["arxiv-rss", categories.join("+")] });
  return jobs;
}

export interface DigestIngestOptions {
  /** Runs `paperhound ingest <args>` to the end; rejects when it fails. */
  run: (args: string[]) => Promise<void>;
  /** After fetches that succeeded: make the new papers visible (PaperIndex.refresh and the search threads'). */
  afterFetch?: () => Promise<unknown>;
  /** A fetch with the same arguments is not repeated within this time (default 30 minutes). */
  minIntervalMs?: number;
  now?: () => Date;
}

export interface IngestReport {
  ran: IngestJob[];
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
      const key = job.args.join(" ");
      const last = this.lastRun.get(key);
      if (last !== undefined && this.now().getTime() - last < this.minIntervalMs) {
        report.skipped.push(job);
        continue;
      }
      try {
        await this.opts.run(job.args);
        this.lastRun.set(key, this.now().getTime());
        report.ran.push(job);
      } catch (err) {
        report.failed.push({ job, error: (err as Error).message });
      }
    }
    if (report.ran.length > 0) await this.opts.afterFetch?.();
    return report;
  }
}

/**
 * Runs `paperhound ingest <args> --index <dir> --json` as a child process (its own memory, its
 * progress and logs kept out of the bot's output) and resolves with its JSON summary; rejects
 * with the last lines it wrote to stderr when it fails or runs past `timeoutMs`.
 */
export function runIngestCommand(args: string[], opts: { indexDir: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<unknown> {
  const bin = path.join(projectRoot, "bin", "paperhound.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "ingest", ...args, "--index", opts.indexDir, "--json"], {
      env: { ...opts.env, PAPERHOUND_ENV_FILE: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 20 * 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        try {
          resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "null"));
        } catch {
          resolve(null);
        }
        return;
      }
      const tail = stderr.trim().split("\n").slice(-3).join(" | ");
      reject(new Error(`paperhound ingest ${args.join(" ")} ${signal ? `was stopped (${signal})` : `exited with ${code}`}${tail ? `: ${tail}` : ""}`));
    });
  });
}

/** Papers added or updated, from `paperhound ingest --json`'s summary (undefined when it is not one). */
export function ingestedCount(summary: unknown): { source: string; papers: number } | undefined {
  if (typeof summary !== "object" || summary === null) return undefined;
  const { source, new: added, updated, dry_run: dryRun } = summary as Record<string, unknown>;
  if (typeof source !== "string" || typeof added !== "number" || typeof updated !== "number" || dryRun === true) return undefined;
  return { source, papers: added + updated };
}
