/**
 * `paperhound ingest <source>`: fetches papers from a remote source and adds them to the index,
 * page by page (src/ingest/: the sources, the page loop, the sinks). This file parses the options
 * and prints progress and the summary.
 *
 *   ingest hf-daily --since 2026-11-01 [--until 2026-11-03]       Hugging Face daily papers, one request per day
 *   ingest arxiv --category cs.LG --category cs.CV --days 3        arXiv API search, paged (or --since/--until)
 *   ingest arxiv-rss cs.LG+cs.AI                                   today's arXiv announcements, one request
 *   ingest oai --set cs --from 2026-11-01 [--until D] [--metadata-prefix arXiv]   OAI-PMH bulk harvest, resumable
 *   ingest followed --days 2                                       what the team follows (INGEST_CATEGORIES, INGEST_HF_DAILY)
 *
 * When page 7 fails for good, pages 1 to 6 stay in the index and the command says
 * "6 pages stored, page 7 failed: ..." with exit code 1. `--dry-run` fetches and compares with the
 * index without writing anything (not even the OAI harvest state).
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import type { AppContext } from "../app/context.js";
import { indexLocation, type IndexLocation, type IndexOption } from "../app/open-index.js";
import type { Config } from "../config.js";
import { runIngest, ingestFailure, type IngestRunReport } from "../ingest/run.js";
import {
  arxivRssSource,
  arxivSource,
  DEFAULT_ARXIV_PAGE_SIZE,
  followedSources,
  hfDailySource,
  OAI_METADATA_PREFIXES,
  openOaiSource,
  type IngestSource,
} from "../ingest/sources.js";
import { isCalendarDate } from "../papers/checks.js";
import { ARXIV_MAX_PAGE_SIZE, assertCategory, isoDay } from "../papers/fetch/index.js";
import { formatDuration } from "../progress.js";
import type { RegisterCommand } from "./context.js";
import { MAX_ERRORS_SHOWN } from "./index-papers.js";
import { addIndexOption } from "./search-common.js";
import { InputError } from "../app/context.js";

interface CommonOptions extends IndexOption {
  dryRun?: boolean;
  json?: boolean;
}

/** Runs one source into the index, printing each page, then the summary (or one JSON object). */
async function ingestCommand(ctx: AppContext, opts: CommonOptions, makeSource: (config: Config, loc: IndexLocation) => Promise<{ source: IngestSource; dispose?(): Promise<void> }> | { source: IngestSource; dispose?(): Promise<void> }): Promise<void> {
  const loc = indexLocation(ctx, opts);
  const { source, dispose } = await makeSource(ctx.config(), loc);
  let errorsShown = 0;
  let report: IngestRunReport;
  try {
    report = await runIngest(ctx, loc, source, {
      dryRun: opts.dryRun === true,
      onPage: (page, outcome) => {
        for (const e of page.errors) {
          if (errorsShown++ < MAX_ERRORS_SHOWN) ctx.stderr.write(`${source.name} ${page.label}:${e.line}: ${e.message} (skipped)\n`);
        }
        const skipped = page.deleted + page.errors.length;
        ctx.stderr.write(
          `${page.label}: ${page.papers.length} paper(s)${skipped ? `, ${skipped} skipped` : ""}; ` +
            `${opts.dryRun ? "would be " : ""}new ${outcome.added}, updated ${outcome.updated}, unchanged ${outcome.unchanged}` +
            `${opts.dryRun ? "" : `, embedded ${outcome.embedded}`}\n`,
        );
      },
    });
  } finally {
    await dispose?.();
  }
  const t = report.totals;
  if (t.errors > MAX_ERRORS_SHOWN) ctx.stderr.write(`... and ${t.errors - MAX_ERRORS_SHOWN} more record errors (${t.errors} in all; those records were skipped)\n`);
  const skipped = t.deleted + t.errors;
  if (opts.json) {
    ctx.stdout.write(
      `${JSON.stringify({
        source: report.source,
        index_dir: report.indexDir,
        dry_run: report.dryRun,
        pages: t.pages,
        records: t.records,
        new: t.new,
        updated: t.updated,
        unchanged: t.unchanged,
        skipped,
        deleted: t.deleted,
        errors: t.errors,
        // A dry run embeds nothing; it says how many papers a real run would embed.
        embedded: report.dryRun ? 0 : t.embedded,
        ...(report.dryRun ? { to_embed: t.embedded } : {}),
        notes: report.notes,
        failed: report.failed,
        seconds: Math.round(report.seconds * 1000) / 1000,
      })}\n`,
    );
  } else if (!(report.failed && t.pages === 0)) {
    // Nothing was read at all: the error below says why; "pages 0" before it would only hide it.
    for (const note of report.notes) ctx.stdout.write(`note: ${note}\n`);
    const fetched = `pages ${t.pages}, records ${t.records}`;
    const skip = `skipped ${skipped} (deleted ${t.deleted}, record errors ${t.errors})`;
    ctx.stdout.write(
      report.dryRun
        ? `dry run of ${report.source} for ${report.indexDir}: ${fetched}, new ${t.new}, known ${t.updated + t.unchanged} ` +
            `(${t.embedded - t.new} with a changed title or abstract), ${skip}; nothing was written\n`
        : `ingested ${report.source} into ${report.indexDir}: ${fetched}, new ${t.new}, updated ${t.updated}, unchanged ${t.unchanged}, ` +
            `${skip}, embedded ${t.embedded}, time ${formatDuration(report.seconds)}\n`,
    );
  }
  const failure = ingestFailure(report);
  if (failure) throw failure;
}

