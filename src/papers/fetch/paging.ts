/**
 * Fetching page after page (arXiv search results, OAI-PMH resumption, any paged feed) without
 * losing pages: each page is yielded as soon as it is read, so when page 7 fails for good the
 * caller has already stored pages 1 to 6 and gets a `PageError` saying which page failed.
 *
 * The driver knows nothing of formats: `parse` reads a response and says what the page holds and
 * where the next one is (or null when done). A 2xx page that `parse` cannot read (a proxy's HTML
 * page, a truncated document that slipped through) is fetched again `refetchUnreadable` times
 * before giving up; a non-2xx page is the parser's to judge (arXiv's 400 error feed).
 */
import type { Logger } from "../../log.js";
import { redactUrl, type HttpResponse, type PoliteHttpClient, type RequestOptions } from "./http-client.js";
import { PaperhoundError } from "../../errors.js";

export interface ParsedPage<P> {
  page: P;
  /** URL of the next page, or null when this was the last. */
  next: string | null;
}

export interface PageContext {
  /** The page's URL (as requested, secrets included: the parser may need it). */
  url: string;
  /** 0 for the first page. */
  index: number;
}

export interface FetchedPage<P> {
  /** 0 for the first page. */
  index: number;
  /** URL of the page, secrets removed. */
  url: string;
  status: number;
  page: P;
  /** URL of the next page, or null when this was the last. */
  next: string | null;
}

export interface FetchPagesOptions<P> {
  client: PoliteHttpClient;
  firstUrl: string;
  parse: (response: HttpResponse, context: PageContext) => ParsedPage<P> | Promise<ParsedPage<P>>;
  /** Budget, headers, abort signal for every page. */
  request?: RequestOptions;
  /** Extra fetches of a 2xx page that `parse` rejects. Default 1. */
  refetchUnreadable?: number;
  /** Stop with a PageError after this many pages (a runaway feed). Default: no limit. */
  maxPages?: number;
  logger?: Logger;
}

/** A page that could not be fetched or read; the pages before it were already yielded. */
export class PageError extends PaperhoundError {
  readonly identifier = "page";
  override readonly name = "PageError";
  constructor(
    message: string,
    /** URL of the failed page, secrets removed. */
    readonly url: string,
    /** Index of the failed page (0-based) = the number of pages yielded before it. */
    readonly index: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function* fetchPages<P>(options: FetchPagesOptions<P>): AsyncGenerator<FetchedPage<P>, void, undefined> {
  const { client, parse } = options;
  const refetch = options.refetchUnreadable ?? 1;
  const maxPages = options.maxPages ?? Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  let url: string | null = options.firstUrl;

  for (let index = 0; url !== null; index++) {
    const shown = redactUrl(url);
    if (index >= maxPages) throw new PageError(`stopped after ${maxPages} pages; ${shown} not fetched`, shown, index);
    // A server that hands back a page already read would make this loop forever.
    if (seen.has(url)) throw new PageError(`page ${index + 1} repeats an earlier page: ${shown}`, shown, index);
    seen.add(url);

    let parsed: ParsedPage<P> | undefined;
    let status = 0;
    for (let read = 0; parsed === undefined; read++) {
      let response: HttpResponse;
      try {
        response = await client.get(url, options.request);
      } catch (err) {
        throw new PageError(`page ${index + 1} could not be fetched: ${describe(err)}`, shown, index, { cause: err });
      }
      status = response.status;
      try {
        parsed = await parse(response, { url, index });
      } catch (err) {
        if (!response.ok || read >= refetch) {
          throw new PageError(`page ${index + 1} could not be read (HTTP ${response.status}): ${describe(err)}`, shown, index, {
            cause: err,
          });
        }
        options.logger?.warn("page unreadable, fetching it again", { url: shown, page: index + 1, error: describe(err) });
      }
    }
    yield { index, url: shown, status, page: parsed.page, next: parsed.next };
    url = parsed.next;
  }
}
