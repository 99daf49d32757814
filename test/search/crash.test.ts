/**
 * SIGKILL test of PaperIndex's crash safety: a child process indexes ~300 papers with checkpoints
 * every few papers and is killed at random moments (during start-up and open, embedding, vector
 * saves, store commits). After every kill the index must open, be consistent (every paper the store
 * calls embedded has all its vectors; no vector the store does not know), answer searches, and never
 * lose papers. A last run completes the work.
 *
 * Papers: the first 300 of ../shared/data/arxiv/papers-140k.jsonl.gz when present, else synthetic
 * ones (PAPERHOUND_CRASH_DATA=synthetic forces those). PAPERHOUND_CRASH_SEED=<n> replays a run; the
 * seed is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { projectRoot } from "../../src/paths.js";
import { fingerprintOf, PaperIndex, STORE_FILE } from "../../src/search/paper-index.js";
import { PaperStore } from "../../src/search/paper-store.js";
import { VectorIndex } from "../../src/search/vector-index.js";
import { seededRandom, synthPapers } from "../helpers/synth-papers.js";

const PAPERS = 300;
const CHECKPOINT_EVERY = 8;
const SHARED_DATA = path.resolve(projectRoot, "../shared/data/arxiv/papers-140k.jsonl.gz");
const CHILD = path.join(projectRoot, "test/helpers/index-child.ts");

interface ChildEvent {
  event: "open" | "progress" | "done";
  phase?: "store" | "embed";
  done?: number;
  total?: number;
  pending?: number;
}

type KillPlan =
  /** Kill this many ms after spawning (start-up, model load, open, reconcile, the store phase). */
  | { kind: "startup"; afterMs: number }
  /** Kill `delayMs` after embedding progress first reaches `fraction` of this run's pending papers. */
  | { kind: "embed"; fraction: number; delayMs: number };

interface ChildRun {
  killed: boolean;
  code: number | null;
  events: ChildEvent[];
  stderr: string;
}

function describePlan(p: KillPlan): string {
  return p.kind === "startup" ? `${p.afterMs} ms after spawn` : `${p.delayMs} ms after ${Math.round(p.fraction * 100)}% of the embedding`;
}

/** Runs the child; kills it with SIGKILL as planned (never, without a plan). */
function runChild(dir: string, file: string, plan?: KillPlan): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, file], {
      cwd: projectRoot,
      env: { ...process.env, PAPERHOUND_CHECKPOINT_EVERY: String(CHECKPOINT_EVERY) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const events: ChildEvent[] = [];
    let stderr = "";
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (!killed && child.exitCode === null) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    if (plan?.kind === "startup") timer = setTimeout(kill, plan.afterMs);
    let pending = 0;
    createInterface({ input: child.stdout }).on("line", (line) => {
      let e: ChildEvent;
      try {
        e = JSON.parse(line) as ChildEvent;
      } catch {
        return; // not ours
      }
      events.push(e);
      if (e.event === "open") pending = e.pending ?? 0;
      if (plan?.kind === "embed" && e.event === "progress" && e.phase === "embed" && timer === undefined) {
        const total = e.total ?? pending;
        if ((e.done ?? 0) >= plan.fraction * total) timer = setTimeout(kill, plan.delayMs);
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ killed, code, events, stderr });
    });
  });
}

/** The first `n` lines of the shared arXiv file, or `n` synthetic papers; returns the file written and which it was. */
async function writePapers(dir: string, n: number): Promise<{ file: string; source: string }> {
  const file = path.join(dir, "papers.jsonl");
  if (process.env.PAPERHOUND_CRASH_DATA !== "synthetic" && existsSync(SHARED_DATA)) {
    const lines: string[] = [];
    const raw = createReadStream(SHARED_DATA);
    const rl = createInterface({ input: raw.pipe(createGunzip()), crlfDelay: Infinity });
    try {
      for await (const line of rl) {
        if (line.trim() === "") continue;
        lines.push(line);
        if (lines.length >= n) break;
      }
    } finally {
      rl.close();
      raw.destroy();
    }
    if (lines.length >= n) {
      writeFileSync(file, `${lines.join("\n")}\n`);
      return { file, source: SHARED_DATA };
    }
  }
  writeFileSync(file, `${synthPapers(n, 2024).map((r) => JSON.stringify(r)).join("\n")}\n`);
  return { file, source: "synthetic" };
}

/**
 * What the files say before PaperIndex.open reconciles them: vectors the store does not know
 * (a checkpoint saved its vectors but was killed before the store commit) and papers whose stored
 * labels are gone from the vector file. For the log: it shows which kills hit that window.
 */
async function inconsistency(dir: string, embedder: Embedder): Promise<{ orphans: number; lost: number } | undefined> {
  if (!existsSync(path.join(dir, STORE_FILE))) return undefined;
  const vectors = (await VectorIndex.load(dir, { expectFingerprint: fingerprintOf(embedder) })) ?? VectorIndex.create({ dim: embedder.dim, fingerprint: fingerprintOf(embedder) });
  const store = PaperStore.open(path.join(dir, STORE_FILE), { readonly: true });
  try {
    const known = store.labelsToPapers(vectors.labels());
    return { orphans: vectors.size - known.size, lost: store.rowidsWithMissingLabels((l) => vectors.has(l)).length };
  } finally {
    store.close();
  }
}

