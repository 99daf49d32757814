import { afterEach, describe, expect, it } from "vitest";
import { BotMetrics } from "../../src/ops/metrics.js";
import { startHealthServer, type HealthServer, type Readiness } from "../../src/ops/health-server.js";

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("health and metrics endpoint", () => {
  it("/healthz always, /readyz only when ready (with the reasons), /metrics in Prometheus text", async () => {
    const metrics = new BotMetrics();
    let readiness: Readiness = { ready: false, waitingFor: ["index loading", "discord: connecting"] };
    server = await startHealthServer({ port: 0, metrics, readiness: () => readiness });
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe("not ready: index loading; discord: connecting\n");
    readiness = { ready: true, waitingFor: [] };
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    metrics.command("discord", "paper", "ok", 0.012);
    metrics.command("discord", "paper", "ok", 0.3);
    metrics.command("slack", "related", "user_error", 0.004);
    metrics.indexPapers(140_000);
    metrics.papersIngested("hf-daily", 12);
    metrics.digestPosted("discord");
    metrics.embedder("use-lite", "cpu");
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const body = await res.text();
    expect(body).toMatch(/^paperhound_commands_total\{platform="discord",command="paper",outcome="ok"\} 2$/m);
    expect(body).toMatch(/^paperhound_commands_total\{platform="slack",command="related",outcome="user_error"\} 1$/m);
    expect(body).toMatch(/^paperhound_command_seconds_bucket\{le="0.025",platform="discord",command="paper"\} 1$/m);
    expect(body).toMatch(/^paperhound_index_papers 140000$/m);
    expect(body).toMatch(/^paperhound_papers_ingested_total\{source="hf-daily"\} 12$/m);
    expect(body).toMatch(/^paperhound_digests_posted_total\{platform="discord"\} 1$/m);
    expect(body).toMatch(/^paperhound_embedder_info\{device="cpu",model="use-lite"\} 1$/m);
    expect(body).toMatch(/^paperhound_process_resident_memory_bytes \d+/m);
  });

  it("serves nothing else: unknown paths 404, other methods 405, HEAD has no body", async () => {
    server = await startHealthServer({ port: 0, metrics: new BotMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true, waitingFor: [] }) });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}/admin`)).status).toBe(404);
    const post = await fetch(`${base}/healthz`, { method: "POST", body: "x".repeat(1_000_000) });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await fetch(`${base}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("a port already in use is an error at start, not later", async () => {
    server = await startHealthServer({ port: 0, metrics: new BotMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true, waitingFor: [] }) });
    await expect(startHealthServer({ port: server.port, metrics: new BotMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true, waitingFor: [] }) })).rejects.toThrow(/EADDRINUSE/);
  });
});
