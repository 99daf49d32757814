/**
 * Digest speed: decides (ranks, records) the daily digest of N subscribed channels over one day of
 * new papers in an existing index, as one scheduler tick does, posting to nowhere.
 *   npm run bench:digest -- --index DIR [--channels 1000] [--day YYYY-MM-DD] [--library 0]
 * --day defaults to the publication day with the most papers among the index's latest 10 days.
 * Channels get 1–3 topics drawn from titles in the index and a random count of 5–15 papers, and
 * with --library N a library of N papers drawn from the index (the digest compares each new paper with them).
 * Prints time per channel (p50/p99), total, RSS before and after, then one JSON line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { embedderSettings, loadConfig } from "../src/config.js";
import { DigestStore, type Subscription } from "../src/digest/digest-store.js";
import { dayBefore, runDigestTick } from "../src/digest/digest-runner.js";
import { loadEmbedder } from "../src/embed/load.js";
import { createLogger } from "../src/log.js";
import { seededRandom } from "../src/random.js";
import { PaperIndex } from "../src/search/paper-index.js";
import { percentile } from "./percentile.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { index: { type: "string" }, channels: { type: "string", default: "1000" }, day: { type: "string" }, library: { type: "string", default: "0" } } });
  if (!values.index) throw new Error("--index DIR is required (an index built by `paperhound index` or `npm run bench:search -- --keep`)");
  const channels = Number(values.channels);
  if (!Number.isSafeInteger(channels) || channels < 1) throw new Error(`--channels must be a positive integer, got ${values.channels}`);
  const librarySize = Number(values.library);
  if (!Number.isSafeInteger(librarySize) || librarySize < 0) throw new Error(`--library must be a whole number, got ${values.library}`);
  const config = loadConfig();
  const embedder = await loadEmbedder({ ...embedderSettings(config), logger: createLogger({ level: "warn", format: config.logFormat }) });
  const index = await PaperIndex.open({ dir: path.resolve(values.index), embedder, readonly: true, warm: true });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "paperhound-bench-digest-"));
  const store = DigestStore.open(stateDir);
  try {
    const stats = index.store.stats();
    const day = values.day ?? pickDay(index);
    const papersToday = index.store.papersAnnouncedBetween(dayBefore(day), day).length;
    const rnd = seededRandom(7);
    const titles = index.store.getMany(Array.from({ length: 4000 }, () => 1 + Math.floor(rnd() * stats.papers))).map((p) => p.title);
    for (let i = 0; i < channels; i++) {
      const topics = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => titles[Math.floor(rnd() * titles.length)]!.split(/\s+/).slice(0, 5).join(" "));
      const sub: Subscription = {
        channel: `bench:${i}`,
        topics,
        time: "00:00",
        timezone: "UTC",
        count: 5 + Math.floor(rnd() * 11),
        categories: [],
        exclude: i % 5 === 0 ? ["survey"] : [],
        follow: [],
        paused: false,
        quiet: false,
      sources: ["hf", "arxiv"],
        windowEnd: dayBefore(day),
      };
      store.subscribe(sub);
      if (librarySize > 0) {
        const saved = index.store.getMany(Array.from({ length: librarySize }, () => 1 + Math.floor(rnd() * stats.papers)));
        store.library.saveMany(sub.channel, saved.map((p) => ({ id: p.id, title: p.title, authors: p.authors, categories: p.categories })), "bench", new Date(`${day}T00:00:00Z`));
      }
    }
    const rssBefore = process.memoryUsage().rss;
    const perChannel: number[] = [];
    let last = performance.now();
    let delivered = 0;
    const started = performance.now();
    const report = await runDigestTick({
      index,
      store,
      now: new Date(`${day}T12:00:00Z`),
      holder: "bench",
      post: async (d) => {
        // Time from the previous channel's post to this one: the channel's whole decision.
        const t = performance.now();
        perChannel.push(t - last);
        last = t;
        delivered += d.items.length;
        return `bench-${d.id}`;
      },
    });
    const totalS = (performance.now() - started) / 1000;
    if (report.failed.length > 0) throw new Error(`${report.failed.length} channels failed, e.g. ${report.failed[0]!.error}`);
    const rssAfter = process.memoryUsage().rss;
    const result = {
      papers: stats.papers,
      day,
      papers_that_day: papersToday,
      channels,
      library_papers: librarySize,
      posted: report.posted.length,
      papers_delivered: delivered,
      channel_p50_ms: Math.round(percentile(perChannel, 50) * 100) / 100,
      channel_p99_ms: Math.round(percentile(perChannel, 99) * 100) / 100,
      channel_mean_ms: Math.round(((totalS * 1000) / channels) * 100) / 100,
      total_s: Math.round(totalS * 100) / 100,
      rss_before_mb: Math.round(rssBefore / 2 ** 20),
      rss_after_mb: Math.round(rssAfter / 2 ** 20),
      cpu: os.cpus()[0]?.model.trim(),
      cpus: os.cpus().length,
      node: process.version,
      date: new Date().toISOString(),
    };
    process.stdout.write(
      `digest: ${channels} channels over ${papersToday} papers of ${day} (index of ${stats.papers}): ` +
        `per channel p50 ${result.channel_p50_ms} ms, p99 ${result.channel_p99_ms} ms, mean ${result.channel_mean_ms} ms; total ${result.total_s} s; ` +
        `RSS ${result.rss_before_mb} → ${result.rss_after_mb} MB\n${JSON.stringify(result)}\n`,
    );
  } finally {
    store.close();
    index.close();
    await embedder.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The busiest publication day among the latest ten in the index. */
function pickDay(index: PaperIndex): string {
  const today = new Date().toISOString().slice(0, 10);
  const recent = index.store.papersAnnouncedBetween("0000", today).map((p) => p.published ?? "").filter(Boolean);
  const counts = new Map<string, number>();
  for (const d of recent) counts.set(d, (counts.get(d) ?? 0) + 1);
  const latest = [...counts.keys()].sort().slice(-10);
  if (latest.length === 0) throw new Error("no paper in the index has a publication date: pass --day YYYY-MM-DD");
  return latest.reduce((best, d) => ((counts.get(d) ?? 0) > (counts.get(best) ?? 0) ? d : best), latest[0]!);
}

main().catch((err) => {
  process.stderr.write(`bench-digest: ${(err as Error).message}\n`);
  process.exit(1);
});
