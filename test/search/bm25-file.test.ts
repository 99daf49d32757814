import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Bm25Index, type Bm25Document, type Bm25Parts } from "../../src/search/bm25-index.js";
import { BM25_FILE, Bm25FileError, encodeBm25File, readBm25File, readBm25FileHeader, writeBm25File } from "../../src/search/bm25-file.js";
import { BM25_SAVE_MIN, PaperStore } from "../../src/search/paper-store.js";
import { encodeTermData, paperTermData } from "../../src/search/text-analysis.js";
import { seededRandom } from "../../src/random.js";
import type { Paper } from "../../src/papers/types.js";

const require = createRequire(import.meta.url);
const RawDatabase = require("better-sqlite3") as new (file: string) => { exec(sql: string): unknown; close(): void };

const VOCAB =
  "graph neural network molecule attention transformer residual deep image diffusion model language point cloud rotation equivariant scaling law data sparse kernel bayesian optimisation robot policy reward".split(
    " ",
  );

/** Random papers' term data (one shared dictionary), by row id. */
function corpus(seed: number, rowids: number[]): Map<number, Uint8Array> {
  const rand = seededRandom(seed);
  const ids = new Map<string, number>();
  const idOf = (t: string) => {
    if (!ids.has(t)) ids.set(t, ids.size + 1);
    return ids.get(t)!;
  };
  // Every word gets its id up front, so term ids do not depend on which papers are drawn.
  for (const w of VOCAB) paperTermData(w, "", idOf);
  const text = (n: number) => Array.from({ length: n }, () => VOCAB[Math.floor(rand() * VOCAB.length)]).join(" ");
  return new Map(rowids.map((rowid) => [rowid, encodeTermData(paperTermData(text(2 + Math.floor(rand() * 6)), text(5 + Math.floor(rand() * 40)), idOf))]));
}

const docs = (m: Map<number, Uint8Array>): Bm25Document[] => [...m].sort((a, b) => a[0] - b[0]).map(([rowid, data]) => ({ rowid, data }));
const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) }, (_, i) => from + i * step);

function plain(p: Bm25Parts) {
  return { ...p, rowidOfSlot: [...p.rowidOfSlot], docLength: [...p.docLength], termStart: [...p.termStart], postingSlot: [...p.postingSlot], postingTf: [...p.postingTf] };
}

