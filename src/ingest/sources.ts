/**
 * Where papers come from, as sources of parsed pages: Hugging Face daily papers (one request per
 * day), the arXiv API (a search paged by submission date), arXiv's RSS announcements (one request)
 * and OAI-PMH (a bulk harvest that resumes from its saved state). Each goes through the fetch layer
 * (src/papers/fetch/: politeness budgets, retries, Retry-After, time-outs) and the same parsers
 * `paperhound index` uses for saved files, so a saved response indexes the same as a live fetch.
 *
 * A new source is one factory here returning an `IngestSource`, its parser in src/papers/sources/,
 * and its registration: a `paperhound ingest` subcommand in src/cli/ingest.ts (and, for the digest,
 * a kind of `IngestJob` in job.ts).
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputError } from "../app/context.js";
import type { Config } from "../config.js";
import { limitsFrom } from "../papers/limits.js";
import {
  FetchError,
  PageError,
  clearOaiState,
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
import { PaperhoundError } from "../errors.js";

/** arXiv's API serves at most this many results of one query (start + max_results). */
export const ARXIV_RESULT_CAP = 30_000;
export const DEFAULT_ARXIV_PAGE_SIZE = 200;
export const OAI_METADATA_PREFIXES = ["oai_dc", "arXiv", "arXivRaw"] as const satisfies readonly OaiMetadataFormat[];

/** One page of a source, parsed: its papers and what was skipped. */
export interface IngestPage {
  /** "page 2", "day 2026-11-02", "feed cs.LG+cs.AI". */
  label: string;
  papers: Paper[];
  /** Deleted-record markers (OAI-PMH): not papers, skipped. */
  deleted: number;
  /** Records that could not become papers (skipped), without file names. */
  errors: { line: number; message: string }[];
}