/** Opens the index in this process and checks everything that must hold after any crash. */
async function checkIndex(dir: string, embedder: Embedder, minPapers: number, label: string): Promise<{ papers: number; embedded: number; pending: number }> {
  const index = await PaperIndex.open({ dir, embedder });
  try {
    const stats = index.stats();
    expect(stats.papers, `${label}: paper count never decreases`).toBeGreaterThanOrEqual(minPapers);
    expect(stats.embedded + stats.pending).toBe(stats.papers);
    // Every paper the store calls embedded has all its labels in the vector index...
    const papers = index.store.getMany(Array.from({ length: 2 * stats.papers + 100 }, (_, i) => i + 1));
    expect(papers).toHaveLength(stats.papers);
    let embedded = 0;
    for (const p of papers) {
      const labels = index.store.vectorLabelsOf(p.rowid).map((r) => r.label);
      if (p.embeddedHash !== undefined && p.embeddedHash === p.contentHash) {
        embedded++;
        expect(labels.length, `${label}: ${p.id} has passages`).toBeGreaterThan(0);
        for (const l of labels) expect(index.vectorIndex.has(l), `${label}: ${p.id} label ${l} is in the vector index`).toBe(true);
      }
    }
    expect(embedded).toBe(stats.embedded);
    // ...and the vector index holds nothing else (orphans from an uncommitted checkpoint were dropped).
    expect(stats.vectors, `${label}: live vectors = stored passages`).toBe(stats.passages);
    // Search works, on whatever is there.
    const hits = await index.search("neural networks for learning representations", { k: 5 });
    if (stats.papers > 0) expect(hits.length).toBeGreaterThan(0);
    if (stats.embedded > 0) {
      const dense = await index.search("neural networks for learning representations", { k: 5, mode: "dense" });
      expect(dense.length).toBeGreaterThan(0);
    }
    return { papers: stats.papers, embedded: stats.embedded, pending: stats.pending };
  } finally {
    index.close();
  }
}

describe("PaperIndex under SIGKILL", () => {
  let tmp: string;
  let embedder: Embedder;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-crash-"));
    embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: { info: () => undefined, warn: () => undefined } });
  }, 120_000);

  afterAll(async () => {
    await embedder?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("opens consistent and searchable after kills at random moments, and a last run completes", { timeout: 240_000 }, async () => {
    const seed = process.env.PAPERHOUND_CRASH_SEED ? Number(process.env.PAPERHOUND_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
    const rnd = seededRandom(seed);
    const { file, source } = await writePapers(tmp, PAPERS);
    const dir = path.join(tmp, "index");
    const kills = 4 + Math.floor(rnd() * 3); // 4 to 6
    console.log(`crash test: seed ${seed} (PAPERHOUND_CRASH_SEED=${seed} replays it), ${kills} kills, ${PAPERS} papers from ${source}`);

    let papers = 0;
    let killed = 0;
    for (let i = 0; i < kills; i++) {
      const plan: KillPlan =
        rnd() < 0.2
          ? { kind: "startup", afterMs: Math.round(500 + rnd() * 2500) } // start-up and open take ~1-2 s
          : { kind: "embed", fraction: 0.05 + rnd() * 0.45, delayMs: Math.round(rnd() * 60) };
      const run = await runChild(dir, file, plan);
      const last = run.events.filter((e) => e.event === "progress").at(-1);
      console.log(
        `  run ${i + 1}: plan ${describePlan(plan)} → ${run.killed ? "killed" : `exited ${run.code}`}` +
          (last ? ` at ${last.phase} ${last.done}/${last.total}` : ` before any progress (${run.events.map((e) => e.event).join(", ") || "no events"})`),
      );
      if (!run.killed) {
        expect(run.code, run.stderr).toBe(0);
        break; // the work finished before the planned moment
      }
      killed++;
      const before = await inconsistency(dir, embedder);
      if (before && (before.orphans > 0 || before.lost > 0)) {
        console.log(`    killed between a vector save and its store commit: ${before.orphans} orphan vectors, ${before.lost} papers with lost vectors`);
      }
      const state = await checkIndex(dir, embedder, papers, `after kill ${killed}`);
      console.log(`    reopened: ${state.papers} papers, ${state.embedded} embedded, ${state.pending} pending`);
      papers = state.papers;
    }
    expect(killed, "most planned kills should land before the work is done").toBeGreaterThanOrEqual(3);

    const final = await runChild(dir, file);
    expect(final.code, final.stderr).toBe(0);
    expect(final.events.at(-1)?.event).toBe("done");

    const state = await checkIndex(dir, embedder, papers, "after the last run");
    expect(state).toEqual({ papers: PAPERS, embedded: PAPERS, pending: 0 });
    const index = await PaperIndex.open({ dir, embedder, readonly: true });
    try {
      const all = index.store.getMany(Array.from({ length: 2 * PAPERS + 100 }, (_, i) => i + 1));
      for (let i = 0; i < 5; i++) {
        const p = all[Math.floor(rnd() * all.length)]!;
        const hits = await index.search(p.title, { k: 3 });
        expect(hits.map((h) => h.paper.id), `exact title "${p.title}"`).toContain(p.id);
      }
    } finally {
      index.close();
    }
  });
});
