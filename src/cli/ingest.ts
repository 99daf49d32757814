/**
 * `paperhound ingest <source>`: fetches papers from a remote source and adds them to the index,
 * page by page.
 *
 *   ingest hf-daily --since 2026-11-01 [--until 2026-11-03]       Hugging Face daily papers, one request per day
 *   ingest arxiv --category cs.LG --category cs.CV --days 3        arXiv API search, paged (or --since/--until)
 *   ingest arxiv-rss cs.LG+cs.AI                                   today's arXiv announcements, one request
 *   ingest oai --set cs --from 2026-11-01 [--until D] [--metadata-prefix arXiv]   OAI-PMH bulk harvest, resumable
 *
 * Every source goes through the fetch layer (src/papers/fetch/: politeness budgets, retries,
 * Retry-After, time-outs) and the same parsers `paperhound index` uses for saved files, so a saved
 * response indexes the same as a live fetch. Each page is stored (and embedded) before the next is
 * fetched: when page 7 fails for good, pages 1 to 6 stay in the index and the command says
 * "6 pages stored, page 7 failed: ..." with exit code 1. `--dry-run` fetches and compares with the
 * index without writing anything (not even the OAI harvest state).
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { Config } from "../config.js";
import type { Embedder } from "../embed/types.js";
import {
  ARXIV_MAX_PAGE_SIZE,
  FetchError,
  PageError,
  assertCategory,
  clearOaiState,
  createSourceHttpClient,
  daysBetween,
  fetchArxivIds,
  fetchArxivRss,
  fetchArxivSearch,
  fetchHfDailyPapers,
  harvestOai,
  isoDay,
  type PoliteHttpClient,
} from "../papers/fetch/index.js";
import { missingArxivIds, parseArxivAtom } from "../papers/sources/arxiv-atom.js";
import { ANNOUNCE_TYPES, parseArxivRss, type AnnounceType } from "../papers/sources/arxiv-rss.js";
import { parseHfDailyEntries } from "../papers/sources/hf-daily.js";
import { OaiPmhError, parseOaiPmh, type OaiMetadataFormat } from "../papers/sources/oai-pmh.js";
import type { Paper } from "../papers/types.js";
import { formatDuration } from "../progress.js";
import { PaperIndex, type IndexReport } from "../search/paper-index.js";
import { contentHash, PaperStore } from "../search/paper-store.js";
import { CliInputError, type CliContext, type RegisterCommand } from "./context.js";
import { MAX_ERRORS_SHOWN } from "./index-papers.js";
import {
  addIndexOption,
  commandLogger,
  explainIndexError,
  indexLocation,
  openEmbedder,
  paperCount,
  storeFileOf,
  writerOpenOptions,
  type IndexLocation,
  type IndexOption,
} from "./search-common.js";

/** arXiv's API serves at most this many results of one query (start + max_results). */
export const ARXIV_RESULT_CAP = 30_000;
export const DEFAULT_ARXIV_PAGE_SIZE = 200;
export const OAI_METADATA_PREFIXES = ["oai_dc", "arXiv", "arXivRaw"] as const satisfies readonly OaiMetadataFormat[];

/** An ingest run that stopped on a page it could not fetch or read, or could not reach the source. */
export class IngestError extends Error {
  override readonly name = "IngestError";
}

// ---------------------------------------------------------------------------------------------
// Sources

/** One page of a source, parsed: its papers and what was skipped. */
interface IngestPage {
  /** "page 2", "day 2026-11-02", "feed cs.LG+cs.AI". */
  label: string;
  papers: Paper[];
  /** Deleted-record markers (OAI-PMH): not papers, skipped. */
  deleted: number;
  /** Records that could not become papers (skipped), without file names. */
  errors: { line: number; message: string }[];
}

interface IngestSource {
  /** "arxiv", "arxiv-rss", "oai", "hf-daily". */
  name: string;
  /** What it is, for messages: "the arXiv API". */
  what: string;
  /** The setting holding its base URL, and its value. */
  setting: { env: string; value: string };
  pages(client: PoliteHttpClient): AsyncIterable<IngestPage>;
  /** Notes for the summary (the 30,000 cap, a resumed harvest, announce types, ...). */
  readonly notes: string[];
  /** Called with a page that failed for good; returns extra words for the message. */
  onPageError?(err: PageError): Promise<string | undefined>;
}