describe("Bm25Index.withChanges", () => {
  const cases: [string, number[], number[]][] = [
    ["papers added after every old one", range(1, 200), range(200, 260)],
    ["papers added between old ones", range(2, 300, 2), range(1, 300, 7)],
    ["papers replaced and added", range(1, 200), [...range(5, 200, 9), 250, 251]],
    ["into an empty index", [], range(1, 40)],
  ];
  for (const [what, before, changed] of cases) {
    it(`makes the index build() makes from the final papers: ${what}`, () => {
      const old = corpus(1, before);
      const fresh = corpus(2, changed);
      const final = new Map([...old, ...fresh]);
      const merged = Bm25Index.build(docs(old)).withChanges(docs(fresh));
      const built = Bm25Index.build(docs(final));
      expect(plain(merged.parts())).toEqual(plain(built.parts()));
      for (const q of [[1, 2], [5], [3, 9, 14, 20]]) {
        const terms = q.map((id) => ({ id }));
        expect(merged.search(terms, 15)).toEqual(built.search(terms, 15));
      }
    });
  }

  it("papers added after every old one share the old postings and sit in a tail searched beside them, until it is folded", () => {
    const old = corpus(1, range(1, 400));
    const base = Bm25Index.build(docs(old));
    const first = corpus(2, range(400, 410));
    // A paper with a word no old paper has (its term id is beyond the old postings').
    const rare = new Map([[410, encodeTermData(paperTermData("quokka census", "", (t) => (t === "quokka" ? 500 : 501)))]]);
    const second = corpus(3, range(411, 420));
    const twice = base.withChanges(docs(first)).withChanges(docs(new Map([...rare, ...second])));
    const mainPostings = (index: Bm25Index) => (index as unknown as { main: { slot: Int32Array } }).main.slot;
    expect(mainPostings(twice)).toBe(mainPostings(base));
    expect(twice.tailPostingCount).toBeGreaterThan(0);
    const final = new Map([...old, ...first, ...rare, ...second]);
    const built = Bm25Index.build(docs(final));
    expect(twice.postingCount).toBe(built.postingCount);
    for (const q of [[1, 2], [5], [3, 9, 14, 20], [500], [500, 501, 4]]) {
      const terms = q.map((id) => ({ id }));
      expect(twice.search(terms, 15)).toEqual(built.search(terms, 15));
      for (const id of q) expect(twice.idf(id)).toBe(built.idf(id));
    }
    expect(twice.search([{ id: 500 }], 5).map((h) => h.rowid)).toEqual([410]);
    // A replaced paper: the tail is folded and the postings merged.
    const replacedDocs = corpus(4, [5, 415]);
    const replaced = twice.withChanges(docs(replacedDocs));
    expect(replaced.tailPostingCount).toBe(0);
    expect(plain(replaced.parts())).toEqual(plain(Bm25Index.build(docs(new Map([...final, ...replacedDocs]))).parts()));
    // A tail over 1/8 of the main postings is folded in.
    const many = corpus(5, range(400, 480));
    const folded = base.withChanges(docs(many));
    expect(folded.tailPostingCount).toBe(0);
    expect(mainPostings(folded)).not.toBe(mainPostings(base));
    expect(plain(folded.parts())).toEqual(plain(Bm25Index.build(docs(new Map([...old, ...many]))).parts()));
    // parts() (what is saved) folds the tail and the index keeps the folded postings.
    expect(plain(twice.parts())).toEqual(plain(built.parts()));
    expect(twice.tailPostingCount).toBe(0);
    expect(twice.search([{ id: 500 }], 5).map((h) => h.rowid)).toEqual([410]);
  });

  it("nothing changed → the same index", () => {
    const index = Bm25Index.build(docs(corpus(1, range(1, 20))));
    expect(index.withChanges([])).toBe(index);
  });
});

describe("the BM25 file", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bm25-file-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads back the index it saved, with what it covers", async () => {
    const index = Bm25Index.build(docs(corpus(3, range(1, 120))), { titleWeight: 3 });
    const file = path.join(dir, BM25_FILE);
    await writeBm25File(file, index, { storeId: "s-1", seq: 42 });
    const back = readBm25File(file)!;
    expect(back.header).toMatchObject({ storeId: "s-1", seq: 42, titleWeight: 3, abstractWeight: 1, docs: 119 });
    expect(plain(back.index.parts())).toEqual(plain(index.parts()));
    expect(readBm25FileHeader(file)).toEqual(back.header);
    expect(readBm25File(path.join(dir, "none.bin"))).toBeUndefined();
    expect(readBm25FileHeader(path.join(dir, "none.bin"))).toBeUndefined();
  });

  it("a damaged file is refused, never used", () => {
    const index = Bm25Index.build(docs(corpus(3, range(1, 50))));
    const good = Buffer.from(encodeBm25File(index, { storeId: "s", seq: 1 }));
    const file = path.join(dir, BM25_FILE);
    const damaged: [string, Buffer][] = [
      ["cut short", good.subarray(0, good.length - 4)],
      ["not ours", Buffer.from("SQLite format 3\0 and more bytes here")],
      ["empty", Buffer.alloc(0)],
      ["header not JSON", Buffer.concat([good.subarray(0, 12), Buffer.from("{{{{"), good.subarray(16)])],
      ["a posting outside the papers", (() => {
        const b = Buffer.from(good);
        b.writeInt32LE(1_000_000, b.length - 8 * index.postingCount + 4 * 3);
        return b;
      })()],
    ];
    for (const [what, bytes] of damaged) {
      fs.writeFileSync(file, bytes);
      expect(() => readBm25File(file), what).toThrow(Bm25FileError);
    }
    const folder = path.join(dir, "a-folder.bin");
    fs.mkdirSync(folder);
    expect(() => readBm25FileHeader(folder)).toThrow(Bm25FileError);
    expect(() => readBm25File(folder)).toThrow(Bm25FileError);
  });
});

