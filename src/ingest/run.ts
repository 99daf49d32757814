/**
 * One ingest run: the pages of a source go into a sink one by one, each stored (and embedded) before
 * the next is fetched, so when page 7 fails for good pages 1 to 6 stay in the index. The result is a
 * typed report; callers (the CLI, the digest's fetch job) word it.
 */
import type { AppContext } from "../app/context.js";
import { commandLogger, type IndexLocation } from "../app/open-index.js";
import { createSourceHttpClient, PageError } from "../papers/fetch/index.js";
import { openDrySink, openIndexSink, type PageOutcome } from "./sinks.js";
import { describeFailure, IngestError, type IngestPage, type IngestSource } from "./sources.js";
import { limitsFrom, paperSizeProblem, type InputLimits } from "../papers/limits.js";

export interface IngestTotals {
  pages: number;
  /** Papers, deleted markers and records that could not be read. */
  records: number;
  new: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Records that could not become papers (skipped). */
  errors: number;
  embedded: number;
}

export interface IngestRunReport {
  /** The source's name ("hf-daily", "arxiv-rss", ...). */
  source: string;
  indexDir: string;
  dryRun: boolean;
  totals: IngestTotals;
  /** The source's notes for the reader (the 30,000 cap, a resumed harvest, announce types, ...). */
  notes: string[];
  /** The page that failed for good (1-based) and why; null when every page was read. */
  failed: { page: number; message: string } | null;
  seconds: number;
}

export interface IngestRunOptions {
  dryRun?: boolean;
  /** Told about each page once it is stored (or compared, in a dry run). */
  onPage?: (page: IngestPage, outcome: PageOutcome) => void;
}

/** Reads every page of `source` into the index at `loc` (or compares, dry run); never throws for a failed page. */
export async function runIngest(ctx: AppContext, loc: IndexLocation, source: IngestSource, opts: IngestRunOptions = {}): Promise<IngestRunReport> {
  const started = performance.now();
  const client = createSourceHttpClient(ctx.config(), commandLogger(ctx));
  const totals: IngestTotals = { pages: 0, records: 0, new: 0, updated: 0, unchanged: 0, deleted: 0, errors: 0, embedded: 0 };
  let failed: IngestRunReport["failed"] = null;
  const sink = opts.dryRun ? openDrySink(loc) : openIndexSink(ctx, loc);
  try {
    const limits = limitsFrom(ctx.config());
    for await (const fetched of source.pages(client)) {
      const page = withinLimits(fetched, limits);
      const outcome = await sink.add(page.papers);
      totals.pages += 1;
      totals.records += page.papers.length + page.deleted + page.errors.length;
      totals.new += outcome.added;
      totals.updated += outcome.updated;
      totals.unchanged += outcome.unchanged;
      totals.embedded += outcome.embedded;
      totals.deleted += page.deleted;
      totals.errors += page.errors.length;
      opts.onPage?.(page, outcome);
    }
  } catch (err) {
    if (!(err instanceof PageError)) throw err;
    const extra = await source.onPageError?.(err);
    const described = describeFailure(err, source);
    failed = { page: err.index + 1, message: extra ? `${described}; ${extra}` : described };
  } finally {
    await sink.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { source: source.name, indexDir: loc.dir, dryRun: opts.dryRun === true, totals, notes: source.notes, failed, seconds };
}

/** The page with papers over the size limits moved to its record errors (line 0: the page). */
function withinLimits(page: IngestPage, limits: InputLimits): IngestPage {
  const errors: IngestPage["errors"] = [];
  const papers = page.papers.filter((paper) => {
    const problem = paperSizeProblem(paper, limits);
    if (problem) errors.push({ line: 0, message: `${paper.id}: ${problem}` });
    return !problem;
  });
  return errors.length === 0 ? page : { ...page, papers, errors: [...page.errors, ...errors] };
}

/** The error a run ends with: a failed page, or every record refused (undefined for a good run). */
export function ingestFailure(report: IngestRunReport): IngestError | undefined {
  const f = report.failed;
  const t = report.totals;
  // Every record refused is a failed run (a changed feed format, a wrong file), not an empty day.
  if (!f && t.errors > 0 && t.records === t.errors + t.deleted) {
    return new IngestError(`all ${t.errors} record(s) had errors (see above); no paper was ${report.dryRun ? "read" : "stored"}`);
  }
  if (!f) return undefined;
  if (f.page === 1 && f.message.startsWith("cannot reach")) return new IngestError(`${f.message}; nothing was fetched`);
  const done = report.dryRun ? `${report.totals.pages} page(s) read (dry run: nothing stored)` : `${report.totals.pages} page(s) stored`;
  return new IngestError(`${done}, page ${f.page} failed: ${f.message}`);
}
