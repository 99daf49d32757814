/**
 * A resumable OAI-PMH ListRecords harvest. A bulk harvest of a whole arXiv set is thousands of
 * pages at one request every few seconds; after a crash it must go on from where it stopped, not
 * start again. So after the caller has finished with each page, the page's resumption token is
 * written to a small JSON state file (temp file + rename, so a crash mid-write leaves the old state,
 * never a torn one). The next harvest with the same request starts from that token.
 *
 * Delivery is at least once: the token is saved only when the caller asks for the next page, so a
 * page whose processing was interrupted is fetched again on resume. Indexing is idempotent, so a
 * repeated page costs time, never duplicates.
 *
 * Resumption tokens expire (arXiv's after some hours or days): resuming with a stale one gets an
 * OAI `badResumptionToken` error from the parser; start over with `clearOaiState`.
 */
import { readFile, rm } from "node:fs/promises";
import type { Logger } from "../../log.js";
import type { HttpResponse, PoliteHttpClient, RequestOptions } from "./http-client.js";
import { fetchPages, type FetchedPage, type PageContext } from "./paging.js";
import { oaiListRecordsUrl } from "./requests.js";
import { writeFileAtomic } from "../../atomic-write.js";
import { PaperhoundError } from "../../errors.js";

/** What is being harvested; a saved state is only resumed for the same request. */
export interface OaiHarvestRequest {
  baseUrl: string;
  metadataPrefix: string;
  set?: string;
  from?: string;
  until?: string;
}

export interface OaiHarvestState {
  version: 1;
  request: OaiHarvestRequest;
  /** Token of the next page to fetch; null when the harvest is complete (or has not got one yet). */
  resumptionToken: string | null;
  /** Pages finished, over all runs of this harvest. */
  pagesDone: number;
  complete: boolean;
  /** ISO time of the last save. */
  updatedAt: string;
}

export interface OaiParsedPage<P> {
  page: P;
  /** The response's resumption token; null or "" when the list is complete. */
  resumptionToken: string | null;
}

export interface HarvestOaiOptions<P> {
  client: PoliteHttpClient;
  request: OaiHarvestRequest;
  /** Where the harvest state lives, e.g. `<index>/harvest/oai-cs.json`. */
  stateFile: string;
  parse: (response: HttpResponse, context: PageContext) => OaiParsedPage<P> | Promise<OaiParsedPage<P>>;
  /** Budget (default "arxiv"), headers, abort signal for every page. */
  requestOptions?: RequestOptions;
  refetchUnreadable?: number;
  logger?: Logger;
  /** Clock for `updatedAt`. */
  now?: () => Date;
}

export interface HarvestedPage<P> extends FetchedPage<P> {
  resumptionToken: string | null;
  /** True when this run started from a saved token. */
  resumed: boolean;
}

/** Thrown for a state file that exists but cannot be used (not JSON, wrong shape). */
export class OaiStateError extends PaperhoundError {
  readonly identifier = "oai_state";
  override readonly name = "OaiStateError";
}

function sameRequest(a: OaiHarvestRequest, b: OaiHarvestRequest): boolean {
  return (
    a.baseUrl === b.baseUrl && a.metadataPrefix === b.metadataPrefix && a.set === b.set && a.from === b.from && a.until === b.until
  );
}

function isState(v: unknown): v is OaiHarvestState {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  const r = s.request as Record<string, unknown> | null | undefined;
  return (
    s.version === 1 &&
    typeof r === "object" &&
    r !== null &&
    typeof r.baseUrl === "string" &&
    typeof r.metadataPrefix === "string" &&
    (s.resumptionToken === null || typeof s.resumptionToken === "string") &&
    typeof s.pagesDone === "number" &&
    typeof s.complete === "boolean"
  );
}

/** The saved state, or undefined when there is none. Throws OaiStateError for an unreadable file. */
export async function loadOaiState(file: string): Promise<OaiHarvestState | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OaiStateError(`${file}: harvest state is not valid JSON; delete it to start the harvest over`);
  }
  if (!isState(value)) throw new OaiStateError(`${file}: not a paperhound OAI harvest state; delete it to start the harvest over`);
  return value;
}

/** Writes the state atomically: a crash mid-write leaves the previous state. */
export async function saveOaiState(file: string, state: OaiHarvestState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

export async function clearOaiState(file: string): Promise<void> {
  await rm(file, { force: true });
}

/**
 * Harvests ListRecords page by page, resuming from the state file when it holds an unfinished
 * harvest of the same request. Each yielded page is recorded as done when the caller asks for the
 * next one; a failure raises `PageError` after the pages before it.
 */
export async function* harvestOai<P>(options: HarvestOaiOptions<P>): AsyncGenerator<HarvestedPage<P>, void, undefined> {
  const { request, stateFile, logger } = options;
  const now = options.now ?? (() => new Date());
  const saved = await loadOaiState(stateFile);

  let resumed = false;
  let pagesDone = 0;
  let firstUrl: string;
  if (saved && !saved.complete && saved.resumptionToken && sameRequest(saved.request, request)) {
    resumed = true;
    pagesDone = saved.pagesDone;
    firstUrl = oaiListRecordsUrl(request.baseUrl, { resumptionToken: saved.resumptionToken });
    logger?.info("resuming OAI-PMH harvest", { stateFile, pagesDone });
  } else {
    if (saved && !saved.complete && !sameRequest(saved.request, request)) {
      logger?.warn("OAI-PMH state file holds an unfinished harvest of another request; starting this one over", {
        stateFile,
        saved: saved.request,
      });
    }
    const { baseUrl, ...args } = request;
    firstUrl = oaiListRecordsUrl(baseUrl, args);
  }

  const pages = fetchPages<OaiParsedPage<P>>({
    client: options.client,
    firstUrl,
    request: { budget: "arxiv", ...options.requestOptions },
    ...(options.refetchUnreadable === undefined ? {} : { refetchUnreadable: options.refetchUnreadable }),
    ...(logger ? { logger } : {}),
    parse: async (response, context) => {
      const parsed = await options.parse(response, context);
      const token = parsed.resumptionToken || null;
      return { page: parsed, next: token === null ? null : oaiListRecordsUrl(request.baseUrl, { resumptionToken: token }) };
    },
  });

  for await (const fetched of pages) {
    const token = fetched.page.resumptionToken || null;
    yield { ...fetched, page: fetched.page.page, resumptionToken: token, resumed };
    // Reached only when the caller asks for the next page, i.e. it is done with this one.
    pagesDone += 1;
    await saveOaiState(stateFile, {
      version: 1,
      request,
      resumptionToken: token,
      pagesDone,
      complete: token === null,
      updatedAt: now().toISOString(),
    });
  }
}
