/**
 * The request URLs of each remote source, as pure functions of a configured base URL (so tests and
 * mirrors can point them elsewhere). Nothing here does I/O.
 *
 *   arXiv API     <ARXIV_API_URL>?search_query=...&start=0&max_results=200&sortBy=submittedDate&sortOrder=ascending
 *                 <ARXIV_API_URL>?id_list=2401.00631,2401.00632&start=0&max_results=2
 *   arXiv RSS     <ARXIV_RSS_URL>cs.LG+cs.AI
 *   OAI-PMH       <ARXIV_OAI_URL>?verb=ListRecords&metadataPrefix=arXiv&set=cs&from=2026-11-01
 *                 <ARXIV_OAI_URL>?verb=ListRecords&resumptionToken=...   (the token stands alone, per OAI-PMH)
 *   Hugging Face  <HF_API_URL>/daily_papers?date=2026-11-02
 */
import { parseArxivRef } from "../arxiv-id.js";
import { isArxivCategoryCode, isCalendarDate } from "../checks.js";

const NO_CATEGORY = "at least one category is needed";

/** arXiv returns at most 2000 entries per API call. */
export const ARXIV_MAX_PAGE_SIZE = 2000;
/** Ids per `id_list` request: long lists make long URLs, and one bad id fails its whole batch. */
export const ARXIV_ID_BATCH_SIZE = 100;

/** "cs.LG", "hep-th", "astro-ph.CO", "q-bio.NC", or a whole archive ("cs", "math"). */
export function assertCategory(category: string): void {
  if (!isArxivCategoryCode(category)) throw new RangeError(`not an arXiv category: ${JSON.stringify(category)} (expected e.g. cs.LG or hep-th)`);
}

function withQuery(baseUrl: string, params: Record<string, string>): string {
  const url = new URL(baseUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** YYYYMMDDhhmm in UTC, the form of arXiv's `submittedDate` ranges. */
export function arxivDateTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("invalid date");
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}`;
}

/** YYYY-MM-DD in UTC. */
export function isoDay(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("invalid date");
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function assertDay(day: string, what: string): void {
  if (!isCalendarDate(day, { dayOnly: true })) {
    throw new RangeError(`${what} must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
}

export interface ArxivSearchParams {
  /** Any of these categories (OR). At least one. */
  categories: readonly string[];
  /** Submitted at or after (minute precision, UTC). */
  from: Date;
  /** Submitted at or before (minute precision, UTC). */
  until: Date;
  /** Offset of the first entry. Default 0. */
  start?: number;
  /** Entries per page, 1 to 2000. Default 200. */
  maxResults?: number;
  /** Default "ascending": oldest first, so a page that fails leaves a clean "done up to here". */
  sortOrder?: "ascending" | "descending";
}

/** `(cat:cs.LG OR cat:cs.CV) AND submittedDate:[202611010000 TO 202611032359]` */
export function arxivSearchQuery(categories: readonly string[], from: Date, until: Date): string {
  if (categories.length === 0) throw new RangeError(NO_CATEGORY);
  categories.forEach(assertCategory);
  if (from.getTime() > until.getTime()) throw new RangeError(`from (${from.toISOString()}) is after until (${until.toISOString()})`);
  const cats = categories.map((c) => `cat:${c}`);
  const catPart = cats.length === 1 ? cats[0]! : `(${cats.join(" OR ")})`;
  return `${catPart} AND submittedDate:[${arxivDateTime(from)} TO ${arxivDateTime(until)}]`;
}