/** Which setting names the base URL of each source (for "cannot reach" messages). */
const URL_SETTINGS = {
  arxiv: "ARXIV_API_URL",
  "arxiv-rss": "ARXIV_RSS_URL",
  oai: "ARXIV_OAI_URL",
  "hf-daily": "HF_API_URL",
} as const;

function hfDailySource(config: Config, opts: { since: string; until?: string }): IngestSource {
  const until = opts.until ?? isoDay(new Date());
  if (opts.since > until) throw new CliInputError(`--since ${opts.since} is after --until ${until}: no day to fetch`);
  const days = daysBetween(opts.since, until);
  let empty = 0;
  const source: IngestSource = {
    name: "hf-daily",
    what: "the Hugging Face API",
    setting: { env: URL_SETTINGS["hf-daily"], value: config.hfApiUrl },
    notes: [],
    async *pages(client) {
      for await (const day of fetchHfDailyPapers(client, config.hfApiUrl, days, (res, date) => parseHfDailyEntries(res.text(), { date }))) {
        if (day.page.length === 0) empty += 1;
        yield { label: `day ${day.day}`, papers: day.page.map((e) => e.paper), deleted: 0, errors: [] };
      }
      if (empty > 0) source.notes.push(`${empty} of ${days.length} day(s) had no papers (weekends and holidays do)`);
    },
  };
  return source;
}

function arxivSource(config: Config, opts: { categories: string[]; from: Date; until: Date; pageSize: number }): IngestSource {
  const source: IngestSource = {
    name: "arxiv",
    what: "the arXiv API",
    setting: { env: URL_SETTINGS.arxiv, value: config.arxivApiUrl },
    notes: [],
    async *pages(client) {
      let fetched = 0;
      let total = 0;
      let lastReturned = -1;
      const pages = fetchArxivSearch(
        client,
        config.arxivApiUrl,
        { categories: opts.categories, from: opts.from, until: opts.until, maxResults: opts.pageSize },
        (res) => parseArxivAtom(res.text()),
      );
      for await (const page of pages) {
        const feed = page.page;
        if (page.index === 0) {
          total = feed.totalResults ?? 0;
          if (total > ARXIV_RESULT_CAP) {
            source.notes.push(
              `arXiv matched ${total} papers but serves at most ${ARXIV_RESULT_CAP} of one query: the rest were not fetched (ask for fewer --days or categories)`,
            );
          }
        }
        fetched += feed.entries.length;
        lastReturned = feed.entries.length;
        yield { label: `page ${page.index + 1}`, papers: feed.entries.map((e) => e.paper), deleted: 0, errors: feed.errors };
        if (fetched >= ARXIV_RESULT_CAP) break;
      }
      if (lastReturned === 0 && fetched < Math.min(total, ARXIV_RESULT_CAP)) {
        source.notes.push(`arXiv returned an empty page after ${fetched} of ${total} results (it does so under load): run the command again later for the rest`);
      }
    },
  };
  return source;
}

function arxivRssSource(config: Config, feed: string): IngestSource {
  const source: IngestSource = {
    name: "arxiv-rss",
    what: "the arXiv RSS feed",
    setting: { env: URL_SETTINGS["arxiv-rss"], value: config.arxivRssUrl },
    notes: [],
    async *pages(client) {
      const rss = await fetchArxivRss(client, config.arxivRssUrl, feed, (res) => parseArxivRss(res.text()));
      const types = new Map<AnnounceType, number>(ANNOUNCE_TYPES.map((t) => [t, 0]));
      for (const item of rss.items) types.set(item.announceType, (types.get(item.announceType) ?? 0) + 1);
      source.notes.push(
        `announced${rss.announced ? ` ${rss.announced}` : ""}: ${[...types].map(([t, n]) => `${t} ${n}`).join(", ")}` +
          (rss.items.length === 0 ? " (no announcements: weekends and holidays have none)" : ""),
      );
      yield { label: `feed ${feed}`, papers: rss.items.map((i) => i.paper), deleted: 0, errors: rss.errors };
    },
  };
  return source;
}

