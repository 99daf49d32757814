/**
 * What an operator can graph (Prometheus text format via prom-client): commands by platform and
 * outcome with their latency, papers in the index, papers ingested, digests posted, the embedder's
 * device, plus Node's process metrics. One registry per bot process (not prom-client's global one,
 * so tests and several bots in one process do not collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type CommandOutcome = "ok" | "empty" | "user_error" | "error";

export class BotMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter<"platform" | "command" | "outcome">;
  private readonly latency: Histogram<"platform" | "command">;
  private readonly papers: Gauge;
  private readonly ingested: Counter<"source">;
  private readonly digests: Counter<"platform">;
  private readonly device: Gauge<"device" | "model">;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.commands = new Counter({ name: "paperhound_commands_total", help: "Chat commands handled", labelNames: ["platform", "command", "outcome"], registers });
    this.latency = new Histogram({
      name: "paperhound_command_seconds",
      help: "Time from receiving a command to its answer",
      labelNames: ["platform", "command"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.papers = new Gauge({ name: "paperhound_index_papers", help: "Papers in the index", registers });
    this.ingested = new Counter({ name: "paperhound_papers_ingested_total", help: "Papers added or updated by ingest", labelNames: ["source"], registers });
    this.digests = new Counter({ name: "paperhound_digests_posted_total", help: "Daily digests posted", labelNames: ["platform"], registers });
    this.device = new Gauge({ name: "paperhound_embedder_info", help: "The embedding model and the device it runs on (value 1)", labelNames: ["device", "model"], registers });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "paperhound_" });
  }

  command(platform: string, command: string, outcome: CommandOutcome, seconds: number): void {
    this.commands.inc({ platform, command, outcome });
    this.latency.observe({ platform, command }, seconds);
  }

  indexPapers(n: number): void {
    this.papers.set(n);
  }

  papersIngested(source: string, n: number): void {
    this.ingested.inc({ source }, n);
  }

  digestPosted(platform: string): void {
    this.digests.inc({ platform });
  }

  embedder(model: string, device: string): void {
    this.device.reset();
    this.device.set({ device, model }, 1);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
