/**
 * The search commands (index, search, related, stats, reindex) run as child processes exactly as
 * users run them, against temporary index directories built from test/fixtures/cli-papers.jsonl
 * (12 arXiv papers). Tests that damage or change an index work on their own copy of it.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKnownError } from "../src/cli.js";
import { InputError } from "../src/app/context.js";
import { IndexUnusableError } from "../src/app/open-index.js";
import { parseDate, parseK } from "../src/cli/search-common.js";
import { abstractSnippet, shortAuthors, shortName, wrap } from "../src/papers/display.js";
import { PaperFileError } from "../src/papers/sources/jsonl.js";
import { ListingParseError } from "../src/papers/sources/daily-listing.js";
import { projectRoot } from "../src/paths.js";
import { PaperNotFoundError, SearchInputError } from "../src/search/paper-index.js";
import { PaperStore, StoreCorruptError, StoreSchemaError } from "../src/search/paper-store.js";
import { hnswlib } from "../src/search/vectors/hnswlib.js";
import { IndexCorruptError, ModelMismatchError, VectorIndexError } from "../src/search/vector-index.js";
import { WriterLock } from "../src/search/writer-lock.js";
import { runNode, type Run } from "./helpers/run-cli.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "cli-papers.jsonl");
const BAD_LINES = path.join(projectRoot, "test", "fixtures", "papers-bad-lines.jsonl");

let tmp: string;
/** The index every read-only test queries: the fixture, indexed once. */
let base: string;
let baseRun: Run;

/**
 * Runs bin/paperhound.js with none of our settings from the caller's shell. PAPERHOUND_INDEX points
 * into the temp dir unless a test sets it, so no test can touch the project's default index.
 */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runNode(args, { env: { PAPERHOUND_INDEX: path.join(tmp, "configured-index"), ...env } });
}