/** File name of an OAI harvest's state: one per request, so different harvests never resume each other. */
export function oaiStateFile(indexDir: string, req: { metadataPrefix: string; set?: string; from?: string; until?: string }): string {
  const part = (s: string | undefined, none: string) => (s === undefined ? none : s.replace(/[^A-Za-z0-9._-]+/g, "_"));
  return path.join(indexDir, "harvest", `oai-${part(req.metadataPrefix, "")}-${part(req.set, "all")}-${part(req.from, "start")}-${part(req.until, "open")}.json`);
}

function oaiSource(config: Config, opts: { set?: string; from?: string; until?: string; metadataPrefix: string }, stateFile: string, realStateFile: string): IngestSource {
  const request = {
    baseUrl: config.arxivOaiUrl,
    metadataPrefix: opts.metadataPrefix,
    ...(opts.set === undefined ? {} : { set: opts.set }),
    ...(opts.from === undefined ? {} : { from: opts.from }),
    ...(opts.until === undefined ? {} : { until: opts.until }),
  };
  let resumed = false;
  const source: IngestSource = {
    name: "oai",
    what: "the arXiv OAI-PMH service",
    setting: { env: URL_SETTINGS.oai, value: config.arxivOaiUrl },
    notes: [],
    async *pages(client) {
      const pages = harvestOai({
        client,
        request,
        stateFile,
        parse: (res) => {
          const page = parseOaiPmh(res.text());
          return { page, resumptionToken: page.resumptionToken?.token ?? null };
        },
      });
      for await (const page of pages) {
        if (page.index === 0 && page.resumed) {
          resumed = true;
          source.notes.push(`resumed an unfinished harvest from its saved resumption token (${realStateFile})`);
        }
        const p = page.page;
        const size = p.resumptionToken?.completeListSize;
        yield {
          label: `page ${page.index + 1}${size !== undefined ? ` (${(p.resumptionToken?.cursor ?? 0) + p.papers.length + p.deletedRecords.length + p.invalidRecords.length} of ${size})` : ""}`,
          papers: p.papers.map((r) => r.paper),
          deleted: p.deletedRecords.length,
          errors: p.invalidRecords.map((r) => ({ line: r.line, message: r.identifier ? `${r.identifier}: ${r.message}` : r.message })),
        };
      }
    },
    async onPageError(err) {
      const cause = err.cause;
      if (cause instanceof OaiPmhError && cause.code === "badResumptionToken") {
        await clearOaiState(stateFile);
        return `the ${resumed || err.index > 0 ? "" : "saved "}resumption token was rejected (expired or unknown); the harvest state ${realStateFile} was cleared, so the next run starts the harvest over`;
      }
      return undefined;
    },
  };
  return source;
}

// ---------------------------------------------------------------------------------------------
// Where pages go: the index, or (dry run) a read-only comparison with it

interface PageOutcome {
  added: number;
  updated: number;
  unchanged: number;
  embedded: number;
}

interface Sink {
  add(papers: Paper[]): Promise<PageOutcome>;
  close(): Promise<void>;
}

/**
 * Stores and embeds pages. The store is checked before anything is fetched (a damaged one is
 * reported, never written to); the model and the index open with the first page that has papers,
 * so a run that fetches nothing creates nothing.
 */
function openIndexSink(ctx: CliContext, loc: IndexLocation): Sink {
  try {
    paperCount(storeFileOf(loc.dir));
  } catch (err) {
    throw explainIndexError(err, loc);
  }
  let opened: { index: PaperIndex; embedder: Embedder } | undefined;
  const open = async () => {
    const embedder = await openEmbedder(ctx);
    try {
      return { index: await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) }), embedder };
    } catch (err) {
      await embedder.dispose();
      throw explainIndexError(err, loc);
    }
  };
  return {
    async add(papers) {
      if (papers.length === 0) return { added: 0, updated: 0, unchanged: 0, embedded: 0 };
      opened ??= await open();
      const r: IndexReport = await opened.index.add(papers);
      return { added: r.added, updated: r.updated, unchanged: r.unchanged, embedded: r.embedded };
    },
    async close() {
      if (!opened) return;
      opened.index.close();
      await opened.embedder.dispose();
    },
  };
}

