import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { Bm25Index } from "../../src/search/bm25-index.js";
import { seededRandom } from "../../src/random.js";
import { analyse, decodeTermData, encodeTermData, paperTermData, queryTerms, TermDataError } from "../../src/search/text-analysis.js";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3") as new (file: string) => {
  exec(sql: string): unknown;
  prepare(sql: string): { run(...p: unknown[]): unknown; all(...p: unknown[]): unknown[] };
  close(): void;
};

/** A dictionary that hands out ids in first-seen order. */
function dictionary(): { idOf: (t: string) => number; ids: Map<string, number> } {
  const ids = new Map<string, number>();
  return {
    ids,
    idOf: (t) => {
      if (!ids.has(t)) ids.set(t, ids.size + 1);
      return ids.get(t)!;
    },
  };
}

const DOCS = [
  { title: "Graph neural networks for molecules", abstract: "We predict molecular properties with message passing networks on molecular graphs." },
  { title: "Attention is all you need", abstract: "The transformer relies entirely on attention, dispensing with recurrence and convolutions." },
  { title: "Deep residual learning", abstract: "Residual networks ease the training of very deep networks for image recognition." },
  { title: "Equivariant point cloud networks", abstract: "Rotation equivariant convolutions on point clouds for 3D shape classification." },
  { title: "Diffusion models beat GANs", abstract: "Diffusion models achieve image sample quality superior to generative adversarial networks." },
  { title: "Scaling laws for neural language models", abstract: "Language model loss scales as a power law with model size, data and compute." },
];

