/**
 * Fetching papers from remote sources: politely, with retries, page by page, resumably.
 *
 * How a command uses it (parsers from src/papers/sources/, store from src/search/):
 *
 *   const config = ctx.config();
 *   const client = createSourceHttpClient(config, ctx.logger());     // one per process is enough
 *
 *   // arXiv API, categories and dates: pages are yielded as they arrive; store each before the next.
 *   for await (const page of fetchArxivSearch(client, config.arxivApiUrl,
 *       { categories: ["cs.LG"], from, until, maxResults: 200 }, (res) => parseArxivAtom(res.text()))) {
 *     await index.add(page.page.entries.map((e) => e.paper));
 *   }
 *
 *   // arXiv id lookups (`related <id>`): 100 ids a request; report ids arXiv left out.
 *   for await (const batch of fetchArxivIds(client, config.arxivApiUrl, ids, (res) => parseArxivAtom(res.text()))) {
 *     missing.push(...missingArxivIds(batch.ids, batch.page));
 *   }
 *
 *   // RSS, one request; Hugging Face, one request a day (an empty day is an empty list).
 *   const feed = await fetchArxivRss(client, config.arxivRssUrl, "cs.LG+cs.AI", (res) => parseArxivRss(res.text()));
 *   for await (const day of fetchHfDailyPapers(client, config.hfApiUrl, daysBetween(since, today),
 *       (res, date) => parseHfDaily(res.text(), { date }))) { ... }
 *
 *   // OAI-PMH bulk harvest, resumed from its state file after a crash.
 *   for await (const page of harvestOai({ client, request: { baseUrl: config.arxivOaiUrl, metadataPrefix: "arXiv", set: "cs", from },
 *       stateFile: path.join(config.indexPath, "harvest", "oai-arXiv-cs.json"),
 *       parse: (res) => { const r = parseOaiPmh(res.text()); return { page: r, resumptionToken: r.resumptionToken?.token ?? null }; } })) {
 *     await index.add(...);
 *   }
 *
 * Failures: a page that cannot be fetched or read after retries raises `PageError` (its `cause` is
 * the `FetchError` or the parser's error) after the earlier pages were yielded, so the command can
 * report "fetched 6 pages, page 7 failed: ..." with everything before it kept. A `FetchError` with
 * kind "network" on the first page usually means the network is unreachable.
 * Non-2xx statuses other than 408/429/5xx reach the parser (arXiv's 400 error feed).
 */
export { systemClock, type Clock } from "./clock.js";
export {
  ARXIV_MIN_INTERVAL_FLOOR_MS,
  DEFAULT_HF_MIN_INTERVAL_MS,
  FetchError,
  PoliteHttpClient,
  backoffDelay,
  createSourceHttpClient,
  isArxivHost,
  parseRetryAfter,
  politenessFor,
  redactUrl,
  userAgent,
  type FetchErrorKind,
  type HttpResponse,
  type PoliteHttpClientOptions,
  type RequestOptions,
} from "./http-client.js";
export {
  OaiStateError,
  clearOaiState,
  harvestOai,
  loadOaiState,
  saveOaiState,
  type HarvestOaiOptions,
  type HarvestedPage,
  type OaiHarvestRequest,
  type OaiHarvestState,
  type OaiParsedPage,
} from "./oai-harvest.js";
export { PageError, fetchPages, type FetchPagesOptions, type FetchedPage, type PageContext, type ParsedPage } from "./paging.js";
export {
  ARXIV_ID_BATCH_SIZE,
  ARXIV_MAX_PAGE_SIZE,
  arxivDateTime,
  arxivIdListBatches,
  arxivRssUrl,
  arxivSearchQuery,
  arxivSearchUrl,
  assertCategory,
  daysBetween,
  hfDailyPapersUrl,
  isoDay,
  nextArxivSearchUrl,
  oaiListRecordsUrl,
  type ArxivIdBatch,
  type ArxivSearchParams,
  type OaiListRecordsParams,
} from "./requests.js";
export { RequestScheduler, sharedScheduler, type Politeness } from "./scheduler.js";
export { fetchArxivIds, fetchArxivRss, fetchArxivSearch, fetchHfDailyPapers, type DriverOptions } from "./sources.js";
