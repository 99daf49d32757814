/**
 * The one HTTP client every remote paper source goes through (arXiv API, RSS and OAI-PMH, Hugging
 * Face), built on Node's fetch.
 *
 * - Politeness: every attempt waits for its budget in a `RequestScheduler` (process-wide by default).
 *   All arXiv hosts share one budget: one request at a time, each at least 3 s after the previous
 *   one started and ended;
 *   Hugging Face has its own, shorter interval.
 * - Identification: a User-Agent naming paperhound, its version and the operator's contact address.
 * - Failures: every attempt has a deadline for the response headers and one for the whole body.
 *   Network errors, timeouts, truncated bodies and 408/429/500/502/503/504 are retried with
 *   exponential backoff and jitter, or after the server's Retry-After (which also holds back the
 *   rest of the budget), up to `maxAttempts`; then a `FetchError` says what happened.
 * - Any other status is not an error here: the response (status + body) goes back to the caller,
 *   because arXiv answers a bad query with HTTP 400 and an Atom error feed its parser must read.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../../config.js";
import { isSecretKey, type Logger } from "../../log.js";
import { projectRoot } from "../../paths.js";
import { systemClock, type Clock } from "./clock.js";
import { sharedScheduler, type Politeness, type RequestScheduler } from "./scheduler.js";
import { PaperhoundError } from "../../errors.js";

/** arXiv's terms of use: no more than one request every three seconds. Never lowered for arxiv.org hosts. */
export const ARXIV_MIN_INTERVAL_FLOOR_MS = 3000;
export const DEFAULT_HF_MIN_INTERVAL_MS = 1000;

/** Statuses that mean "try again later" rather than "this request is wrong". */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** Statuses whose Retry-After header we obey (RFC 9110 defines it for 503 and RFC 6585 for 429). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export type FetchErrorKind =
  /** Connection refused or reset, DNS failure, body cut short. */
  | "network"
  /** No response headers, or no complete body, within the deadline. */
  | "timeout"
  /** A retryable status (429, 5xx) on every attempt. */
  | "status"
  /** The body is larger than `maxBodyBytes`. */
  | "too-large"
  /** The server asked to wait longer than `maxRetryAfterMs`; retrying sooner would ignore it. */
  | "retry-after-too-long"
  /** The caller's signal aborted the request. */
  | "aborted";

/** A request that did not produce a usable response. `url` has secrets (credentials, token-like parameters) removed. */
export class FetchError extends PaperhoundError {
  readonly identifier = "fetch";
  override readonly name = "FetchError";
  readonly url: string;
  readonly kind: FetchErrorKind;
  /** The last HTTP status received, if any. */
  readonly status: number | undefined;
  /** Attempts made, including the last. */
  readonly attempts: number;
  /** The server's Retry-After, when that is why the request stopped. */
  readonly retryAfterMs: number | undefined;
  /** The start of the last response body (for status errors), to show what the server said. */
  readonly bodySnippet: string | undefined;

