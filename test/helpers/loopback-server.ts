/**
 * A scriptable HTTP server on 127.0.0.1 for fetcher tests: serves bodies per path (and query),
 * records every request (arrival and finish time, headers), and misbehaves on request: slow
 * headers or body, 429 with Retry-After, 5xx, a body cut short of its Content-Length, a reset
 * connection.
 *
 *   const server = await LoopbackServer.start();
 *   server.route("/api/query", [{ status: 503, headers: { "retry-after": "1" } }, { body: fixture("arxiv-page-1.xml") }]);
 *   await client.get(server.url("/api/query?search_query=cat:cs.LG"));
 *   server.requests[0].headers["user-agent"];
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** What the server does with one request. */
export interface Reply {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before sending anything (the client sees no headers). */
  headerDelayMs?: number;
  /** Send the headers, wait this long, then the body. */
  bodyDelayMs?: number;
  /** Declare the full Content-Length, send only this many bytes of the body, then destroy the socket. */
  truncateAt?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Send the body with chunked transfer encoding (no Content-Length). */
  chunked?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  pathname: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  /** Date.now() when the response was fully sent or the connection dropped. */
  finishedAt?: number;
}

/** One reply for every request, a sequence (the last one repeats), or a function of the request. */
export type Route = Reply | readonly Reply[] | ((request: RecordedRequest, index: number) => Reply | Promise<Reply>);

type Matcher = string | ((request: RecordedRequest) => boolean);

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "fetch");

/** A file of test/fixtures/fetch/. */
export function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  /** Most requests being answered at the same moment, over the server's life. */
  maxInFlight = 0;
  private inFlight = 0;
  private readonly routes: { matcher: Matcher; route: Route; served: number }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<LoopbackServer> {
    const server = http.createServer();
    const loopback = new LoopbackServer(server);
    server.on("request", (req, res) => {
      loopback.handle(req, res).catch((err: unknown) => {
        // A broken script is a test bug: answer 599 so it shows, rather than hanging the client.
        if (!res.headersSent) res.writeHead(599, { "content-type": "text/plain" });
        res.end(`loopback server error: ${String(err)}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return loopback;
  }

  get origin(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Absolute URL of `pathAndQuery` on this server. */
  url(pathAndQuery = "/"): string {
    return `${this.origin}${pathAndQuery}`;
  }

  /**
   * Answers requests matching `matcher` with `route`. A string matches the pathname exactly, or, when
   * it contains "?", the pathname and the query (same parameters, any order). Earlier routes win.
   */
  route(matcher: Matcher, route: Route): this {
    this.routes.push({ matcher, route, served: 0 });
    return this;
  }

  requestsTo(pathname: string): RecordedRequest[] {
    return this.requests.filter((r) => r.pathname === pathname);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? "/", "http://127.0.0.1");
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      pathname: parsed.pathname,
      query: parsed.searchParams,
      headers: req.headers,
      receivedAt: Date.now(),
    };
    this.requests.push(recorded);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      recorded.finishedAt = Date.now();
      this.inFlight -= 1;
    };
    res.on("finish", finish);
    res.on("close", finish);

    const entry = this.routes.find((r) => matches(r.matcher, recorded));
    if (!entry) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`no route for ${recorded.url}\n`);
      return;
    }
    const index = entry.served++;
    const reply = await pick(entry.route, recorded, index);

    if (reply.headerDelayMs) await this.wait(reply.headerDelayMs);
    if (res.destroyed) return;
    if (reply.reset) {
      req.socket.destroy();
      return;
    }
    const body = typeof reply.body === "string" ? Buffer.from(reply.body) : (reply.body ?? Buffer.alloc(0));
    const length = reply.chunked ? {} : { "content-length": String(body.byteLength) };
    res.writeHead(reply.status ?? 200, { ...length, ...reply.headers });
    if (reply.bodyDelayMs) {
      res.flushHeaders();
      await this.wait(reply.bodyDelayMs);
      if (res.destroyed) return;
    }
    if (reply.truncateAt !== undefined) {
      res.write(body.subarray(0, reply.truncateAt), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }
}

function matches(matcher: Matcher, request: RecordedRequest): boolean {
  if (typeof matcher === "function") return matcher(request);
  const q = matcher.indexOf("?");
  if (q < 0) return request.pathname === matcher;
  if (request.pathname !== matcher.slice(0, q)) return false;
  const want = [...new URLSearchParams(matcher.slice(q + 1))].map(([k, v]) => `${k}=${v}`).sort();
  const got = [...request.query].map(([k, v]) => `${k}=${v}`).sort();
  return want.length === got.length && want.every((w, i) => w === got[i]);
}

async function pick(route: Route, request: RecordedRequest, index: number): Promise<Reply> {
  if (typeof route === "function") return route(request, index);
  if (Array.isArray(route)) {
    const list = route as readonly Reply[];
    const reply = list[Math.min(index, list.length - 1)];
    if (!reply) throw new Error("empty reply sequence");
    return reply;
  }
  return route as Reply;
}