/** A copy of the base index for a test that changes or damages it. */
function copyOfBase(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(base, dir, { recursive: true });
  return dir;
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The last line of stderr (errors come last, after any progress output). */
function lastLine(s: string): string {
  return s.trimEnd().split("\n").at(-1) ?? "";
}

interface HitJson {
  rank: number;
  id: string;
  title: string;
  authors: string[];
  date: string | null;
  categories: string[];
  url: string | null;
  score: number;
  dense: number | null;
  bm25: number | null;
  abstract: string;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-cli-search-"));
  base = path.join(tmp, "base");
  baseRun = await run(["index", FIXTURE, "--index", base]);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("paperhound index", () => {
  it("indexes a JSONL file, embeds every paper and prints a summary", () => {
    expect(baseRun.stderr).not.toContain("paperhound:");
    expect(baseRun.code).toBe(0);
    expect(baseRun.stdout).toMatch(/read 12, added 12, updated 0, unchanged 0, embedded 12, passages \d+, errors 0, time [\d.]+ s/);
    expect(baseRun.stderr).toContain("embedding done: 12/12 papers");
    expect(readdirSync(base)).toEqual(expect.arrayContaining(["papers.sqlite", "vectors.json"]));
  });

  it("re-indexing the same file embeds nothing; a changed abstract re-embeds only that paper; --dry-run writes nothing", async () => {
    const dir = copyOfBase("reindex-same");
    const again = await run(["index", FIXTURE, "--index", dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/read 12, added 0, updated 0, unchanged 12, embedded 0, passages 0, errors 0/);

    const changed = path.join(tmp, "changed.jsonl");
    const lines = readFileSync(FIXTURE, "utf8").replace("Dark matter halos host galaxies.", "Dark matter halos host nearly all galaxies.");
    writeFileSync(changed, lines);
    const extra = path.join(tmp, "extra.jsonl");
    writeFileSync(extra, `${JSON.stringify({ id: "2501.00001", title: "Benchmarks for Paper Search", abstract: "We build a benchmark for searching research papers by meaning." })}\n`);
    const storeBefore = sha256(path.join(dir, "papers.sqlite"));
    const dry = await run(["index", changed, extra, "--dry-run", "--index", dir]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("read 13, new 1, known 12 (1 with a changed title or abstract, to be re-embedded), errors 0; nothing was written");
    expect(sha256(path.join(dir, "papers.sqlite"))).toBe(storeBefore);

    const update = await run(["index", changed, "--index", dir]);
    expect(update.code).toBe(0);
    expect(update.stdout).toMatch(/read 12, added 0, updated 1, unchanged 11, embedded 1, passages 1, errors 0/);
    const store = PaperStore.open(path.join(dir, "papers.sqlite"), { readonly: true });
    try {
      expect(store.get("2407.77777")?.abstract).toContain("nearly all galaxies");
      expect(store.stats()).toMatchObject({ papers: 12, pending: 0 });
    } finally {
      store.close();
    }
  });

  it("saves the keyword index as bm25.bin; when it cannot be saved: a warning, exit 0, the papers indexed and found", async () => {
    expect(existsSync(path.join(base, "bm25.bin"))).toBe(true);
    const dir = copyOfBase("bm25-unsaved");
    rmSync(path.join(dir, "bm25.bin"));
    mkdirSync(path.join(dir, "bm25.bin")); // a directory where the file goes
    const extra = path.join(tmp, "bm25-extra.jsonl");
    writeFileSync(extra, `${JSON.stringify({ id: "2501.00002", title: "Okapi weighting for scholarly search", abstract: "We revisit okapi term weighting for finding research papers." })}\n`);
    const r = await run(["index", extra, "--index", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/added 1/);
    expect(r.stderr).toMatch(/warning: the keyword index file bm25\.bin could not be saved \(.+\); the papers are stored and searchable/);
    const found = await run(["search", "okapi weighting", "--index", dir, "--weight", "0", "--json"]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain("2501.00002");
  });

  it("reports bad records as file:line and goes on (exit 0); 20 shown, then a count", async () => {
    const many = path.join(tmp, "many-bad.jsonl");
    const bad = Array.from({ length: 25 }, (_, i) => `{"id": "2101.${String(i + 100).padStart(5, "0")}", "title": "No abstract ${i}"}`);
    writeFileSync(many, [...bad, JSON.stringify({ id: "2101.09999", title: "The Only Good One", abstract: "It has an abstract." })].join("\n"));
    const dir = path.join(tmp, "bad-lines");
    const [r, dry] = await Promise.all([run(["index", BAD_LINES, many, "--index", dir]), run(["index", many, "--dry-run", "--index", dir])]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${BAD_LINES}:2: not valid JSON`);
    expect(r.stderr).toContain(`${BAD_LINES}:4: "abstract" is missing`);
    const shown = r.stderr.split("\n").filter((l) => l.includes(".jsonl:"));
    expect(shown).toHaveLength(20);
    expect(r.stderr).toContain("... and 13 more record errors (33 in all");
    expect(r.stdout).toMatch(/read 4, added 4, .*errors 33,/);
    // The dry run races the first indexing on purpose: it may see no store yet, or the good paper already stored; either way it reads that one paper and fails on nothing.
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/read 1, (new 1, known 0|new 0, known 1) \(0 with a changed title or abstract, to be re-embedded\), errors 25; nothing was written/);
  });

  it("a missing or unreadable file: exit 1 naming it, nothing written", async () => {
    const dir = path.join(tmp, "missing-file");
    const r = await run(["index", FIXTURE, "no-such-file.jsonl", "--index", dir]);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toBe("paperhound: no-such-file.jsonl does not exist; nothing was indexed");
    expect(existsSync(dir)).toBe(false);
  });

  it("reads listing pages (auto-detected) and names a file with no papers (exit 1)", async () => {
    const listing = path.join(tmp, "listing.txt");
    writeFileSync(
      listing,
      "Jun 6\n\nRobots That Learn to Grasp\n\nRobots learn to grasp unfamiliar objects from a handful of demonstrations with a diffusion policy trained in simulation.\n\n" +
        "Counting Letters in Language Models\n\nWe study how language models count letters in words and find that they mostly guess from token statistics.\n",
    );
    const junk = path.join(tmp, "junk.txt");
    writeFileSync(junk, "hello\n");
    const dir = path.join(tmp, "listing-index");
    const r = await run(["index", listing, junk, "--index", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/read 2, added 2, updated 0, unchanged 0, embedded 2/);
    expect(lastLine(r.stderr)).toMatch(/^paperhound: 1 of 2 file\(s\) could not be read .*junk\.txt: no papers found/);
    const store = PaperStore.open(path.join(dir, "papers.sqlite"), { readonly: true });
    try {
      expect(store.get("listing:robots-that-learn-to-grasp")?.title).toBe("Robots That Learn to Grasp");
    } finally {
      store.close();
    }
  });
});

describe("paperhound search", () => {
  it("prints ranked hits readable in 80 columns", async () => {
    const r = await run(["search", "sparse attention for long documents", "-k", "3", "--index", base]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe('3 results for "sparse attention for long documents"');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    const first = r.stdout.split("\n\n")[1]!.split("\n");
    expect(first[0]).toBe("1. Sparse Attention for Long Documents");
    expect(first[1]).toMatch(/^ {3}A\. Smith, B\. Jones et al\. · 2021-01-04 · cs\.CL · score -?\d+\.\d\d$/);
    expect(first[2]).toBe("   https://arxiv.org/abs/2101.00001");
    expect(first[3]).toBe("   Transformers scale quadratically with sequence length, which makes long");
    expect(first[4]).toBe("   documents expensive to read.");
    expect(r.stdout).toMatch(/\n2\. /);
    expect(r.stdout).toMatch(/\n3\. /);
  });

  it("--json prints exactly one JSON object with the hits", async () => {
    const r = await run(["search", "protein embeddings", "--json", "-k", "4", "--index", base]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { query: string; hits: HitJson[] };
    expect(out.query).toBe("protein embeddings");
    expect(out.hits.map((h) => h.rank)).toEqual([1, 2, 3, 4]);
    const top = out.hits[0]!;
    expect(Object.keys(top)).toEqual(["rank", "id", "title", "authors", "date", "categories", "url", "score", "dense", "bm25", "abstract"]);
    expect(top).toMatchObject({
      id: "2205.05678",
      title: "Contrastive Learning of Protein Embeddings",
      authors: ["Ines Moreau", "Jonas Weber"],
      date: "2022-05-10",
      categories: ["q-bio.BM", "cs.LG"],
      url: "https://arxiv.org/abs/2205.05678",
    });
    expect(top.dense).toEqual(expect.any(Number));
    expect(top.bm25).toEqual(expect.any(Number));
    expect(out.hits[1]!.score).toBeLessThanOrEqual(top.score);
  });

  it("filters: --since/--until/--category (archive) and --author", async () => {
    const [dated, byAuthor] = await Promise.all([
      run(["search", "learning", "--json", "-k", "20", "--since", "2022-01-01", "--until", "2023-12-31", "--category", "cs", "--category", "quant-ph", "--index", base]),
      run(["search", "learning", "--json", "-k", "20", "--author", "SMITH", "--weight", "0", "--index", base]),
    ]);
    for (const r of [dated, byAuthor]) expect(r.code).toBe(0);
    const d = (JSON.parse(dated.stdout) as { hits: HitJson[] }).hits;
    expect(d.length).toBeGreaterThan(0);
    for (const h of d) {
      expect(h.date! >= "2022-01-01" && h.date! <= "2023-12-31").toBe(true);
      expect(h.categories.some((c) => c.startsWith("cs.") || c === "quant-ph")).toBe(true);
    }
    expect(d.map((h) => h.id)).not.toContain("2101.00001");
    const a = (JSON.parse(byAuthor.stdout) as { hits: HitJson[] }).hits;
    expect(a.map((h) => h.id).sort()).toEqual(["2101.00001", "2404.66666"]);
    for (const h of a) expect(h.authors).toContain("Alice Smith");
  });

  it("bad query text: empty and punctuation-only fail (exit 1); 10,000 characters and FTS5 syntax work", async () => {
    const [empty, punct, long, fts] = await Promise.all([
      run(["search", "   ", "--index", base]),
      run(["search", "?!... --", "--index", base]),
      run(["search", "attention ".repeat(1000), "--json", "-k", "2", "--index", base]),
      run(["search", '"sparse attention" NEAR * -long: title:videos (x OR', "--json", "--index", base]),
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe("paperhound: the query is empty: type a few words about the papers you want\n");
    expect(punct.code).toBe(1);
    expect(punct.stderr).toBe("paperhound: the query has no letters or digits to search for\n");
    expect(long.code).toBe(0);
    expect((JSON.parse(long.stdout) as { hits: HitJson[] }).hits).toHaveLength(2);
    expect(fts.stderr).toBe("");
    expect(fts.code).toBe(0);
    expect((JSON.parse(fts.stdout) as { hits: HitJson[] }).hits[0]!.id).toMatch(/^2101\.0000[12]$/);
  });

  it("bad -k, dates, weight and date ranges are usage errors (exit 2) naming the option", async () => {
    const cases: [string[], RegExp][] = [
      [["-k", "0"], /option '-k <n>' argument '0' is invalid\. .*from 1 to 1000/],
      [["-k", "-3"], /option '-k <n>' argument '-3' is invalid\. .*from 1 to 1000/],
      [["-k", "1000000"], /argument '1000000' is invalid\. .*from 1 to 1000/],
      [["-k", "abc"], /argument 'abc' is invalid\. .*from 1 to 1000/],
      [["--since", "2024-13-45"], /option '--since <date>' argument '2024-13-45' is invalid\. expected a date like 2024-01-31/],
      [["--since", "yesterday"], /option '--since <date>' argument 'yesterday' is invalid/],
      [["--until", "2023-02-29"], /option '--until <date>' argument '2023-02-29' is invalid/],
      [["--weight", "1.5"], /option '--weight <w>' argument '1.5' is invalid/],
      [["--since", "2024-05-01", "--until", "2024-01-01"], /--since 2024-05-01 is after --until 2024-01-01/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(["search", "graphs", ...args, "--index", base])));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(" ")).toBe(2);
      expect(r.stderr.split("\n")[0]).toMatch(cases[i]![1]);
      expect(r.stdout).toBe("");
    });
  });

  it("a user-given empty index: exit 1 saying how to fill it, and nothing is created", async () => {
    const dir = path.join(tmp, "never-created");
    const r = await run(["search", "graphs", "--index", dir], { PAPERHOUND_SAMPLE_IF_EMPTY: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `paperhound: the index in ${dir} is empty: add papers with \`paperhound index <file...> --index ${dir}\` (JSON, JSON Lines or a listing page)\n`,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe("paperhound related", () => {
  it("finds the paper by id, abs URL with version, pdf URL with version, and title", async () => {
    const [byId, byAbs, byPdf, byTitle] = await Promise.all([
      run(["related", "2203.01234", "--json", "-k", "3", "--index", base]),
      run(["related", "https://arxiv.org/abs/2203.01234v2", "--json", "--index", base]),
      run(["related", "arxiv.org/pdf/hep-th/0601001v1", "--json", "--index", base]),
      run(["related", "graph neural networks for molecular property prediction", "-k", "2", "--index", base]),
    ]);
    for (const r of [byId, byAbs, byPdf]) expect(r.code).toBe(0);
    const id = JSON.parse(byId.stdout) as { query: string; paper: Record<string, unknown>; hits: HitJson[] };
    expect(id.query).toBe("2203.01234");
    expect(id.paper).toMatchObject({ id: "2203.01234", title: "Graph Neural Networks for Molecular Property Prediction", url: "https://arxiv.org/abs/2203.01234" });
    expect(id.hits).toHaveLength(3);
    expect(id.hits.map((h) => h.id)).not.toContain("2203.01234");
    expect((JSON.parse(byAbs.stdout) as { paper: { id: string } }).paper.id).toBe("2203.01234");
    expect((JSON.parse(byPdf.stdout) as { paper: { id: string } }).paper.id).toBe("hep-th/0601001");
    expect(byTitle.code).toBe(0);
    expect(byTitle.stdout).toMatch(/^Related to: Graph Neural Networks for Molecular Property Prediction\n {2}https:\/\/arxiv\.org\/abs\/2203\.01234\n\n1\. /);
    expect(byTitle.stdout).toMatch(/\n2\. /);
  });

  it("unknown arXiv id, malformed URL and ambiguous title: exit 1 with one clear message", async () => {
    const [unknown, badUrl, ambiguous] = await Promise.all([
      run(["related", "2401.99999", "--index", base, "--offline"]),
      run(["related", "https://arxiv.org/abs/", "--index", base]),
      run(["related", "sparse attention for long", "--index", base]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("paperhound: arXiv 2401.99999 is not in this index\n");
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toMatch(/^paperhound: arXiv URL without an id: https:\/\/arxiv\.org\/abs\/; give an arXiv id, an arXiv URL or a paper title\n$/);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/^paperhound: several papers match "sparse attention for long"; say which one:\n/);
    expect(ambiguous.stderr).toContain("  2101.00001  Sparse Attention for Long Documents\n");
    expect(ambiguous.stderr).toContain("  2101.00002  Sparse Attention for Long Videos\n");
  });
});

describe("paperhound stats", () => {
  it("--json prints counts, model and sizes as one object", async () => {
    const json = await run(["stats", "--json", "--index", base]);
    expect(json.code).toBe(0);
    expect(json.stdout.trimEnd().split("\n")).toHaveLength(1);
    const s = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ papers: 12, vectors: s.passages, pending: 0, model: "paperhound-sci-1", dim: 512, index_dir: base });
    expect(s.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(s.bytes_on_disk).toBeGreaterThan(10_000);
    expect(["x86-64-v3", "stock"]).toContain(s.vector_search_build);
    expect(s.vector_search_build === "stock").toBe(typeof s.vector_search_build_reason === "string");
    expect(s.vector_storage).toBe(hnswlib.float16 ? "float16" : "float32");
  });

  it("says which build of hnswlib searches the vectors, and why the stock one when VECTOR_SIMD=off", async () => {
    const off = await run(["stats", "--index", base], { VECTOR_SIMD: "off" });
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/^vector search +hnswlib-node, stock build \(VECTOR_SIMD=off\)$/m);
    // The file is what it is; the stock build reads half floats as float32.
    expect(off.stdout).toMatch(new RegExp(`^vectors +12, stored as ${hnswlib.float16 ? "float16" : "float32"}$`, "m"));
    const bad = await run(["stats", "--index", base], { VECTOR_SIMD: "fast" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/VECTOR_SIMD/);
  });
});

describe("the sample corpus on first use", () => {
  it("an empty configured index is filled with the 37 sample papers first (PAPERHOUND_SAMPLE_IF_EMPTY=1)", async () => {
    const dir = path.join(tmp, "sample-index");
    const env = { PAPERHOUND_INDEX: dir, PAPERHOUND_SAMPLE_IF_EMPTY: "1" };
    const r = await run(["search", "latent space communication", "--json", "-k", "3"], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("index is empty: indexing the built-in sample corpus (37 papers) first\n");
    const hits = (JSON.parse(r.stdout) as { hits: HitJson[] }).hits;
    expect(hits).toHaveLength(3);
    for (const h of hits) expect(h.id).toMatch(/^sample:/);
    const [stats, notDefault] = await Promise.all([
      run(["stats"], env),
      // Without the switch, a configured directory that is not the built-in default is not filled.
      run(["stats"], { PAPERHOUND_INDEX: path.join(tmp, "other-empty") }),
    ]);
    expect(stats.stderr).toBe("");
    expect(stats.stdout).toMatch(/^index +.*sample-index$/m);
    expect(stats.stdout).toMatch(/^papers +37 \(37 embedded, 0 pending\)$/m);
    expect(stats.stdout).toMatch(/^model +paperhound-sci-1 \(dim 512, checksum [0-9a-f]{12}\)$/m);
    expect(notDefault.code).toBe(1);
    expect(notDefault.stderr).toMatch(/^paperhound: the index in .*other-empty is empty: add papers with `paperhound index <file\.\.\.>`/);
  });
});

describe("damaged or mismatched indexes", () => {
  it("model mismatch: exit 1 saying to run reindex --yes; reindex asks for --yes, then fixes it", async () => {
    const dir = copyOfBase("mismatch");
    const store = PaperStore.open(path.join(dir, "papers.sqlite"));
    store.setModelFingerprint({ modelId: "other-model", dim: 384, checksum: "0123456789abcdef0123" });
    store.close();
    const [search, ask] = await Promise.all([run(["search", "graphs", "--index", dir]), run(["reindex", "--index", dir])]);
    expect(search.code).toBe(1);
    expect(search.stderr).toMatch(/^paperhound: the index in .* was built with model "other-model" \(dim 384, .*\), but the configured model .* is "paperhound-sci-1"/);
    expect(search.stderr).toContain(`run \`paperhound reindex --yes --index ${dir}\``);
    expect(search.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(ask.code).toBe(1);
    expect(ask.stderr).toContain("reindex re-embeds all 12 papers");
    expect(ask.stderr).toContain("--yes");

    const fix = await run(["reindex", "--yes", "--index", dir]);
    expect(fix.code).toBe(0);
    expect(fix.stdout).toMatch(/reindexed .*: embedded 12 papers, \d+ passages, model paperhound-sci-1 \(dim 512\)/);
    const after = await run(["search", "graph neural networks", "--json", "-k", "1", "--index", dir]);
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as { hits: HitJson[] }).hits[0]!.id).toBe("2203.01234");
  });

  it("an index built with the previous default (use-lite) says to run reindex --yes, which moves it to the new default", async () => {
    const dir = path.join(tmp, "built-with-use-lite");
    const built = await run(["index", FIXTURE, "--index", dir], { EMBED_MODEL: "use-lite" });
    expect(built.code, built.stderr).toBe(0);
    const search = await run(["search", "graphs", "--index", dir]);
    expect(search.code).toBe(1);
    expect(search.stderr).toMatch(/was built with model "use-lite" \(dim 512, .*\), but the configured model .* is "paperhound-sci-1"/);
    expect(search.stderr).toContain(`run \`paperhound reindex --yes --index ${dir}\``);
    // use-lite stays selectable: the old index still answers with it.
    expect((await run(["search", "graphs", "--index", dir], { EMBED_MODEL: "use-lite" })).code).toBe(0);
    const fix = await run(["reindex", "--yes", "--index", dir]);
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/model paperhound-sci-1 \(dim 512\)/);
    expect((await run(["search", "graphs", "--index", dir])).code).toBe(0);
  });

  it("a reindex that died after clearing the store (old vector files still there) completes when rerun", async () => {
    const dir = copyOfBase("interrupted-reindex");
    // The state reindex leaves between its store transaction and deleting the vector files, after a
    // model change: the store has no passages and the new model's fingerprint; vectors.json the old one.
    const pointerFile = path.join(dir, "vectors.json");
    const pointer = JSON.parse(readFileSync(pointerFile, "utf8")) as { fingerprint: Record<string, unknown> };
    pointer.fingerprint = { modelId: "other-model", dim: pointer.fingerprint.dim, checksum: "0123456789abcdef0123" };
    writeFileSync(pointerFile, JSON.stringify(pointer));
    const store = PaperStore.open(path.join(dir, "papers.sqlite"));
    store.transaction(() => {
      for (const rowid of store.rowidsWithMissingLabels(() => false)) store.removeVectorLabels(rowid);
    });
    expect(store.stats()).toMatchObject({ papers: 12, passages: 0, pending: 12 });
    store.close();

    const rerun = await run(["reindex", "--yes", "--index", dir]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain("embedded 12 papers");
    const after = PaperStore.open(path.join(dir, "papers.sqlite"), { readonly: true });
    try {
      expect(after.stats()).toMatchObject({ papers: 12, pending: 0 });
      expect(after.stats().passages).toBeGreaterThanOrEqual(12);
    } finally {
      after.close();
    }
    expect((JSON.parse(readFileSync(pointerFile, "utf8")) as { fingerprint: { modelId: string } }).fingerprint.modelId).toBe("paperhound-sci-1");
  });

  it("a reindex that cannot take the writer lock changes nothing: exit 1, every vector and file as it was", async () => {
    const dir = copyOfBase("reindex-while-writing");
    const before = Object.fromEntries(readdirSync(dir).filter((n) => n.startsWith("vectors")).map((n) => [n, sha256(path.join(dir, n))]));
    const writer = await WriterLock.acquire(dir); // another process writing the index
    let refused: Run;
    try {
      refused = await run(["reindex", "--yes", "--index", dir], { INDEX_LOCK_WAIT_SECONDS: "0" });
    } finally {
      writer.release();
    }
    expect(refused.code).toBe(1);
    const after = PaperStore.open(path.join(dir, "papers.sqlite"), { readonly: true });
    try {
      expect(after.stats()).toMatchObject({ papers: 12, pending: 0 });
    } finally {
      after.close();
    }
    expect(Object.fromEntries(readdirSync(dir).filter((n) => n.startsWith("vectors")).map((n) => [n, sha256(path.join(dir, n))]))).toEqual(before);
    expect(lastLine(refused.stderr)).toMatch(/another process is writing the index .*Nothing was changed\.$/);
    const search = await run(["search", "graphs", "--json", "--index", dir]);
    expect(search.code).toBe(0);
  });

  it("titles and abstracts with terminal escapes print without them (search and related)", async () => {
    const dir = path.join(tmp, "escapes");
    const file = path.join(tmp, "escapes.jsonl");
    const evil = (n: number) => ({
      id: `2401.0900${n}`,
      title: `Graph networks ${n}\u001b[2J\u001b]52;c;ZXZpbA==\u0007 \u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\`,
      abstract: `Graph neural networks on molecules.\u009b31m \u202eevil\u202c Message passing.`,
      authors: ["Eve \u001b[31mRed"],
      categories: ["cs.LG"],
      published: "2024-01-02",
    });
    writeFileSync(file, `${JSON.stringify(evil(1))}\n${JSON.stringify(evil(2))}\n`);
    expect((await run(["index", file, "--index", dir])).code).toBe(0);
    const [search, related] = await Promise.all([run(["search", "graph networks", "--index", dir]), run(["related", "2401.09001", "--index", dir])]);
    for (const r of [search, related]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Graph networks");
      expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b\u202e\u202c]/);
    }
  });

  it("a store with a damaged page is never written to or backed up: index, reindex and backup exit 1 naming it; the file is untouched", async () => {
    const dir = copyOfBase("damaged-page");
    const file = path.join(dir, "papers.sqlite");
    const bytes = readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    const pages = bytes.length / pageSize;
    bytes.fill(0, Math.floor(pages / 2) * pageSize, (Math.floor(pages / 2) + 1) * pageSize);
    writeFileSync(file, bytes);
    const before = sha256(file);
    const [index, reindex, backup] = [
      await run(["index", FIXTURE, "--index", dir]),
      await run(["reindex", "--yes", "--index", dir]),
      await run(["backup", path.join(tmp, "damaged-page-backup"), "--index", dir]),
    ];
    for (const r of [index, reindex]) {
      expect(r.code).toBe(1);
      expect(lastLine(r.stderr)).toContain(`paper store ${file} is corrupt or not a paperhound database`);
    }
    expect(backup.code).toBe(1);
    expect(lastLine(backup.stderr)).toMatch(/the paper store in .* is damaged .*no backup was written/);
    expect(existsSync(path.join(tmp, "damaged-page-backup"))).toBe(false);
    expect(sha256(file)).toBe(before);
  });

  it("a corrupted vector file: exit 1 naming it and suggesting reindex --yes; the file is untouched", async () => {
    const dir = copyOfBase("bad-vectors");
    const pointer = JSON.parse(readFileSync(path.join(dir, "vectors.json"), "utf8")) as { file: string };
    const file = path.join(dir, pointer.file);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(file, bytes);
    const damaged = sha256(file);
    const r = await run(["search", "graphs", "--index", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^paperhound: vector index file ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is unusable: .*sha256`));
    expect(r.stderr).toContain("paperhound reindex --yes");
    expect(r.stderr).toContain("backup");
    expect(sha256(file)).toBe(damaged);
  });

  it("a truncated or overwritten paper store: exit 1 naming it, suggesting a backup; the file is untouched", async () => {
    const truncated = copyOfBase("truncated-store");
    const overwritten = copyOfBase("garbage-store");
    const tFile = path.join(truncated, "papers.sqlite");
    const gFile = path.join(overwritten, "papers.sqlite");
    truncateSync(tFile, 8192);
    const g = readFileSync(gFile);
    g.write("this is not a database at all", 0);
    writeFileSync(gFile, g);
    const [tHash, gHash] = [sha256(tFile), sha256(gFile)];
    const [search, index, stats] = await Promise.all([
      run(["search", "graphs", "--index", truncated]),
      run(["index", FIXTURE, "--index", truncated]),
      run(["stats", "--index", overwritten]),
    ]);
    for (const r of [search, index]) {
      expect(r.code).toBe(1);
      expect(lastLine(r.stderr)).toMatch(new RegExp(`^paperhound: paper store ${tFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is corrupt .*truncated.*backup`));
    }
    expect(stats.code).toBe(1);
    expect(stats.stderr).toMatch(/^paperhound: paper store .*garbage-store\/papers\.sqlite is corrupt or not a paperhound database \(not a SQLite database/);
    expect(sha256(tFile)).toBe(tHash);
    expect(sha256(gFile)).toBe(gHash);
  });
});

describe("command line wiring", () => {
  it("--help lists the search commands", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["search", "related", "index", "stats", "reindex"]) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
  });

  it("every error class the search commands raise is a known error (its message is shown as is)", () => {
    const fp = { modelId: "m", dim: 1, checksum: "c" };
    const errors = [
      new InputError("x"),
      new SearchInputError("x"),
      new PaperNotFoundError("x"),
      new StoreCorruptError("f", "d"),
      new StoreSchemaError("f", "x"),
      new ModelMismatchError(fp, fp, "d"),
      new IndexCorruptError("f", "r"),
      new VectorIndexError("x"),
      new PaperFileError("x", "f"),
      new ListingParseError("x"),
      new IndexUnusableError("x"),
    ];
    for (const e of errors) expect(isKnownError(e), e.name).toBe(true);
    expect(isKnownError(new RangeError("x"))).toBe(false);
  });
});

describe("formatting helpers", () => {
  it("shortens names and author lists", () => {
    expect(shortName("Alice Smith")).toBe("A. Smith");
    expect(shortName("Babak H. Khalaj")).toBe("B. H. Khalaj");
    expect(shortName("Jean-Pierre Dupont")).toBe("J.-P. Dupont");
    expect(shortName("Victor Hugo van der Berg")).toBe("V. H. van der Berg");
    expect(shortName("Plato")).toBe("Plato");
    expect(shortAuthors(["Alice Smith", "Bob Jones", "Carol Lee"])).toBe("A. Smith, B. Jones, C. Lee");
    expect(shortAuthors(["Alice Smith", "Bob Jones", "Carol Lee", "Dan Wu"])).toBe("A. Smith, B. Jones et al.");
    expect(shortAuthors([])).toBe("");
  });

  it("cuts abstracts to the first sentence or ~160 characters, and wraps without splitting words", () => {
    expect(abstractSnippet("We do this. Then that.")).toBe("We do this.");
    expect(abstractSnippet("Results improve by 3.5 points on e.g. GLUE. More text.")).toBe("Results improve by 3.5 points on e.g. GLUE.");
    const long = abstractSnippet("word ".repeat(100));
    expect(long.length).toBeLessThanOrEqual(160);
    expect(long.endsWith("…")).toBe(true);
    const lines = wrap("a ".repeat(100), "   ");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(wrap(`see ${"x".repeat(90)}`, "  ")).toEqual(["  see", `  ${"x".repeat(90)}`]);
  });

  it("parses k and dates strictly", () => {
    expect(parseK("10")).toBe(10);
    expect(parseK("1000")).toBe(1000);
    for (const bad of ["0", "-3", "1001", "abc", "1.5", ""]) expect(() => parseK(bad), bad).toThrow(/1 to 1000/);
    expect(parseDate("2024-02-29")).toBe("2024-02-29");
    expect(parseDate("2024-02")).toBe("2024-02");
    expect(parseDate("2024")).toBe("2024");
    for (const bad of ["2023-02-29", "2024-13-01", "2024-00-10", "2024-1-5", "yesterday", "24-01-01"]) expect(() => parseDate(bad), bad).toThrow(/2024-01-31/);
  });
});