// ---------------------------------------------------------------------------------------------
// Options

function parseDay(value: string): string {
  const v = value.trim();
  if (!isCalendarDate(v, { dayOnly: true })) {
    throw new InvalidArgumentError("expected a date like 2026-11-01 (YYYY-MM-DD).");
  }
  return v;
}

function collectCategories(value: string, previous: string[] | undefined): string[] {
  const parts = value.split(/[\s,+]+/).filter((c) => c !== "");
  try {
    if (parts.length === 0) throw new RangeError("empty");
    parts.forEach(assertCategory);
  } catch {
    throw new InvalidArgumentError("expected an arXiv category like cs.LG, or an archive like cs.");
  }
  return [...(previous ?? []), ...parts];
}

function intBetween(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const v = value.trim();
    const n = /^\+?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

function parseOaiSet(value: string): string {
  const v = value.trim();
  // arXiv sets: "cs", "math", "physics:hep-th", "physics:astro-ph:CO"
  if (!/^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*$/.test(v)) throw new InvalidArgumentError('expected an OAI set like "cs" or "physics:hep-th".');
  return v;
}

function commonOptions(cmd: Command): Command {
  cmd.option("--dry-run", "fetch and say what would change, without writing anything").option("--json", "print the summary as one JSON object");
  return addIndexOption(cmd);
}

export const registerIngest: RegisterCommand = (program, ctx) => {
  const ingest = program
    .command("ingest")
    .description("fetch papers from arXiv (API, RSS, OAI-PMH) or Hugging Face daily papers and add them to the index");

  commonOptions(
    ingest
      .command("hf-daily")
      .description("Hugging Face daily papers, one request per day (a day without papers is normal)")
      .requiredOption("--since <date>", "first day, YYYY-MM-DD", parseDay)
      .option("--until <date>", "last day, YYYY-MM-DD (default: today, UTC)", parseDay),
  ).action(async (opts: CommonOptions & { since: string; until?: string }) => {
    await ingestCommand(ctx, opts, (config) => ({ source: hfDailySource(config, opts) }));
  });

  commonOptions(
    ingest
      .command("arxiv")
      .description("arXiv API search by category and submission date, page by page (at most 30,000 results per query)")
      .requiredOption("--category <cat>", "arXiv category (cs.LG) or archive (cs); repeat for any of several", collectCategories)
      .addOption(new Option("--days <n>", "papers submitted in the last N days (default 1)").argParser(intBetween(1, 3650, "--days")).conflicts(["since"]))
      .option("--since <date>", "submitted on or after this day, YYYY-MM-DD (instead of --days)", parseDay)
      .option("--until <date>", "submitted on or before this day, YYYY-MM-DD (with --since; default: now)", parseDay)
      .option("--page-size <n>", `entries per request, 1 to ${ARXIV_MAX_PAGE_SIZE}`, intBetween(1, ARXIV_MAX_PAGE_SIZE, "--page-size"), DEFAULT_ARXIV_PAGE_SIZE),
  ).action(async (opts: CommonOptions & { category: string[]; days?: number; since?: string; until?: string; pageSize: number }, command: Command) => {
    if (opts.until !== undefined && opts.since === undefined) command.error("error: --until needs --since (or use --days)", { exitCode: 2 });
    const now = new Date();
    let from: Date;
    let until: Date;
    if (opts.since !== undefined) {
      from = new Date(`${opts.since}T00:00:00Z`);
      until = opts.until !== undefined ? new Date(`${opts.until}T23:59:00Z`) : now;
      if (from > until) command.error(`error: --since ${opts.since} is after --until ${opts.until ?? isoDay(now)}`, { exitCode: 2 });
    } else {
      until = now;
      from = new Date(now.getTime() - (opts.days ?? 1) * 86_400_000);
    }
    await ingestCommand(ctx, opts, (config) => ({ source: arxivSource(config, { categories: opts.category, from, until, pageSize: opts.pageSize }) }));
  });

  commonOptions(
    ingest
      .command("arxiv-rss")
      .description("the latest arXiv announcements of one or more categories (one request; replacements update the papers already indexed)")
      .argument("<categories...>", "categories joined by + (cs.LG+cs.AI) or given separately"),
  ).action(async (args: string[], opts: CommonOptions, command: Command) => {
    let categories: string[];
    try {
      categories = args.reduce<string[]>((all, a) => collectCategories(a, all), []);
    } catch (err) {
      command.error(`error: ${(err as Error).message}`, { exitCode: 2 });
    }
    await ingestCommand(ctx, opts, (config) => ({ source: arxivRssSource(config, categories.join("+")) }));
  });

  commonOptions(
    ingest
      .command("followed")
      .description("the arXiv categories (INGEST_CATEGORIES) and Hugging Face daily papers (INGEST_HF_DAILY) the team follows, for the last N days: the daily job")
      .option("--days <n>", "the last N days", intBetween(1, 3650, "--days"), 1),
  ).action(async (opts: CommonOptions & { days: number }) => {
    const sources = followedSources(ctx.config(), opts.days);
    if (sources.length === 0) throw new InputError("nothing is followed: set INGEST_CATEGORIES (cs.LG,cs.CL) and/or INGEST_HF_DAILY=true, or run `paperhound setup`");
    // Each source runs even when one before it failed; the first failure is the command's error
    // (printed last, by main), later ones are printed as they happen. --json: one line per source.
    let failure: unknown;
    for (const source of sources) {
      try {
        await ingestCommand(ctx, opts, () => ({ source }));
      } catch (err) {
        if (failure === undefined) failure = err;
        else ctx.stderr.write(`paperhound: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    if (failure !== undefined) throw failure;
  });

  commonOptions(
    ingest
      .command("oai")
      .description("OAI-PMH bulk harvest of arXiv records; resumes after an interruption from the state saved in <index>/harvest/")
      .option("--set <set>", 'OAI set: "cs", "math", "physics:hep-th", ... (default: every set)', parseOaiSet)
      .option("--from <date>", "records changed on or after this day, YYYY-MM-DD", parseDay)
      .option("--until <date>", "records changed on or before this day, YYYY-MM-DD", parseDay)
      .addOption(new Option("--metadata-prefix <format>", "metadata format").choices(OAI_METADATA_PREFIXES).default("arXiv")),
  ).action(async (opts: CommonOptions & { set?: string; from?: string; until?: string; metadataPrefix: string }, command: Command) => {
    if (opts.from && opts.until && opts.from > opts.until) command.error(`error: --from ${opts.from} is after --until ${opts.until}`, { exitCode: 2 });
    await ingestCommand(ctx, opts, (config, loc) => openOaiSource(config, loc.dir, opts, opts.dryRun === true));
  });
};
