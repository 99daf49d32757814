/**
 * Faults while writing the index, with the real CLI in child processes: the disk filling up (a
 * small tmpfs; needs root to mount, skipped otherwise) and the store locked by another process.
 * After each: a clear message, what was committed before is intact and searchable, and the next
 * run completes the work.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.js";
import { PaperStore } from "../../src/search/paper-store.js";
import { runNode } from "../helpers/run-cli.js";
import { synthPapers } from "../helpers/synth-papers.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "cli-papers.jsonl");

function canMount(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), "paperhound-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const papersIn = (index: string): number => {
  const store = PaperStore.open(path.join(index, "papers.sqlite"), { readonly: true });
  try {
    return store.count();
  } finally {
    store.close();
  }
};

let tmp: string;
let bigFile: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-faults-"));
  bigFile = path.join(tmp, "many.jsonl");
  writeFileSync(bigFile, synthPapers(1500, 7).map((p) => JSON.stringify(p)).join("\n") + "\n");
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("faults while indexing", () => {
  it.skipIf(!canMount())("a full disk: the run stops with a clear message, the earlier papers stay searchable, and a rerun with space completes", async () => {
    const mnt = path.join(tmp, "small-disk");
    mkdirSync(mnt);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt]);
    try {
      const index = path.join(mnt, "idx");
      const first = await runNode(["index", FIXTURE, "--index", index]);
      expect(first.code, first.stderr).toBe(0);
      expect(papersIn(index)).toBe(12);

      const full = await runNode(["index", bigFile, "--index", index]);
      expect(full.code).not.toBe(0);
      expect(full.stderr).toMatch(/no space|ENOSPC|SQLITE_FULL|disk is full|database or disk is full/i);
      expect(full.stderr).not.toMatch(/at .+\.ts:\d+:\d+/); // a message, not a stack trace

      // What was committed before is intact: the store opens, and the first papers are found.
      expect(papersIn(index)).toBeGreaterThanOrEqual(12);
      const search = await runNode(["search", "polite crawlers for scholarly feeds", "-k", "3", "--json", "--index", index]);
      expect(search.code, search.stderr).toBe(0);
      expect((JSON.parse(search.stdout) as { hits: unknown[] }).hits.length).toBeGreaterThan(0);

      // More space: the same command completes what the full disk interrupted.
      execFileSync("mount", ["-o", "remount,size=256m", mnt]);
      const again = await runNode(["index", bigFile, "--index", index]);
      expect(again.code, again.stderr).toBe(0);
      expect(papersIn(index)).toBe(12 + 1500);
      const stats = await runNode(["stats", "--json", "--index", index]);
      expect(JSON.parse(stats.stdout)).toMatchObject({ papers: 1512 });
    } finally {
      execFileSync("umount", ["-l", mnt]);
    }
  }, 300_000);

  it("a store locked by another process: the run waits, then stops with a message; nothing is lost and a rerun completes", async () => {
    const index = path.join(tmp, "locked-idx");
    const first = await runNode(["index", FIXTURE, "--index", index]);
    expect(first.code, first.stderr).toBe(0);
    // Another process holds a write lock on the store for longer than the store's busy timeout (5 s).
    const holder = runNode(
      [
        "-e",
        `const D=require(${JSON.stringify(path.join(projectRoot, "node_modules", "better-sqlite3"))});const db=new D(${JSON.stringify(path.join(index, "papers.sqlite"))});db.exec("BEGIN EXCLUSIVE");process.stdout.write("locked\\n");setTimeout(()=>{db.exec("ROLLBACK");db.close();},9000);`,
      ],
      { nodeArgs: [] },
    );
    await new Promise((r) => setTimeout(r, 1000));
    const blocked = await runNode(["index", bigFile, "--index", index]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toMatch(/locked|busy/i);
    expect(blocked.stderr).not.toMatch(/at .+\.ts:\d+:\d+/);
    const held = await holder;
    expect(held.stdout).toBe("locked\n");
    expect(papersIn(index)).toBe(12);
    const again = await runNode(["index", bigFile, "--index", index]);
    expect(again.code, again.stderr).toBe(0);
    expect(papersIn(index)).toBe(1512);
  }, 300_000);
});