  constructor(init: {
    url: string;
    kind: FetchErrorKind;
    attempts: number;
    detail: string;
    status?: number;
    retryAfterMs?: number;
    bodySnippet?: string;
    cause?: unknown;
  }) {
    const tries = init.attempts === 1 ? "1 attempt" : `${init.attempts} attempts`;
    super(`GET ${init.url} failed after ${tries}: ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.url = init.url;
    this.kind = init.kind;
    this.status = init.status;
    this.attempts = init.attempts;
    this.retryAfterMs = init.retryAfterMs;
    this.bodySnippet = init.bodySnippet;
  }
}

/** A complete response: every status except the retryable ones that ran out of attempts. */
export interface HttpResponse {
  /** The URL finally answered (after redirects), secrets removed. */
  readonly url: string;
  readonly status: number;
  /** True for 2xx. */
  readonly ok: boolean;
  readonly headers: Headers;
  readonly body: Buffer;
  /** Attempts it took (1 when the first one answered). */
  readonly attempts: number;
  /** The body decoded as UTF-8. */
  text(): string;
}

export interface PoliteHttpClientOptions {
  /** Operator's e-mail, sent as `mailto:` in the User-Agent. arXiv requests without one log a warning once. */
  contactEmail?: string;
  /** Overrides the whole User-Agent (default from `userAgent()`). */
  userAgent?: string;
  /** Gap before each arXiv request (all arXiv hosts together), from the previous one's start and end. Default and floor for arxiv.org hosts: 3000. */
  arxivMinIntervalMs?: number;
  /** Gap before each Hugging Face request, from the previous one's start and end. Default 1000. */
  hfMinIntervalMs?: number;
  /** Politeness for any other host (mirrors, test servers). Default: no interval, 4 at once. */
  otherHosts?: Politeness;
  /** Default: the process-wide `sharedScheduler`. */
  scheduler?: RequestScheduler;
  /** For backoff and Retry-After waits. Default: real time. */
  clock?: Clock;
  /** Random numbers in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Deadline from sending a request to its response headers (covers connecting). Default 30 s. */
  headersTimeoutMs?: number;
  /** Deadline for a whole attempt, headers and body. Default 120 s. */
  timeoutMs?: number;
  /** Attempts per request, the first included. Default 4. */
  maxAttempts?: number;
  /** First backoff wait; doubled each retry. Default 1 s. */
  backoffBaseMs?: number;
  /** Largest backoff wait. Default 60 s. */
  backoffMaxMs?: number;
  /** Longest Retry-After obeyed; a longer one ends the request with kind "retry-after-too-long". Default 10 min. */
  maxRetryAfterMs?: number;
  /** Largest body accepted (decoded bytes). Default 256 MiB; `Infinity` for none. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface RequestOptions {
  /**
   * Politeness budget. Default: from the host ("arxiv" for *.arxiv.org, "huggingface" for
   * huggingface.co, else the host itself). Sources pass theirs so a configured mirror or test server
   * keeps the source's budget. A real arxiv.org host is always in the "arxiv" budget.
   */
  budget?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides the client's `maxBodyBytes` for this request. */
  maxBodyBytes?: number;
}

const pkg = JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version?: string; homepage?: string };

/**
 * `paperhound/<version> (+<project url>; mailto:<contact>)`, leaving out parts that are unknown.
 * The project URL comes from package.json `homepage`.
 */
export function userAgent(contactEmail?: string, version = pkg.version ?? "0", projectUrl = pkg.homepage): string {
  const details = [projectUrl ? `+${projectUrl}` : undefined, contactEmail ? `mailto:${contactEmail}` : undefined].filter(Boolean);
  return details.length > 0 ? `paperhound/${version} (${details.join("; ")})` : `paperhound/${version}`;
}

/** True for arxiv.org and its subdomains (export., rss., oaipmh.). */
export function isArxivHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "arxiv.org" || h.endsWith(".arxiv.org");
}

function isHuggingFaceHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "huggingface.co" || h.endsWith(".huggingface.co") || h === "hf.co";
}

/** Which budget a request belongs to and the politeness it gets (exported for tests and diagnostics). */
export function politenessFor(
  url: URL,
  budget: string | undefined,
  options: Pick<PoliteHttpClientOptions, "arxivMinIntervalMs" | "hfMinIntervalMs" | "otherHosts"> = {},
): { budget: string; politeness: Politeness } {
  const realArxiv = isArxivHost(url.hostname);
  const key = realArxiv ? "arxiv" : (budget ?? (isHuggingFaceHost(url.hostname) ? "huggingface" : `host:${url.host}`));
  if (key === "arxiv") {
    const configured = options.arxivMinIntervalMs ?? ARXIV_MIN_INTERVAL_FLOOR_MS;
    const minIntervalMs = realArxiv ? Math.max(configured, ARXIV_MIN_INTERVAL_FLOOR_MS) : configured;
    return { budget: key, politeness: { minIntervalMs, maxConcurrent: 1 } };
  }
  if (key === "huggingface") {
    return { budget: key, politeness: { minIntervalMs: options.hfMinIntervalMs ?? DEFAULT_HF_MIN_INTERVAL_MS, maxConcurrent: 1 } };
  }
  return { budget: key, politeness: options.otherHosts ?? { minIntervalMs: 0, maxConcurrent: 4 } };
}

/** The URL fit for logs and errors: no user/password, token-like query values replaced (same rule as log fields). */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "[invalid URL]";
  }
  u.username = "";
  u.password = "";
  for (const name of new Set(u.searchParams.keys())) {
    if (isSecretKey(name)) u.searchParams.set(name, "[redacted]");
  }
  return u.toString();
}

/**
 * Milliseconds a Retry-After header asks to wait: delay-seconds ("120") or an HTTP date.
 * Undefined when absent or unreadable; 0 for a date in the past.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP dates start with a day name ("Mon, 02 Nov 2026 12:00:00 GMT"); Date.parse alone would take "-3" as a year.
  if (!/^[A-Za-z]{3}/.test(v)) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so a crowd of clients spreads out. */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The wait a 429 or 503 response asks for, if it says. */
function retryAfterOf(outcome: AttemptOutcome, nowMs: number): number | undefined {
  if (outcome.kind !== "response" || !RETRY_AFTER_STATUSES.has(outcome.response.status)) return undefined;
  return parseRetryAfter(outcome.response.headers.get("retry-after"), nowMs);
}

/** What one attempt produced. */
type AttemptOutcome =
  | { kind: "response"; response: HttpResponse }
  | { kind: "failure"; error: FetchError; retryable: boolean };

const SILENT: Logger = {
  level: "error",
  enabled: () => false,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => SILENT,
};

export class PoliteHttpClient {
  readonly userAgent: string;
  private readonly scheduler: RequestScheduler;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly headersTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxBodyBytes: number;
  private readonly hasContact: boolean;
  private warnedNoContact = false;

  constructor(private readonly options: PoliteHttpClientOptions = {}) {
    this.userAgent = options.userAgent ?? userAgent(options.contactEmail);
    this.hasContact = options.userAgent !== undefined ? /mailto:|@/.test(options.userAgent) : Boolean(options.contactEmail);
    this.scheduler = options.scheduler ?? sharedScheduler;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? SILENT;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 60_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 600_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024 * 1024;
    if (!(this.maxAttempts >= 1)) throw new RangeError(`maxAttempts must be at least 1, got ${this.maxAttempts}`);
  }

  /**
   * GETs `url` politely, retrying what can be retried. Resolves with any response that is not a
   * retryable failure (check `status`: a 400 or 404 comes back here with its body); rejects with
   * `FetchError` when the retries run out, the body is too large, or `signal` aborts.
   */
  async get(url: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    const target = new URL(url);
    const shownUrl = redactUrl(target);
    const { budget, politeness } = politenessFor(target, options.budget, this.options);
    if (budget === "arxiv" && !this.hasContact && !this.warnedNoContact) {
      this.warnedNoContact = true;
      this.log.warn("arXiv requests carry no contact address; set PAPERHOUND_CONTACT_EMAIL (arXiv asks API clients for one)", {
        userAgent: this.userAgent,
      });
    }
    const maxBodyBytes = options.maxBodyBytes ?? this.maxBodyBytes;

    for (let attempt = 1; ; attempt++) {
      const queuedAt = this.clock.now();
      const outcome = await this.scheduler
        .run(budget, politeness, async () => {
          const waitedMs = this.clock.now() - queuedAt;
          this.log.debug("http request", { url: shownUrl, attempt, budget, waitedMs });
          const result = await this.attempt(target, shownUrl, attempt, options, maxBodyBytes);
          // A Retry-After speaks for the whole service: hold the budget before giving up the slot,
          // so no request queued behind this one slips out in the meantime.
          const retryAfterMs = retryAfterOf(result, this.clock.now());
          if (retryAfterMs !== undefined && retryAfterMs <= this.maxRetryAfterMs) {
            this.scheduler.holdOff(budget, this.clock.now() + retryAfterMs);
          }
          return result;
        }, options.signal)
        .catch((err: unknown): AttemptOutcome => {
          // attempt() never rejects: this is the caller's abort while queued, or a bad politeness setting.
          if (!options.signal?.aborted) throw err;
          return { kind: "failure", retryable: false, error: this.abortError(shownUrl, attempt, err) };
        });

      let waitMs: number;
      let reason: { status?: number; error?: string };
      if (outcome.kind === "response") {
        const { response } = outcome;
        if (!RETRYABLE_STATUSES.has(response.status)) return response;
        reason = { status: response.status };
        const retryAfterMs = retryAfterOf(outcome, this.clock.now());
        const statusError = (kind: FetchErrorKind, detail: string): FetchError =>
          new FetchError({
            url: shownUrl,
            kind,
            attempts: attempt,
            status: response.status,
            detail,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            bodySnippet: response.text().slice(0, 500),
          });
        if (retryAfterMs !== undefined && retryAfterMs > this.maxRetryAfterMs) {
          const error = statusError(
            "retry-after-too-long",
            `HTTP ${response.status} with Retry-After ${Math.ceil(retryAfterMs / 1000)} s, longer than the ${Math.ceil(this.maxRetryAfterMs / 1000)} s allowed`,
          );
          this.log.warn("http gave up", { url: shownUrl, status: response.status, attempt, retryAfterMs });
          throw error;
        }
        if (attempt >= this.maxAttempts) {
          this.log.warn("http gave up", { url: shownUrl, status: response.status, attempt });
          throw statusError("status", `HTTP ${response.status}`);
        }
        if (retryAfterMs !== undefined) {
          waitMs = retryAfterMs;
        } else {
          waitMs = backoffDelay(attempt, this.backoffBaseMs, this.backoffMaxMs, this.random);
        }
      } else {
        const { error, retryable } = outcome;
        if (!retryable || attempt >= this.maxAttempts) {
          this.log.warn("http gave up", { url: shownUrl, attempt, kind: error.kind, error: error.message });
          throw error;
        }
        reason = { error: error.message };
        waitMs = backoffDelay(attempt, this.backoffBaseMs, this.backoffMaxMs, this.random);
      }

      // One warning per request that fails for good ("http gave up"), not one per attempt.
      this.log.debug("http retry", { url: shownUrl, attempt, ...reason, waitMs });
      try {
        await this.clock.sleep(waitMs, options.signal);
      } catch (err) {
        throw this.abortError(shownUrl, attempt, err);
      }
    }
  }

  private abortError(shownUrl: string, attempts: number, cause: unknown): FetchError {
    return new FetchError({ url: shownUrl, kind: "aborted", attempts, detail: "aborted by the caller", cause });
  }

  /** One request and its whole body, under both deadlines. Never rejects: failures are outcomes. */
  private async attempt(
    target: URL,
    shownUrl: string,
    attempt: number,
    options: RequestOptions,
    maxBodyBytes: number,
  ): Promise<AttemptOutcome> {
    const controller = new AbortController();
    let timedOut: "headers" | "body" | undefined;
    const startedAt = Date.now();
    const headersTimer = setTimeout(() => {
      timedOut = "headers";
      controller.abort();
    }, this.headersTimeoutMs);
    const totalTimer = setTimeout(() => {
      timedOut ??= "body";
      controller.abort();
    }, this.timeoutMs);
    const onCallerAbort = (): void => controller.abort();
    options.signal?.addEventListener("abort", onCallerAbort, { once: true });
    const fail = (kind: FetchErrorKind, detail: string, retryable: boolean, cause?: unknown, status?: number): AttemptOutcome => ({
      kind: "failure",
      retryable,
      error: new FetchError({
        url: shownUrl,
        kind,
        attempts: attempt,
        detail,
        ...(status === undefined ? {} : { status }),
        ...(cause === undefined ? {} : { cause }),
      }),
    });

    let status: number | undefined;
    try {
      const res = await fetch(target, {
        headers: { "user-agent": this.userAgent, accept: "*/*", ...options.headers },
        signal: controller.signal,
        redirect: "follow",
      });
      clearTimeout(headersTimer);
      status = res.status;
      const declared = Number(res.headers.get("content-length") ?? Number.NaN);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        controller.abort();
        return fail("too-large", `body of ${declared} bytes exceeds the limit of ${maxBodyBytes}`, false, undefined, status);
      }
      const chunks: Uint8Array[] = [];
      let received = 0;
      if (res.body) {
        for await (const chunk of res.body) {
          received += chunk.byteLength;
          // Leaving the loop cancels the stream (aborting first would make that cancel throw).
          if (received > maxBodyBytes) break;
          chunks.push(chunk);
        }
      }
      if (received > maxBodyBytes) {
        return fail("too-large", `body exceeds the limit of ${maxBodyBytes} bytes`, false, undefined, status);
      }
      // fetch already fails on a body cut short of Content-Length; this catches a server or proxy
      // that closes cleanly early. Only for identity bodies: with gzip the header counts compressed bytes.
      if (Number.isFinite(declared) && !res.headers.has("content-encoding") && received < declared) {
        return fail("network", `body truncated: ${received} of ${declared} bytes`, true, undefined, status);
      }
      const body = Buffer.concat(chunks);
      this.log.debug("http response", { url: shownUrl, status, attempt, bytes: body.byteLength, ms: Date.now() - startedAt });
      const response: HttpResponse = {
        url: redactUrl(res.url || target),
        status: res.status,
        ok: res.ok,
        headers: res.headers,
        body,
        attempts: attempt,
        text: () => body.toString("utf8"),
      };
      return { kind: "response", response };
    } catch (err) {
      if (options.signal?.aborted) return { kind: "failure", retryable: false, error: this.abortError(shownUrl, attempt, err) };
      if (timedOut === "headers") {
        return fail("timeout", `no response headers within ${this.headersTimeoutMs} ms`, true, err, status);
      }
      if (timedOut === "body") {
        const what = status === undefined ? "no response" : "body not complete";
        return fail("timeout", `${what} within ${this.timeoutMs} ms`, true, err, status);
      }
      const detail = status === undefined ? networkDetail(err) : `body cut short (${networkDetail(err)})`;
      // A name the resolver says does not exist will not exist a second later (EAI_AGAIN, a
      // resolver that did not answer, is worth retrying): no retries, no 10 s of waiting.
      return fail("network", detail, !hasErrorCode(err, "ENOTFOUND"), err, status);
    } finally {
      clearTimeout(headersTimer);
      clearTimeout(totalTimer);
      options.signal?.removeEventListener("abort", onCallerAbort);
    }
  }
}

/** Whether `code` ("ENOTFOUND") is in a fetch error's cause chain. */
function hasErrorCode(err: unknown, code: string): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) if ((e as { code?: unknown }).code === code) return true;
  return false;
}

/** "ECONNREFUSED", "other side closed", ...: the most specific words in a fetch error's cause chain. */
function networkDetail(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === "string" ? `${e.message} [${code}]` : e.message);
    e = e.cause;
  }
  return parts.length > 0 ? parts.join(": ") : String(err);
}

/** The client for the configured sources, on the process-wide scheduler. */
export function createSourceHttpClient(config: Config, logger: Logger, overrides: PoliteHttpClientOptions = {}): PoliteHttpClient {
  return new PoliteHttpClient({
    ...(config.contactEmail === undefined ? {} : { contactEmail: config.contactEmail }),
    arxivMinIntervalMs: config.arxivMinIntervalMs,
    hfMinIntervalMs: config.hfMinIntervalMs,
    logger: logger.child({ component: "http" }),
    ...overrides,
  });
}