/** One page of an arXiv API search by categories and submission dates, newest-submitted order by `sortOrder`. */
export function arxivSearchUrl(baseUrl: string, params: ArxivSearchParams): string {
  const start = params.start ?? 0;
  const maxResults = params.maxResults ?? 200;
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${start}`);
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > ARXIV_MAX_PAGE_SIZE) {
    throw new RangeError(`maxResults must be 1 to ${ARXIV_MAX_PAGE_SIZE}, got ${maxResults}`);
  }
  return withQuery(baseUrl, {
    search_query: arxivSearchQuery(params.categories, params.from, params.until),
    start: String(start),
    max_results: String(maxResults),
    sortBy: "submittedDate",
    sortOrder: params.sortOrder ?? "ascending",
  });
}

/**
 * The next page of an arXiv search, or null when done: after the last of `totalResults`, or when a
 * page came back empty (arXiv then has nothing more to give, whatever totalResults said).
 * `returned` is the number of entries on the page just read.
 */
export function nextArxivSearchUrl(
  baseUrl: string,
  params: ArxivSearchParams,
  page: { returned: number; totalResults: number },
): string | null {
  const start = (params.start ?? 0) + page.returned;
  if (page.returned === 0 || start >= page.totalResults) return null;
  return arxivSearchUrl(baseUrl, { ...params, start });
}

export interface ArxivIdBatch {
  url: string;
  /** The ids asked for, canonical (with the version when one was given): to report those arXiv leaves out. */
  ids: string[];
}

/**
 * `id_list` requests for any number of arXiv ids, `batchSize` per request, duplicates removed.
 * Throws RangeError naming every input that is not an arXiv id, before any request: arXiv would
 * fail a whole batch for one bad id.
 */
export function arxivIdListBatches(baseUrl: string, ids: readonly string[], batchSize = ARXIV_ID_BATCH_SIZE): ArxivIdBatch[] {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > ARXIV_MAX_PAGE_SIZE) {
    throw new RangeError(`batchSize must be 1 to ${ARXIV_MAX_PAGE_SIZE}, got ${batchSize}`);
  }
  const canonical: string[] = [];
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const input of ids) {
    const ref = parseArxivRef(input);
    if (!ref) {
      bad.push(input);
      continue;
    }
    const id = ref.version === undefined ? ref.id : `${ref.id}v${ref.version}`;
    if (!seen.has(id)) {
      seen.add(id);
      canonical.push(id);
    }
  }
  if (bad.length > 0) throw new RangeError(`not arXiv ids: ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
  const batches: ArxivIdBatch[] = [];
  for (let i = 0; i < canonical.length; i += batchSize) {
    const batch = canonical.slice(i, i + batchSize);
    batches.push({
      // max_results must be given: it defaults to 10, which would silently cut a larger batch.
      url: withQuery(baseUrl, { id_list: batch.join(","), start: "0", max_results: String(batch.length) }),
      ids: batch,
    });
  }
  return batches;
}

/** The RSS feed of one or more categories: `<base>cs.LG+cs.AI` (arXiv joins categories with a literal "+"). */
export function arxivRssUrl(baseUrl: string, categories: readonly string[] | string): string {
  const list = typeof categories === "string" ? categories.split("+") : [...categories];
  if (list.length === 0 || list.some((c) => c === "")) throw new RangeError(NO_CATEGORY);
  list.forEach(assertCategory);
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return new URL(list.join("+"), base).toString();
}

export type OaiListRecordsParams =
  | {
      /** "oai_dc", "arXiv", "arXivRaw". */
      metadataPrefix: string;
      /** "cs", "math", "physics:hep-th", ... */
      set?: string;
      /** Datestamps from (inclusive), YYYY-MM-DD. */
      from?: string;
      /** Datestamps until (inclusive), YYYY-MM-DD. */
      until?: string;
    }
  | { resumptionToken: string };

/** An OAI-PMH ListRecords request: a first request with its arguments, or a continuation with the token alone. */
export function oaiListRecordsUrl(baseUrl: string, params: OaiListRecordsParams): string {
  if ("resumptionToken" in params) {
    if (params.resumptionToken === "") throw new RangeError("empty resumption token");
    // OAI-PMH: resumptionToken is an exclusive argument; adding the others makes a badArgument error.
    return withQuery(baseUrl, { verb: "ListRecords", resumptionToken: params.resumptionToken });
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(params.metadataPrefix)) throw new RangeError(`bad metadataPrefix ${JSON.stringify(params.metadataPrefix)}`);
  if (params.from !== undefined) assertDay(params.from, "from");
  if (params.until !== undefined) assertDay(params.until, "until");
  if (params.from !== undefined && params.until !== undefined && params.from > params.until) {
    throw new RangeError(`from (${params.from}) is after until (${params.until})`);
  }
  const query: Record<string, string> = { verb: "ListRecords", metadataPrefix: params.metadataPrefix };
  if (params.set !== undefined) query.set = params.set;
  if (params.from !== undefined) query.from = params.from;
  if (params.until !== undefined) query.until = params.until;
  return withQuery(baseUrl, query);
}

/** Hugging Face daily papers of one day: `<HF_API_URL>/daily_papers?date=YYYY-MM-DD`. */
export function hfDailyPapersUrl(baseUrl: string, date: string | Date): string {
  const day = typeof date === "string" ? date : isoDay(date);
  assertDay(day, "date");
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  const url = new URL("daily_papers", base);
  url.searchParams.set("date", day);
  return url.toString();
}

/** Every day from `since` to `until` inclusive, as YYYY-MM-DD (one Hugging Face request each). */
export function daysBetween(since: string, until: string): string[] {
  assertDay(since, "since");
  assertDay(until, "until");
  const days: string[] = [];
  for (let t = Date.parse(`${since}T00:00:00Z`); t <= Date.parse(`${until}T00:00:00Z`); t += 86_400_000) {
    days.push(isoDay(new Date(t)));
  }
  return days;
}
