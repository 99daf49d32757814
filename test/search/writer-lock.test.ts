/**
 * One writer per index directory (src/search/writer-lock.ts): a second writer fails at once or
 * waits as asked, read-only opens are never blocked, and a killed writer leaves no lock behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { projectRoot } from "../../src/paths.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { IndexLockedError, WriterLock, type LockHolder } from "../../src/search/writer-lock.js";
import { outputMatch, runNode } from "../helpers/run-cli.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "cli-papers.jsonl");
const quiet = { info: () => undefined, warn: () => undefined };

let tmp: string;
let embedder: Embedder;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-writer-lock-"));
  embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: quiet });
}, 60_000);

afterAll(async () => {
  await embedder?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Another process holding the writer lock of `dir` until killed; resolves once it holds it. */
async function lockHolder(dir: string): Promise<ChildProcess> {
  mkdirSync(dir, { recursive: true });
  const lockModule = path.join(projectRoot, "src", "search", "writer-lock.ts");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "-e", `import(${JSON.stringify(lockModule)}).then(async (m) => { await m.WriterLock.acquire(${JSON.stringify(dir)}); process.stdout.write("locked\\n"); setInterval(() => {}, 1000); });`],
    { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => d.includes("locked") && resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

describe("the writer lock", () => {
  it("a second writable open fails at once and names the holder; read-only opens are not affected; close frees it", async () => {
    const dir = path.join(tmp, "in-process");
    const writer = await PaperIndex.open({ dir, embedder });
    try {
      const err = await PaperIndex.open({ dir, embedder }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IndexLockedError);
      expect((err as IndexLockedError).holder).toMatchObject({ pid: process.pid, host: os.hostname() });
      expect((err as Error).message).toMatch(new RegExp(`another process is writing the index in ${dir} \\(pid ${process.pid} on `));
      expect((err as Error).message).toMatch(/INDEX_LOCK_WAIT_SECONDS/);
      const reader = await PaperIndex.open({ dir, embedder, readonly: true });
      reader.close();
    } finally {
      writer.close();
    }
    const again = await PaperIndex.open({ dir, embedder });
    again.close();
  });

  it("waits for the other writer when asked to, and says whom it waits for", async () => {
    const dir = path.join(tmp, "waiting");
    const first = await PaperIndex.open({ dir, embedder });
    const told: (LockHolder | undefined)[] = [];
    const started = Date.now();
    setTimeout(() => first.close(), 600);
    const second = await PaperIndex.open({ dir, embedder, lockWaitMs: 10_000, onLockWait: (h) => told.push(h) });
    second.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ pid: process.pid });
  });

  it("gives up after the wait with the time waited", async () => {
    const dir = path.join(tmp, "timeout");
    mkdirSync(dir);
    const held = await WriterLock.acquire(dir);
    try {
      const err = await WriterLock.acquire(dir, { waitMs: 700 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IndexLockedError);
      expect((err as Error).message).toMatch(/waited \d+ s/);
    } finally {
      held.release();
    }
  });

  it("a writer killed with SIGKILL leaves no lock behind", { timeout: 60_000 }, async () => {
    const dir = path.join(tmp, "killed");
    const child = await lockHolder(dir);
    const err = await WriterLock.acquire(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexLockedError);
    expect((err as IndexLockedError).holder?.pid).toBe(child.pid);
    await kill(child);
    const lock = await WriterLock.acquire(dir);
    lock.release();
  });

  it("paperhound index while another process writes: fails with a message, or waits and completes", { timeout: 120_000 }, async () => {
    const dir = path.join(tmp, "cli");
    const child = await lockHolder(dir);
    let waited: Promise<Awaited<ReturnType<typeof runNode>>> | undefined;
    try {
      const refused = await runNode(["index", FIXTURE, "--index", dir], { env: { INDEX_LOCK_WAIT_SECONDS: "0" } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`another process is writing the index in ${dir} \\(pid ${child.pid} on .*paperhound`));
      expect(refused.stderr).not.toMatch(/at .+\.ts:\d+:\d+/);
      // The holder is killed once the second run says it waits (a fixed sleep lost that race under load).
      const waiting = outputMatch("stderr", /another process is writing the index/);
      waited = runNode(["index", FIXTURE, "--index", dir], { env: { INDEX_LOCK_WAIT_SECONDS: "60" }, onOutput: waiting.onOutput });
      await waiting.seen;
    } finally {
      await kill(child);
    }
    const done = await waited!;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/another process is writing the index in .*; waiting up to 60 s \(INDEX_LOCK_WAIT_SECONDS\)/);
    expect(done.stdout).toMatch(/12/);
  });
});
