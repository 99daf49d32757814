/**
 * The operator's HTTP endpoint (off unless a port is configured): `/healthz` answers while the
 * process runs, `/readyz` only when the index is loaded and every chat connection is up (503 with
 * the reasons otherwise), `/metrics` in Prometheus text format. GET and HEAD only; nothing else is
 * served, and no request body is read.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { BotMetrics } from "./metrics.js";

export interface Readiness {
  ready: boolean;
  /** What is not ready yet, e.g. ["index loading", "discord: reconnecting"]. */
  waitingFor: string[];
}

export interface HealthServerOptions {
  port: number;
  /** Default 127.0.0.1: exposing it is a deliberate choice (HEALTH_HOST=0.0.0.0 in a container). */
  host?: string;
  metrics: BotMetrics;
  readiness: () => Readiness;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(405, "method not allowed\n");
    }
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname === "/healthz") return send(200, "ok\n");
    if (pathname === "/readyz") {
      const r = opts.readiness();
      return r.ready ? send(200, "ready\n") : send(503, `not ready: ${r.waitingFor.join("; ")}\n`);
    }
    if (pathname === "/metrics") {
      opts.metrics.text().then(
        ({ contentType, body }) => send(200, body, contentType),
        (err: Error) => send(500, `metrics failed: ${err.message}\n`),
      );
      return;
    }
    send(404, "not found: try /healthz, /readyz or /metrics\n");
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