/** Compares with the store read-only; `updated` counts known papers whose title or abstract changed. */
function openDrySink(loc: IndexLocation): Sink {
  const storeFile = storeFileOf(loc.dir);
  let store: PaperStore | undefined;
  try {
    if (existsSync(storeFile)) store = PaperStore.open(storeFile, { readonly: true });
  } catch (err) {
    throw explainIndexError(err, loc);
  }
  const seen = new Map<string, string>();
  return {
    async add(papers) {
      const out = { added: 0, updated: 0, unchanged: 0, embedded: 0 };
      for (const paper of papers) {
        const id = paper.id.trim();
        const hash = contentHash(paper.title, paper.abstract);
        const before = seen.get(id) ?? store?.get(id)?.contentHash;
        if (before === undefined) out.added += 1;
        else if (before !== hash) out.updated += 1;
        else out.unchanged += 1;
        seen.set(id, hash);
      }
      return out;
    },
    async close() {
      store?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The run

interface CommonOptions extends IndexOption {
  dryRun?: boolean;
  json?: boolean;
}

interface Totals {
  pages: number;
  records: number;
  new: number;
  updated: number;
  unchanged: number;
  deleted: number;
  errors: number;
  embedded: number;
}

/** "cannot reach" wording for network failures; the page error's own message otherwise. */
function describeFailure(err: PageError, source: IngestSource): string {
  const cause = err.cause;
  if (cause instanceof FetchError && (cause.kind === "network" || cause.kind === "timeout")) {
    return (
      `cannot reach ${source.what}: ${cause.message}. Check the network connection` +
      ` (the address comes from ${source.setting.env}=${source.setting.value})`
    );
  }
  return err.message;
}

async function runIngest(ctx: CliContext, opts: CommonOptions, makeSource: (config: Config, loc: IndexLocation) => Promise<IngestSource> | IngestSource): Promise<void> {
  const config = ctx.config();
  const loc = indexLocation(ctx, opts);
  const source = await makeSource(config, loc);
  const started = performance.now();
  const client = createSourceHttpClient(config, commandLogger(ctx));
  const totals: Totals = { pages: 0, records: 0, new: 0, updated: 0, unchanged: 0, deleted: 0, errors: 0, embedded: 0 };
  let failure: { page: number; message: string } | undefined;
  const sink = opts.dryRun ? openDrySink(loc) : openIndexSink(ctx, loc);
  try {
    try {
      for await (const page of source.pages(client)) {
        const outcome = await sink.add(page.papers);
        totals.pages += 1;
        totals.records += page.papers.length + page.deleted + page.errors.length;
        totals.new += outcome.added;
        totals.updated += outcome.updated;
        totals.unchanged += outcome.unchanged;
        totals.embedded += outcome.embedded;
        totals.deleted += page.deleted;
        for (const e of page.errors) {
          totals.errors += 1;
          if (totals.errors <= MAX_ERRORS_SHOWN) ctx.stderr.write(`${source.name} ${page.label}:${e.line}: ${e.message} (skipped)\n`);
        }
        const skipped = page.deleted + page.errors.length;
        ctx.stderr.write(
          `${page.label}: ${page.papers.length} paper(s)${skipped ? `, ${skipped} skipped` : ""}; ` +
            `${opts.dryRun ? "would be " : ""}new ${outcome.added}, updated ${outcome.updated}, unchanged ${outcome.unchanged}` +
            `${opts.dryRun ? "" : `, embedded ${outcome.embedded}`}\n`,
        );
      }
    } catch (err) {
      if (!(err instanceof PageError)) throw err;
      const extra = await source.onPageError?.(err);
      const described = describeFailure(err, source);
      failure = { page: err.index + 1, message: extra ? `${described}; ${extra}` : described };
    }
  } finally {
    await sink.close();
  }
  if (totals.errors > MAX_ERRORS_SHOWN) ctx.stderr.write(`... and ${totals.errors - MAX_ERRORS_SHOWN} more record errors (${totals.errors} in all; those records were skipped)\n`);
  const seconds = (performance.now() - started) / 1000;
  const skipped = totals.deleted + totals.errors;
  if (opts.json) {
    ctx.stdout.write(
      `${JSON.stringify({
        source: source.name,
        index_dir: loc.dir,
        dry_run: opts.dryRun === true,
        pages: totals.pages,
        records: totals.records,
        new: totals.new,
        updated: totals.updated,
        unchanged: totals.unchanged,
        skipped,
        deleted: totals.deleted,
        errors: totals.errors,
        embedded: totals.embedded,
        notes: source.notes,
        failed: failure ?? null,
        seconds: Math.round(seconds * 1000) / 1000,
      })}\n`,
    );
  } else {
    for (const note of source.notes) ctx.stdout.write(`note: ${note}\n`);
    const fetched = `pages ${totals.pages}, records ${totals.records}`;
    const skip = `skipped ${skipped} (deleted ${totals.deleted}, record errors ${totals.errors})`;
    ctx.stdout.write(
      opts.dryRun
        ? `dry run of ${source.name} for ${loc.dir}: ${fetched}, new ${totals.new}, known ${totals.updated + totals.unchanged} ` +
            `(${totals.updated} with a changed title or abstract), ${skip}; nothing was written\n`
        : `ingested ${source.name} into ${loc.dir}: ${fetched}, new ${totals.new}, updated ${totals.updated}, unchanged ${totals.unchanged}, ` +
            `${skip}, embedded ${totals.embedded}, time ${formatDuration(seconds)}\n`,
    );
  }
  if (failure) {
    const unreachable = failure.page === 1 && failure.message.startsWith("cannot reach");
    if (unreachable) throw new IngestError(`${failure.message}; nothing was fetched`);
    const done = opts.dryRun ? `${totals.pages} page(s) read (dry run: nothing stored)` : `${totals.pages} page(s) stored`;
    throw new IngestError(`${done}, page ${failure.page} failed: ${failure.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Looking up single papers (for `related`)

/**
 * Fetches papers by arXiv id through the arXiv API. Returns the papers arXiv knows and the ids it
 * does not; throws IngestError when arXiv cannot be reached or answers with an error.
 */
export async function lookupArxivIds(ctx: CliContext, ids: readonly string[]): Promise<{ papers: Paper[]; missing: string[] }> {
  const config = ctx.config();
  const client = createSourceHttpClient(config, commandLogger(ctx));
  const papers: Paper[] = [];
  const missing: string[] = [];
  try {
    for await (const batch of fetchArxivIds(client, config.arxivApiUrl, ids, (res) => parseArxivAtom(res.text()))) {
      papers.push(...batch.page.entries.map((e) => e.paper));
      missing.push(...missingArxivIds(batch.ids, batch.page));
    }
  } catch (err) {
    if (!(err instanceof PageError)) throw err;
    const source = { what: "the arXiv API", setting: { env: URL_SETTINGS.arxiv, value: config.arxivApiUrl } } as IngestSource;
    throw new IngestError(`looking up ${ids.join(", ")} on arXiv failed: ${describeFailure(err, source)}`);
  }
  return { papers, missing };
}

// ---------------------------------------------------------------------------------------------
// Options

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(value: string): string {
  const v = value.trim();
  const m = DAY_RE.exec(v);
  if (!m || isoDay(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))) !== v) {
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
    await runIngest(ctx, opts, (config) => hfDailySource(config, opts));
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
    await runIngest(ctx, opts, (config) => arxivSource(config, { categories: opts.category, from, until, pageSize: opts.pageSize }));
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
    await runIngest(ctx, opts, (config) => arxivRssSource(config, categories.join("+")));
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
    let tmpDir: string | undefined;
    try {
      await runIngest(ctx, opts, async (config, loc) => {
        const real = oaiStateFile(loc.dir, opts);
        let stateFile = real;
        if (opts.dryRun) {
          // A dry run resumes like a real one would, from a copy of the state, and leaves the real one alone.
          tmpDir = await mkdtemp(path.join(os.tmpdir(), "paperhound-oai-dry-"));
          stateFile = path.join(tmpDir, path.basename(real));
          if (existsSync(real)) await copyFile(real, stateFile);
        }
        return oaiSource(config, opts, stateFile, real);
      });
    } finally {
      if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
    }
  });
};
