import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { createLogger } from "../../src/log.js";
import { loadSampleCorpus } from "../../src/papers/sources/daily-listing.js";
import type { Paper } from "../../src/papers/types.js";
import { BackupError, backupIndex, restoreIndex } from "../../src/search/backup.js";
import { PaperIndex } from "../../src/search/paper-index.js";

const quiet = createLogger({ level: "error", format: "json", stream: { write: () => true } as unknown as NodeJS.WritableStream });
let embedder: Embedder;
let tmp: string;
let papers: Paper[];

beforeAll(async () => {
  embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: quiet });
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-backup-"));
  papers = await loadSampleCorpus();
}, 120_000);

afterAll(async () => {
  await embedder?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("backup and restore", () => {
  it("backs up while papers are being added, restores, and the restored index answers; a re-run completes it", { timeout: 120_000 }, async () => {
    const live = path.join(tmp, "live");
    const index = await PaperIndex.open({ dir: live, embedder, checkpointEvery: 4 });
    await index.add(papers.slice(0, 20));
    // A second batch is being embedded while the backup runs.
    const adding = index.add(papers.slice(20));
    const report = await backupIndex(live, path.join(tmp, "backup"));
    await adding;
    expect(report.files.map((f) => f.name).sort()).toEqual(expect.arrayContaining(["papers.sqlite", "vectors.json"]));
    const liveAnswer = (await index.search(papers[3]!.title, { k: 1 }))[0]!.paper.id;
    index.close();

    const restoredDir = path.join(tmp, "restored");
    await restoreIndex(path.join(tmp, "backup"), restoredDir);
    const restored = await PaperIndex.open({ dir: restoredDir, embedder });
    try {
      expect((await restored.search(papers[3]!.title, { k: 1 }))[0]!.paper.id).toBe(liveAnswer);
      // Papers the store knew but the backed-up vectors did not are pending, never lost: a re-run embeds them.
      const stats = restored.stats();
      expect(stats.papers).toBeGreaterThanOrEqual(20);
      expect(stats.embedded + stats.pending).toBe(stats.papers);
      await restored.add([]);
      expect(restored.pendingCount()).toBe(0);
      expect(restored.stats().vectors).toBe(stats.papers);
    } finally {
      restored.close();
    }
  });

  it("refuses a non-empty destination, a directory that is no index, and a damaged backup; nothing half-written", async () => {
    const src = path.join(tmp, "small");
    const index = await PaperIndex.open({ dir: src, embedder });
    await index.add(papers.slice(0, 3));
    index.close();
    const full = path.join(tmp, "full");
    mkdirSync(full);
    writeFileSync(path.join(full, "keep.txt"), "mine");
    await expect(backupIndex(src, full)).rejects.toThrow(/not empty/);
    expect(readdirSync(full)).toEqual(["keep.txt"]);
    await expect(backupIndex(path.join(tmp, "nothing"), path.join(tmp, "b0"))).rejects.toThrow(BackupError);

    const b = path.join(tmp, "b1");
    await backupIndex(src, b);
    await expect(restoreIndex(b, full)).rejects.toThrow(/not empty/);
    await expect(restoreIndex(src, path.join(tmp, "r0"))).rejects.toThrow(/not a paperhound backup/);
    const vectorFile = JSON.parse(readFileSync(path.join(b, "vectors.json"), "utf8")).file as string;
    truncateSync(path.join(b, vectorFile), 100);
    await expect(restoreIndex(b, path.join(tmp, "r1"))).rejects.toThrow(/damaged/);
    expect(readdirSync(tmp)).not.toContain("r1");
    expect(readdirSync(tmp).some((n) => n.endsWith(".partial"))).toBe(false);
  });
});