/** A source of pages; `name` is also the `paperhound ingest` subcommand. */
export interface IngestSource {
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
export const URL_SETTINGS = {
  arxiv: "ARXIV_API_URL",
  "arxiv-rss": "ARXIV_RSS_URL",
  oai: "ARXIV_OAI_URL",
  "hf-daily": "HF_API_URL",
} as const;

export function hfDailySource(config: Config, opts: { since: string; until?: string }): IngestSource {
  const until = opts.until ?? isoDay(new Date());
  if (opts.since > until) throw new InputError(`--since ${opts.since} is after --until ${until}: no day to fetch`);
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

/** What the two arXiv API sources (a search, a list of ids) share: their name, their setting, and how a page is read. */
function arxivApi(config: Config) {
  return {
    source: { name: "arxiv", what: "the arXiv API", setting: { env: URL_SETTINGS.arxiv, value: config.arxivApiUrl }, notes: [] as string[] },
    parse: (res: { text(): string }) => parseArxivAtom(res.text(), { limits: limitsFrom(config) }),
  };
}

export function arxivSource(config: Config, opts: { categories: string[]; from: Date; until: Date; pageSize: number }): IngestSource {
  const api = arxivApi(config);
  const source: IngestSource = {
    ...api.source,
    async *pages(client) {
      let fetched = 0;
      let total = 0;
      let lastReturned = -1;
      const pages = fetchArxivSearch(
        client,
        config.arxivApiUrl,
        { categories: opts.categories, from: opts.from, until: opts.until, maxResults: opts.pageSize },
        api.parse,
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

/**
 * Single papers by arXiv id (`related`, chat /related and /save, library imports, with papers the
 * index does not hold). Ids arXiv does not know are named in a note; the caller finds out by
 * looking for the paper.
 */
export function arxivIdsSource(config: Config, ids: readonly string[]): IngestSource {
  const api = arxivApi(config);
  const source: IngestSource = {
    ...api.source,
    async *pages(client) {
      const pages = fetchArxivIds(client, config.arxivApiUrl, ids, api.parse);
      for await (const page of pages) {
        const missing = missingArxivIds(page.ids, page.page);
        if (missing.length > 0) source.notes.push(`arXiv does not know ${missing.join(", ")}`);
        yield { label: `ids ${page.ids.join(", ")}`, papers: page.page.entries.map((e) => e.paper), deleted: 0, errors: page.page.errors };
      }
    },
  };
  return source;
}

export function arxivRssSource(config: Config, feed: string): IngestSource {
  const source: IngestSource = {
    name: "arxiv-rss",
    what: "the arXiv RSS feed",
    setting: { env: URL_SETTINGS["arxiv-rss"], value: config.arxivRssUrl },
    notes: [],
    async *pages(client) {
      const rss = await fetchArxivRss(client, config.arxivRssUrl, feed, (res) => parseArxivRss(res.text(), { limits: limitsFrom(config) }));
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

export interface OaiOptions {
  set?: string;
  from?: string;
  until?: string;
  metadataPrefix: string;
}

/** File name of an OAI harvest's state: one per request, so different harvests never resume each other. */
export function oaiStateFile(indexDir: string, req: { metadataPrefix: string; set?: string; from?: string; until?: string }): string {
  const part = (s: string | undefined, none: string) => (s === undefined ? none : s.replace(/[^A-Za-z0-9._-]+/g, "_"));
  return path.join(indexDir, "harvest", `oai-${part(req.metadataPrefix, "")}-${part(req.set, "all")}-${part(req.from, "start")}-${part(req.until, "open")}.json`);
}

function oaiSource(config: Config, opts: OaiOptions, stateFile: string, realStateFile: string): IngestSource {
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
          const page = parseOaiPmh(res.text(), { limits: limitsFrom(config) });
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

/**
 * The OAI source of an index: its harvest state lives in <index>/harvest/. A dry run resumes like a
 * real one would, from a copy of the state, and leaves the real one alone; `dispose` removes the copy.
 */
export async function openOaiSource(config: Config, indexDir: string, opts: OaiOptions, dryRun: boolean): Promise<{ source: IngestSource; dispose(): Promise<void> }> {
  const real = oaiStateFile(indexDir, opts);
  if (!dryRun) return { source: oaiSource(config, opts, real, real), dispose: async () => undefined };
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), "paperhound-oai-dry-"));
  const stateFile = path.join(tmpDir, path.basename(real));
  if (existsSync(real)) await copyFile(real, stateFile);
  return { source: oaiSource(config, opts, stateFile, real), dispose: () => rm(tmpDir, { recursive: true, force: true }) };
}

/** An ingest run that stopped on a page it could not fetch or read, or could not reach the source. */
export class IngestError extends PaperhoundError {
  readonly identifier = "ingest";
  override readonly name = "IngestError";
}

/** "cannot reach" wording for network failures; the page error's own message otherwise. */
export function describeFailure(err: PageError, source: Pick<IngestSource, "what" | "setting">): string {
  const cause = err.cause;
  if (cause instanceof FetchError && (cause.kind === "network" || cause.kind === "timeout")) {
    return (
      `cannot reach ${source.what}: ${cause.message}. Check the network connection` +
      ` (the address comes from ${source.setting.env}=${source.setting.value})`
    );
  }
  return err.message;
}

/**
 * The sources a team follows (INGEST_CATEGORIES, INGEST_HF_DAILY) for the last `days` days, the
 * arXiv API first: `paperhound ingest followed` and the first ingest of `paperhound setup`.
 */
export function followedSources(config: Config, days: number, now: Date = new Date()): IngestSource[] {
  const sources: IngestSource[] = [];
  if (config.ingestCategories.length > 0) {
    sources.push(arxivSource(config, { categories: [...config.ingestCategories], from: new Date(now.getTime() - days * 86_400_000), until: now, pageSize: DEFAULT_ARXIV_PAGE_SIZE }));
  }
  if (config.ingestHfDaily) sources.push(hfDailySource(config, { since: isoDay(new Date(now.getTime() - (days - 1) * 86_400_000)), until: isoDay(now) }));
  return sources;
}