describe("text analysis", () => {
  it("folds case and diacritics, drops stop words, stems, counts every word for the length", () => {
    const a = analyse("The Networks of Müller and the networking NETWORK");
    expect(Object.fromEntries(a.terms)).toEqual({ network: 3, muller: 1 });
    expect(a.length).toBe(8);
  });

  it("term data round-trips through the blob and rejects damaged blobs", () => {
    const { idOf } = dictionary();
    const d = paperTermData(DOCS[0]!.title, DOCS[0]!.abstract, idOf);
    expect(d.ids.length).toBeGreaterThan(5);
    expect(decodeTermData(encodeTermData(d))).toEqual(d);
    const blob = encodeTermData(d);
    expect(() => decodeTermData(blob.subarray(0, blob.length - 1))).toThrow(TermDataError);
    expect(() => decodeTermData(Buffer.concat([blob, Buffer.from([1])]))).toThrow(TermDataError);
    expect(() => decodeTermData(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(TermDataError);
    // Large ids and counts survive the varints.
    const big = { titleLength: 70000, abstractLength: 3, ids: [1, 200, 2 ** 31], tfTitle: [1, 0, 300], tfAbstract: [0, 65000, 1] };
    expect(decodeTermData(encodeTermData(big))).toEqual(big);
  });

  it("query terms carry no syntax and are capped", () => {
    expect(queryTerms('"attention*" NEAR(x) -title:graphs ^', 10)).toEqual(["attent", "near", "x", "titl", "graph"]);
    expect(queryTerms("a b c d e f g h", 3)).toEqual(["b", "c", "d"]);
  });
});

describe("Bm25Index", () => {
  function build(docs: { title: string; abstract: string }[], opts = {}) {
    const dict = dictionary();
    const documents = docs.map((d, i) => ({ rowid: (i + 1) * 10, data: encodeTermData(paperTermData(d.title, d.abstract, dict.idOf)) }));
    const index = Bm25Index.build(documents, opts);
    const search = (q: string, k = 10, accept?: (r: number) => boolean) =>
      index.search(
        queryTerms(q, 64)
          .filter((t) => dict.ids.has(t))
          .map((t) => ({ id: dict.ids.get(t)! })),
        k,
        accept,
      );
    return { index, search, dict };
  }

  it("scores exactly as SQLite FTS5's bm25() with the same column weights", () => {
    const rand = seededRandom(7);
    const vocab = "graph neural network molecule attention transformer residual deep image diffusion model language point cloud rotation equivariant scaling law data".split(" ");
    const text = (n: number) => Array.from({ length: n }, () => vocab[Math.floor(rand() * vocab.length)]).join(" ");
    const docs = [...DOCS, ...Array.from({ length: 60 }, () => ({ title: text(3 + Math.floor(rand() * 6)), abstract: text(10 + Math.floor(rand() * 60)) }))];
    const { search } = build(docs);
    const db = new Database(":memory:");
    db.exec("CREATE VIRTUAL TABLE f USING fts5(title, abstract, tokenize='porter unicode61 remove_diacritics 2')");
    const ins = db.prepare("INSERT INTO f(rowid, title, abstract) VALUES (?, ?, ?)");
    docs.forEach((d, i) => ins.run((i + 1) * 10, d.title, d.abstract));
    for (const q of ["graph neural networks", "rotation equivariant point cloud networks", "diffusion", "scaling laws of language models", "molecules"]) {
      // FTS5 stems the words itself (Porter is not idempotent: "diffus" → "diffu").
      const expr = [...new Set(q.split(" ").filter((w) => queryTerms(w, 1).length > 0))].map((w) => `"${w}"`).join(" OR ");
      const fts = db.prepare("SELECT rowid, -bm25(f, 2.0, 1.0) AS score FROM f WHERE f MATCH ? ORDER BY score DESC, rowid LIMIT 20").all(expr) as { rowid: number; score: number }[];
      const ours = search(q, 20);
      expect(ours.map((h) => h.rowid), q).toEqual(fts.map((h) => h.rowid));
      ours.forEach((h, i) => expect(h.score, q).toBeCloseTo(fts[i]!.score, 4));
    }
    db.close();
  });

  it("scoreTermData gives a paper the score search() gives it", () => {
    const dict = dictionary();
    const datas = DOCS.map((d) => paperTermData(d.title, d.abstract, dict.idOf));
    const index = Bm25Index.build(datas.map((d, i) => ({ rowid: i + 1, data: encodeTermData(d) })));
    const terms = queryTerms("deep residual networks for images", 64).filter((t) => dict.ids.has(t)).map((t) => ({ id: dict.ids.get(t)! }));
    const hits = index.search(terms, 10);
    expect(hits.length).toBeGreaterThan(1);
    for (const h of hits) expect(index.scoreTermData(terms, datas[h.rowid - 1]!)).toBeCloseTo(h.score, 5);
    expect(index.scoreTermData(terms, datas[1]!)).toBe(0); // "Attention is all you need" shares no term
  });

  it("ranks, honours k, ties by rowid, and matches any term", () => {
    const { search } = build(DOCS);
    const hits = search("equivariant point cloud");
    expect(hits[0]!.rowid).toBe(40);
    expect(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score)).toBe(true);
    expect(search("networks", 2)).toHaveLength(2);
    expect(search("networks", 0)).toEqual([]);
    expect(search("unknownword")).toEqual([]);
    // Two identical papers score the same: the lower rowid first.
    const twins = build([DOCS[1]!, DOCS[1]!]).search("attention");
    expect(twins.map((h) => h.rowid)).toEqual([10, 20]);
    expect(twins[0]!.score).toBe(twins[1]!.score);
  });

  it("accept() restricts results to allowed papers, still the best of them", () => {
    const { search } = build(DOCS);
    const all = search("networks", 10).map((h) => h.rowid);
    const allowed = new Set(all.slice(1));
    expect(search("networks", 10, (r) => allowed.has(r)).map((h) => h.rowid)).toEqual(all.slice(1));
    expect(search("networks", 10, () => false)).toEqual([]);
  });

  it("title weight: a title match outranks the same words in an abstract; weight 0 ignores titles", () => {
    const docs = [
      { title: "Transformers", abstract: "A study of sequence models." },
      { title: "Sequence models", abstract: "A study of transformers." },
    ];
    expect(build(docs).search("transformers")[0]!.rowid).toBe(10);
    expect(build(docs, { titleWeight: 0 }).search("transformers").map((h) => h.rowid)).toEqual([20]);
  });

  it("top-k pruning returns exactly what scoring every posting returns, with or without a tail, any k", () => {
    // Zipf-like words: a few in most papers (long posting lists to skip), most rare.
    const rand = seededRandom(11);
    const vocab = Array.from({ length: 400 }, (_, i) => `w${i}x`);
    const word = () => vocab[Math.min(vocab.length - 1, Math.floor(1 / (rand() + 0.0025)) - 1)]!;
    const text = (n: number) => Array.from({ length: n }, word).join(" ");
    const docs = Array.from({ length: 3000 }, () => ({ title: text(3 + Math.floor(rand() * 6)), abstract: text(20 + Math.floor(rand() * 80)) }));
    const dict = dictionary();
    const documents = docs.map((d, i) => ({ rowid: i + 1, data: encodeTermData(paperTermData(d.title, d.abstract, dict.idOf)) }));
    const whole = Bm25Index.build(documents);
    // The same papers with the last 300 added later: their postings sit in the tail.
    const withTail = Bm25Index.build(documents.slice(0, 2700)).withChanges(documents.slice(2700));
    expect(withTail.tailPostingCount).toBeGreaterThan(0);
    const termsOf = (q: string) => queryTerms(q, 64).filter((t) => dict.ids.has(t)).map((t) => ({ id: dict.ids.get(t)! }));
    let compared = 0;
    for (const index of [whole, withTail]) {
      for (let q = 0; q < 150; q++) {
        const terms = termsOf(text(2 + Math.floor(rand() * (q % 3 === 0 ? 25 : 6))));
        const weighted = q % 5 === 0 ? terms.map((t, i) => ({ ...t, weight: 0.5 + (i % 3) })) : terms;
        for (const k of [1, 10, 100]) {
          const exhaustive = index.search(weighted, k, undefined, false);
          expect(index.search(weighted, k), `query ${q}, k ${k}`).toEqual(exhaustive);
          compared += exhaustive.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
    // Pruning did happen (else this compared the exhaustive path with itself).
    expect(whole.prunedSearches).toBeGreaterThan(50);
    expect(withTail.prunedSearches).toBeGreaterThan(50);
    // Both indexes give the same scores too: a tail changes where postings sit, not what they score.
    const terms = termsOf("w0x w1x w2x w40x w90x");
    expect(withTail.search(terms, 50)).toEqual(whole.search(terms, 50));
    // A weight of 0 cannot be bounded from above in the same way: every posting is scored, same result.
    const zeroed = [...termsOf("w0x w1x w3x"), { ...termsOf("w7x")[0]!, weight: 0 }];
    const before = whole.prunedSearches;
    expect(whole.search(zeroed, 10)).toEqual(whole.search(zeroed, 10, undefined, false));
    expect(whole.prunedSearches).toBe(before);
  });

  it("an empty index answers nothing; repeated queries give the same answer (scratch space is reset)", () => {
    expect(Bm25Index.build([]).search([{ id: 1 }], 5)).toEqual([]);
    const { search } = build(DOCS);
    const first = search("deep residual networks image");
    expect(search("deep residual networks image")).toEqual(first);
    expect(search("attention").map((h) => h.rowid)).toEqual([20]);
  });
});