function paper(n: number, over: Partial<Paper> = {}): Paper {
  const words = VOCAB.filter((_, i) => (n * 7 + i) % 5 === 0).join(" ");
  return { id: `2401.${String(n).padStart(5, "0")}`, title: `Paper ${n} on ${VOCAB[n % VOCAB.length]}`, abstract: `We study ${words} number${n}.`, authors: ["A B"], categories: ["cs.LG"], links: {}, source: "arxiv-api", ...over };
}

describe("a store with a BM25 file", () => {
  let dir: string;
  const open: PaperStore[] = [];
  const track = (s: PaperStore) => (open.push(s), s);
  const storeAt = (d: string, readonly = false) => track(PaperStore.open(path.join(d, "papers.sqlite"), { readonly, bm25File: path.join(d, BM25_FILE) }));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bm25-store-"));
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const QUERIES = ["graph neural network", "diffusion model image", "robot policy reward", "number7 sparse kernel"];
  const answers = (s: PaperStore) => QUERIES.map((q) => s.bm25Search(q, 10));
  /** What a store without a file answers: the reference. */
  const reference = (d: string) => {
    const s = track(PaperStore.open(path.join(d, "papers.sqlite"), { readonly: true }));
    return answers(s);
  };

  it("the first save writes it; a reader opens from it, then merges what changed since, answering as a rebuild does", async () => {
    const writer = storeAt(dir);
    writer.upsertMany(range(1, 60).map((n) => paper(n)));
    expect(await writer.saveFullTextIndex()).toBeUndefined();
    expect(fs.existsSync(path.join(dir, BM25_FILE))).toBe(true);

    const reader = storeAt(dir, true);
    expect(answers(reader)).toEqual(reference(dir));
    expect(reader.fullTextLoad).toMatchObject({ from: "file", merged: 0 });

    // Fewer changes than a save waits for: the file stays, readers merge them.
    writer.upsertMany([...range(60, 70).map((n) => paper(n)), paper(3, { abstract: "A new version about diffusion model image number3." })]);
    const before = fs.statSync(path.join(dir, BM25_FILE)).mtimeMs;
    expect(await writer.saveFullTextIndex()).toBeUndefined();
    expect(fs.statSync(path.join(dir, BM25_FILE)).mtimeMs).toBe(before);
    const late = storeAt(dir, true);
    expect(answers(late)).toEqual(reference(dir));
    expect(late.fullTextLoad).toMatchObject({ from: "file", merged: 11 });

    // The open reader catches up in memory (no file read, no rebuild).
    reader.catchUp();
    expect(answers(reader)).toEqual(reference(dir));
    expect(reader.fullTextLoad).toMatchObject({ from: "memory", merged: 11 });

    // force: the file gets every change.
    await writer.saveFullTextIndex({ force: true });
    const third = storeAt(dir, true);
    expect(answers(third)).toEqual(reference(dir));
    expect(third.fullTextLoad).toMatchObject({ from: "file", merged: 0 });
  });

  it(`a save waits for ${BM25_SAVE_MIN} unsaved papers (or 10% of them)`, async () => {
    const writer = storeAt(dir);
    writer.upsertMany([paper(1)]);
    await writer.saveFullTextIndex();
    writer.upsertMany(range(2, BM25_SAVE_MIN + 2).map((n) => paper(n)));
    await writer.saveFullTextIndex();
    expect(readBm25FileHeader(path.join(dir, BM25_FILE))!.seq).toBe(BM25_SAVE_MIN + 1);
  });

  it("a file of another store, or of a later state than the store's, is not used", async () => {
    const writer = storeAt(dir);
    writer.upsertMany(range(1, 30).map((n) => paper(n)));
    await writer.saveFullTextIndex();
    // Another index with other papers, given this one's file.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "bm25-other-"));
    try {
      const o = storeAt(other);
      o.upsertMany(range(100, 140).map((n) => paper(n)));
      o.close();
      fs.copyFileSync(path.join(dir, BM25_FILE), path.join(other, BM25_FILE));
      const r = storeAt(other, true);
      expect(answers(r)).toEqual(reference(other));
      expect(r.fullTextLoad?.from).toBe("store");
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    // The store put back to an earlier copy while the file moved on.
    const copy = path.join(dir, "earlier.sqlite");
    writer.close(); // the last connection: the WAL goes into the file
    fs.copyFileSync(path.join(dir, "papers.sqlite"), copy);
    const later = storeAt(dir);
    later.upsertMany(range(30, 40).map((n) => paper(n)));
    await later.saveFullTextIndex({ force: true });
    later.close();
    fs.copyFileSync(copy, path.join(dir, "papers.sqlite"));
    for (const ext of ["-wal", "-shm"]) fs.rmSync(path.join(dir, `papers.sqlite${ext}`), { force: true });
    const r = storeAt(dir, true);
    expect(answers(r)).toEqual(reference(dir));
    expect(r.fullTextLoad?.from).toBe("store");
  });

  it("a damaged file: the store is searched as if there were none, and the next save replaces it", async () => {
    const writer = storeAt(dir);
    writer.upsertMany(range(1, 30).map((n) => paper(n)));
    fs.writeFileSync(path.join(dir, BM25_FILE), "garbage");
    fs.writeFileSync(path.join(dir, `.${BM25_FILE}.123.abcd.tmp`), "left by a killed save");
    const r = storeAt(dir, true);
    expect(answers(r)).toEqual(reference(dir));
    expect(r.fullTextLoad?.from).toBe("store");
    await writer.saveFullTextIndex();
    expect(readBm25FileHeader(path.join(dir, BM25_FILE))!.docs).toBe(29);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("a save that cannot write is returned, not thrown, and changes nothing", async () => {
    const writer = storeAt(dir);
    writer.upsertMany(range(1, 10).map((n) => paper(n)));
    fs.mkdirSync(path.join(dir, BM25_FILE)); // a directory where the file goes
    const err = await writer.saveFullTextIndex();
    expect(err).toBeInstanceOf(Error);
    expect(writer.bm25Search("graph neural network", 10)).toEqual(reference(dir)[0]);
  });

  it("a rolled-back change is not kept in the index (its seq is taken again by another paper)", async () => {
    const writer = storeAt(dir);
    writer.upsertMany(range(1, 10).map((n) => paper(n)));
    writer.fullTextIndex();
    expect(() =>
      writer.transaction(() => {
        writer.upsertMany([paper(50, { abstract: "zebra quagga" })]);
        writer.fullTextIndex();
        throw new Error("rolled back");
      }),
    ).toThrow("rolled back");
    writer.upsertMany([paper(51, { abstract: "okapi" })]);
    expect(writer.bm25Search("zebra", 5)).toEqual([]);
    expect(writer.bm25Search("okapi", 5)).toHaveLength(1);
  });

  it("a version 2 store opens read-only as it is (BM25 built from the store); a writer migrates it", async () => {
    const file = path.join(dir, "papers.sqlite");
    const w = storeAt(dir);
    w.upsertMany(range(1, 20).map((n) => paper(n)));
    const expected = answers(w);
    w.close();
    const raw = new RawDatabase(file);
    raw.exec(`DROP INDEX paper_terms_seq; ALTER TABLE paper_terms DROP COLUMN seq; DELETE FROM meta WHERE key = 'store_id';
      UPDATE meta SET value = '2' WHERE key = 'schema_version';`);
    raw.close();
    const r = storeAt(dir, true);
    expect(answers(r)).toEqual(expected);
    expect(r.fullTextLoad?.from).toBe("store");
    r.close();
    const migrated = storeAt(dir);
    expect(migrated.stats().schemaVersion).toBe(3);
    migrated.upsertMany([paper(40)]);
    await migrated.saveFullTextIndex();
    const after = storeAt(dir, true);
    expect(answers(after)).toEqual(reference(dir));
    expect(after.fullTextLoad?.from).toBe("file");
  });
});
