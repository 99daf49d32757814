/**
 * Faults while writing the index, with the real CLI in child processes: the disk filling up (a
 * small tmpfs; needs root to mount, skipped otherwise), the store locked by another process, and
 * `paperhound ingest` (arXiv API, Hugging Face daily papers) killed with SIGKILL between two pages.
 * After each: a clear message, what was committed before is intact and searchable, and the next
 * run completes the work.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.js";
import { PaperStore } from "../../src/search/paper-store.js";
import { LoopbackServer, fixture, type Reply } from "../helpers/loopback-server.js";
import { BIN, cleanEnv, outputMatch, runNode } from "../helpers/run-cli.js";
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
// Enough papers (about 2 MB of index) to fill the 1 MB disk of the full-disk test.
const BIG_FILE_PAPERS = 600;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-faults-"));
  bigFile = path.join(tmp, "many.jsonl");
  writeFileSync(bigFile, synthPapers(BIG_FILE_PAPERS, 7).map((p) => JSON.stringify(p)).join("\n") + "\n");
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("faults while indexing", () => {
  it.skipIf(!canMount())("a full disk: the run stops with a clear message, the earlier papers stay searchable, and a rerun with space completes", async () => {
    const mnt = path.join(tmp, "small-disk");
    mkdirSync(mnt);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]);
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
      expect(papersIn(index)).toBe(12 + BIG_FILE_PAPERS);
      const stats = await runNode(["stats", "--json", "--index", index]);
      expect(JSON.parse(stats.stdout)).toMatchObject({ papers: 12 + BIG_FILE_PAPERS });
    } finally {
      execFileSync("umount", ["-l", mnt]);
    }
  }, 300_000);

  it("a store locked by another process: the run waits, then stops with a message; nothing is lost and a rerun completes", async () => {
    const index = path.join(tmp, "locked-idx");
    const first = await runNode(["index", FIXTURE, "--index", index]);
    expect(first.code, first.stderr).toBe(0);
    // Another process holds a write lock on the store for longer than the store's busy timeout (5 s);
    // the run starts once it says it holds it (a fixed sleep lost that race on a loaded machine).
    const locked = outputMatch("stdout", /locked/);
    const holder = runNode(
      [
        "-e",
        `const D=require(${JSON.stringify(path.join(projectRoot, "node_modules", "better-sqlite3"))});const db=new D(${JSON.stringify(path.join(index, "papers.sqlite"))});db.exec("BEGIN EXCLUSIVE");process.stdout.write("locked\\n");setTimeout(()=>{db.exec("ROLLBACK");db.close();},12000);`,
      ],
      { nodeArgs: [], onOutput: locked.onOutput },
    );
    await locked.seen;
    const blocked = await runNode(["index", bigFile, "--index", index]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toMatch(/locked|busy/i);
    expect(blocked.stderr).not.toMatch(/at .+\.ts:\d+:\d+/);
    const held = await holder;
    expect(held.stdout).toBe("locked\n");
    expect(papersIn(index)).toBe(12);
    const again = await runNode(["index", bigFile, "--index", index]);
    expect(again.code, again.stderr).toBe(0);
    expect(papersIn(index)).toBe(12 + BIG_FILE_PAPERS);
  }, 300_000);
});

describe("SIGKILL during ingest", () => {
  let server: LoopbackServer;
  /** The request the child is killed while waiting for: answered only after the kill. */
  let stall: (req: { query: URLSearchParams }) => boolean = () => false;

  beforeAll(async () => {
    server = await LoopbackServer.start();
    // arXiv API search in two pages (2 + 1 papers); Hugging Face daily papers for two days (1 + 2 papers).
    server.route("/api/query", (req): Reply => {
      const page = req.query.get("start") === "2" ? "arxiv-search-page-2.xml" : "arxiv-search-page-1.xml";
      return stall(req) ? { headerDelayMs: 60_000, body: fixture(page) } : { body: fixture(page) };
    });
    server.route("/hfapi/daily_papers", (req): Reply => {
      const date = req.query.get("date");
      const body =
        date === "2026-11-02"
          ? fixture("hf-daily-2026-11-02.json")
          : date === "2026-11-03"
            ? readFileSync(path.join(projectRoot, "test", "fixtures", "sources", "hf-daily-2026-01-05.json"))
            : fixture("hf-daily-empty.json");
      return stall(req) ? { headerDelayMs: 60_000, body } : { body };
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  const env = (): Record<string, string> => ({
    ARXIV_API_URL: `${server.origin}/api/query`,
    HF_API_URL: `${server.origin}/hfapi`,
    ARXIV_MIN_INTERVAL_MS: "20",
    HF_MIN_INTERVAL_MS: "20",
    PAPERHOUND_CONTACT_EMAIL: "faults-test@example.org",
  });

  /** Starts `paperhound <args>` and kills it with SIGKILL once `waiting()` says it asked for the stalled page. */
  async function killWhileWaiting(args: string[], waiting: () => boolean): Promise<string> {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env()), cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let exited = false;
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exit = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => {
        exited = true;
        resolve(signal);
      }),
    );
    while (!waiting()) {
      if (exited) throw new Error(`paperhound ${args.join(" ")} exited before the stalled request: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    expect(await exit).toBe("SIGKILL");
    return stderr;
  }

  const stats = async (index: string): Promise<Record<string, unknown>> => {
    const r = await runNode(["stats", "--index", index, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  const searchable = async (index: string, query: string, id: string) => {
    const r = await runNode(["search", query, "--index", index, "--json", "-k", "3"]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.includes(`"${id}"`);
  };

  it.each([
    {
      source: "arxiv API",
      args: ["ingest", "arxiv", "--category", "cs.LG", "--days", "3"],
      route: "/api/query",
      stalls: (req: { query: URLSearchParams }) => req.query.get("start") === "2",
      firstPage: 2,
      all: 3,
    },
    {
      source: "Hugging Face daily papers",
      args: ["ingest", "hf-daily", "--since", "2026-11-02", "--until", "2026-11-03"],
      route: "/hfapi/daily_papers",
      stalls: (req: { query: URLSearchParams }) => req.query.get("date") === "2026-11-03",
      firstPage: 1,
      all: 3,
    },
  ])("$source: what the first page brought stays, stored and embedded; the next run completes; nothing twice", async ({ args, route, stalls, firstPage, all }) => {
    const index = path.join(tmp, `killed-${args[1]}`);
    stall = stalls;
    try {
      await killWhileWaiting([...args, "--index", index], () => server.requestsTo(route).some(stalls));
    } finally {
      stall = () => false;
    }
    expect(await stats(index)).toMatchObject({ papers: firstPage, embedded: firstPage, pending: 0 });
    const store = PaperStore.open(path.join(index, "papers.sqlite"), { readonly: true });
    const [one] = store.getMany([1]);
    store.close();
    expect(await searchable(index, one!.title, one!.id)).toBe(true);

    const again = await runNode([...args, "--index", index, "--json"], { env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(await stats(index)).toMatchObject({ papers: all, embedded: all, pending: 0, vectors: all });
  }, 120_000);
});
