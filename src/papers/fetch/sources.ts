/**
 * One fetch driver per remote source, joining the request builders (requests.ts), the paging
 * driver (paging.ts) and the right politeness budget. Each takes the source's parser as a callback
 * (`parse(response)`; the parsers live in src/papers/sources/), so this layer never reads a format
 * and the parsers never do I/O. Every driver yields as it goes and raises `PageError` for a page
 * that fails for good, after the pages before it.
 *
 * OAI-PMH harvests, which also need a state file, are in oai-harvest.ts.
 */
import type { Logger } from "../../log.js";
import type { HttpResponse, PoliteHttpClient } from "./http-client.js";
import { fetchPages, type FetchedPage } from "./paging.js";
import {
  ARXIV_ID_BATCH_SIZE,
  arxivIdListBatches,
  arxivRssUrl,
  arxivSearchUrl,
  hfDailyPapersUrl,
  nextArxivSearchUrl,
  type ArxivSearchParams,
} from "./requests.js";

export interface DriverOptions {
  signal?: AbortSignal;
  /** Extra fetches of a 2xx page the parser rejects. Default 1. */
  refetchUnreadable?: number;
  logger?: Logger;
}

type Parse<F> = (response: HttpResponse) => F | Promise<F>;

function common(options: DriverOptions, budget: string): Pick<Parameters<typeof fetchPages>[0], "request" | "refetchUnreadable" | "logger"> {
  return {
    request: { budget, ...(options.signal ? { signal: options.signal } : {}) },
    ...(options.refetchUnreadable === undefined ? {} : { refetchUnreadable: options.refetchUnreadable }),
    ...(options.logger ? { logger: options.logger } : {}),
  };
}

/** Fetches `urls` in order as the pages of one run (a failed URL stops the run after the earlier ones). */
async function* fetchList<F>(
  client: PoliteHttpClient,
  urls: readonly string[],
  parse: (response: HttpResponse, index: number) => F | Promise<F>,
  options: DriverOptions,
  budget: string,
): AsyncGenerator<FetchedPage<F>, void, undefined> {
  const first = urls[0];
  if (first === undefined) return;
  yield* fetchPages<F>({
    client,
    firstUrl: first,
    ...common(options, budget),
    parse: async (response, { index }) => ({ page: await parse(response, index), next: urls[index + 1] ?? null }),
  });
}

/**
 * An arXiv API search by categories and submission dates, page after page until `totalResults`
 * (or an empty page). `parse` returns the page's feed; only `entries.length` and `totalResults`
 * are read here.
 */
export async function* fetchArxivSearch<F extends { entries: readonly unknown[]; totalResults?: number | undefined }>(
  client: PoliteHttpClient,
  baseUrl: string,
  params: ArxivSearchParams,
  parse: Parse<F>,
  options: DriverOptions = {},
): AsyncGenerator<FetchedPage<F>, void, undefined> {
  let start = params.start ?? 0;
  yield* fetchPages<F>({
    client,
    firstUrl: arxivSearchUrl(baseUrl, { ...params, start }),
    ...common(options, "arxiv"),
    parse: async (response) => {
      const feed = await parse(response);
      const next = nextArxivSearchUrl(baseUrl, { ...params, start }, { returned: feed.entries.length, totalResults: feed.totalResults ?? 0 });
      // Pages are strictly sequential, so advancing here is safe.
      start += feed.entries.length;
      return { page: feed, next };
    },
  });
}

/**
 * Looks up arXiv ids with `id_list`, `batchSize` (default 100) per request. Each yielded page
 * carries the ids its request asked for, so the caller can report those arXiv left out.
 * Throws RangeError for inputs that are not arXiv ids before any request.
 */
export async function* fetchArxivIds<F>(
  client: PoliteHttpClient,
  baseUrl: string,
  ids: readonly string[],
  parse: Parse<F>,
  options: DriverOptions & { batchSize?: number } = {},
): AsyncGenerator<FetchedPage<F> & { ids: string[] }, void, undefined> {
  const batches = arxivIdListBatches(baseUrl, ids, options.batchSize ?? ARXIV_ID_BATCH_SIZE);
  for await (const page of fetchList(client, batches.map((b) => b.url), parse, options, "arxiv")) {
    yield { ...page, ids: batches[page.index]!.ids };
  }
}

/** The RSS feed of one or more categories ("cs.LG+cs.AI"): one request. */
export async function fetchArxivRss<F>(
  client: PoliteHttpClient,
  baseUrl: string,
  categories: readonly string[] | string,
  parse: Parse<F>,
  options: DriverOptions = {},
): Promise<F> {
  for await (const page of fetchList(client, [arxivRssUrl(baseUrl, categories)], parse, options, "arxiv")) return page.page;
  throw new Error("unreachable: a one-URL list yields one page or throws");
}

/**
 * Hugging Face daily papers, one request per day (YYYY-MM-DD), in the order given. A day without
 * papers is whatever the parser makes of an empty list: normally an empty page, not an error.
 */
export async function* fetchHfDailyPapers<F>(
  client: PoliteHttpClient,
  baseUrl: string,
  days: readonly string[],
  parse: (response: HttpResponse, day: string) => F | Promise<F>,
  options: DriverOptions = {},
): AsyncGenerator<FetchedPage<F> & { day: string }, void, undefined> {
  const unique = [...new Set(days)];
  const urls = unique.map((day) => hfDailyPapersUrl(baseUrl, day));
  for await (const page of fetchList(client, urls, (response, index) => parse(response, unique[index]!), options, "huggingface")) {
    yield { ...page, day: unique[page.index]! };
  }
}
