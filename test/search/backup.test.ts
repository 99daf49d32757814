import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
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
    expect(readdirSync(tmp).filter((n) => n.includes(".partial"))).toEqual([]);
  });

  it("never deletes a directory of the user's named like its work directory (DIR.partial)", async () => {
    const src = path.join(tmp, "small-p");
    const index = await PaperIndex.open({ dir: src, embedder });
    await index.add(papers.slice(0, 2));
    index.close();
    for (const name of ["bp", "rp"]) {
      mkdirSync(path.join(tmp, `${name}.partial`));
      writeFileSync(path.join(tmp, `${name}.partial`, "thesis.tex"), "mine");
    }
    await backupIndex(src, path.join(tmp, "bp"));
    await restoreIndex(path.join(tmp, "bp"), path.join(tmp, "rp"));
    for (const name of ["bp", "rp"]) expect(readFileSync(path.join(tmp, `${name}.partial`, "thesis.tex"), "utf8")).toBe("mine");
    expect(readdirSync(path.join(tmp, "rp")).sort()).toEqual(readdirSync(path.join(tmp, "bp")).filter((n) => n !== "paperhound-backup.json").sort());
  });

  it("trusts nothing in a backup: links, files an index does not have, bad manifests and same-size damage are refused, nothing restored", async () => {
    const src = path.join(tmp, "trust-src");
    const index = await PaperIndex.open({ dir: src, embedder });
    await index.add(papers.slice(0, 5));
    index.close();
    const good = path.join(tmp, "trust-backup");
    await backupIndex(src, good);
    let n = 0;
    /** A copy of the good backup, changed by `tamper`; restoring it must fail with `message` and leave nothing. */
    const refused = async (tamper: (dir: string) => void, message: RegExp) => {
      const dir = path.join(tmp, `tampered-${++n}`);
      cpSync(good, dir, { recursive: true });
      tamper(dir);
      const dest = path.join(tmp, `trust-restored-${n}`);
      await expect(restoreIndex(dir, dest)).rejects.toThrow(message);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.partial`)).toBe(false);
    };
    const manifestOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, "paperhound-backup.json"), "utf8")) as { files: { name: string; bytes: number }[] };
    const writeManifest = (dir: string, m: unknown) => writeFileSync(path.join(dir, "paperhound-backup.json"), JSON.stringify(m));

    // A link in place of the store (to any file: here the OS's passwd file) is not followed.
    await refused((dir) => {
      rmSync(path.join(dir, "papers.sqlite"));
      symlinkSync("/etc/passwd", path.join(dir, "papers.sqlite"));
    }, /papers\.sqlite is not a regular file/);
    // A file an index does not have is never copied into it.
    await refused((dir) => {
      writeFileSync(path.join(dir, "evil.sh"), "#!/bin/sh\n");
      const m = manifestOf(dir);
      writeManifest(dir, { ...m, files: [...m.files, { name: "evil.sh", bytes: 10 }] });
    }, /not part of an index: "evil\.sh"/);
    // Manifests of the wrong shape, or listing nothing.
    for (const bad of [{ files: [] }, { files: "x" }, { files: [{ name: 1, bytes: 2 }] }, [], null]) {
      await refused((dir) => writeManifest(dir, bad), /not a paperhound backup manifest/);
    }
    // Same size, damaged inside: a zeroed page of the store, a changed byte of the vector file.
    await refused((dir) => {
      const file = path.join(dir, "papers.sqlite");
      const bytes = readFileSync(file);
      bytes.fill(0, 4096, 8192);
      writeFileSync(file, bytes);
    }, /papers\.sqlite is damaged/);
    await refused((dir) => {
      const vectorFile = JSON.parse(readFileSync(path.join(dir, "vectors.json"), "utf8")).file as string;
      const bytes = readFileSync(path.join(dir, vectorFile));
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
      writeFileSync(path.join(dir, vectorFile), bytes);
    }, /vectors-\d+\.hnsw is damaged \(its sha256 differs/);

    // The untouched backup still restores.
    const restored = await restoreIndex(good, path.join(tmp, "trust-restored-ok"));
    expect(restored.files.map((f) => f.name).sort()).toEqual(manifestOf(good).files.map((f) => f.name).sort());
  });
});
