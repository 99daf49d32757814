import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { PaperFileError, loadPaperFile, readPaperFile, type PaperFileEntry } from "../../src/papers/sources/jsonl.js";
import { InvalidRecordError, normaliseDate, paperFromRecord, splitAuthors } from "../../src/papers/sources/paper-record.js";
import { isArxivId } from "../../src/papers/arxiv-id.js";
import { projectRoot } from "../../src/paths.js";

const fixtures = path.join(projectRoot, "test", "fixtures");
const fixture = (name: string) => path.join(fixtures, name);
const tmp = mkdtempSync(path.join(tmpdir(), "paperhound-jsonl-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, data: string | Buffer) => {
  const p = path.join(tmp, name);
  writeFileSync(p, data);
  return p;
};

async function collect(file: string, opts = {}): Promise<PaperFileEntry[]> {
  const out: PaperFileEntry[] = [];
  for await (const e of readPaperFile(file, opts)) out.push(e);
  return out;
}

describe("paperFromRecord", () => {
  it("reads the papers-140k record format", () => {
    const p = paperFromRecord({
      id: "2401.00631",
      title: "Edge AI",
      abstract: "Abstract.",
      authors: ["A B", "C D"],
      categories: ["cs.NI", "cs.AI"],
      primary_category: "cs.NI",
      date: "2024-01-01",
      source: "t41372/DayDayArXiv",
    });
    expect(p).toEqual({
      id: "2401.00631",
      title: "Edge AI",
      abstract: "Abstract.",
      authors: ["A B", "C D"],
      categories: ["cs.NI", "cs.AI"],
      published: "2024-01-01",
      links: { abs: "https://arxiv.org/abs/2401.00631", pdf: "https://arxiv.org/pdf/2401.00631" },
      source: "jsonl",
    });
  });

  it("author names with LaTeX accents and commands read as Unicode; text that is not LaTeX stays as it is", () => {
    const p = paperFromRecord({ id: "2401.00001", title: "T", abstract: "A", authors: "J{\\\"o}rg M{\\\"u}ller, Fran\\c{c}ois Z\\'enon and {\\O}ystein Ma{\\l}ecki" });
    expect(p.authors).toEqual(["Jörg Müller", "François Zénon", "Øystein Małecki"]);
    const q = paperFromRecord({ id: "2401.00002", title: "T", abstract: "A", authors: [{ name: "\\v{S}imon Bal\\'azs" }, "Broken {Brace", "Plain Name"] });
    expect(q.authors).toEqual(["Šimon Balázs", "Broken {Brace", "Plain Name"]);
  });

  it("namespaces non-arXiv ids", () => {
    const base = { title: "T", abstract: "A" };
    expect(paperFromRecord({ ...base, id: "4983", source: "scifact" }).id).toBe("scifact:4983");
    expect(paperFromRecord({ ...base, id: 4983 }).id).toBe("local:4983");
    expect(paperFromRecord({ ...base, id: "x1" }, { namespace: "mine" }).id).toBe("mine:x1");
    expect(paperFromRecord({ ...base, id: "x1", source: "some/repo" }).id).toBe("local:x1");
    expect(paperFromRecord({ ...base, id: "scifact:12" }).id).toBe("scifact:12");
    expect(paperFromRecord({ ...base, id: "doi:10.1000/ABC" }).id).toBe("doi:10.1000/abc");
    expect(paperFromRecord({ ...base, id: "https://openreview.net/forum?id=x" }).id).toBe("local:https://openreview.net/forum?id=x");
    expect(paperFromRecord({ ...base, arxiv_id: "arXiv:2401.00631v2", id: "other" })).toMatchObject({ id: "2401.00631", version: 2 });
    expect(paperFromRecord(base, { source: "mine" })).toMatchObject({ id: "local:t", source: "mine" });
  });

  it.each([
    [{ title: "T" }, /"abstract" is missing/],
    [{ abstract: "A" }, /"title" is missing/],
    [{ title: "  ", abstract: "A" }, /"title" is empty/],
    [{ title: 5, abstract: "A" }, /"title" must be a string, got a number/],
    [{ title: "T", abstract: "A", id: "2413.00001" }, /"id" "2413.00001": month 13 does not exist/],
    [{ title: "T", abstract: "A", arxiv_id: "nope" }, /"arxiv_id" "nope": not an arXiv id/],
    [{ title: "T", abstract: "A", id: 1.5 }, /"id" must be a string or an integer/],
    [{ title: "T", abstract: "A", authors: 3 }, /"authors" must be an array or a string/],
    [{ title: "T", abstract: "A", authors: ["x", { n: 1 }] }, /"authors\[1\]" must be a name/],
    [{ title: "T", abstract: "A", categories: [1] }, /"categories\[0\]" must be a string/],
    [{ title: "T", abstract: "A", date: "2024-02-30" }, /"date" "2024-02-30" is not a valid date/],
    [{ title: "T", abstract: "A", published: 20240101 }, /"published" must be a string/],
    [{ title: "T", abstract: "A", updated: "yesterday" }, /"updated" "yesterday" is not a valid date/],
    [{ title: "T", abstract: "A", url: "ftp://x" }, /"url" "ftp:\/\/x" is not an http\(s\) URL/],
    [{ title: "T", abstract: "A", links: "x" }, /"links" must be an object or an array/],
    [{ title: "T", abstract: "A", doi: "doi" }, /"doi" "doi" is not a DOI/],
    [{ title: "T", abstract: "A", doi: "10.1000/a nope" }, /"doi" "10.1000\/a nope" is not a DOI/],
    [{ title: "T", abstract: "A", version: "v0" }, /"version" "v0" is not a version/],
    [{ title: "T", abstract: "A", upvotes: -1 }, /"upvotes" must be a non-negative integer/],
    [{ title: "T", abstract: "A", comment: {} }, /"comment" must be a string, got an object/],
  ])("rejects %j", (record, message) => {
    expect(() => paperFromRecord(record)).toThrow(InvalidRecordError);
    expect(() => paperFromRecord(record)).toThrow(message);
  });

  it("keeps the first of several space-separated DOIs", () => {
    expect(paperFromRecord({ title: "T", abstract: "A", doi: "10.1364/JOSAA.23.002578 10.1364/JOSAA.32.002407" }).doi).toBe(
      "10.1364/JOSAA.23.002578",
    );
    expect(paperFromRecord({ title: "T", abstract: "A", doi: "doi:10.1000/x" }).doi).toBe("10.1000/x");
  });

  it("rejects values that are not objects", () => {
    expect(() => paperFromRecord([1])).toThrow(/must be a JSON object, got an array/);
    expect(() => paperFromRecord(null)).toThrow(/got null/);
    expect(() => paperFromRecord("x")).toThrow(/got a string/);
  });
});

describe("normaliseDate and splitAuthors", () => {
  it.each([
    ["2024-01-01", "2024-01-01"],
    ["2024-02-29", "2024-02-29"],
    ["2024-01-01T18:59:59Z", "2024-01-01"],
    ["2024-01-01T18:59:59.123Z", "2024-01-01"],
    ["2024-01-01T23:30:00-05:00", "2024-01-02"],
    ["2024-01-01T01:30:00+0200", "2023-12-31"],
    ["2024-01-01 10:00:00", "2024-01-01"],
    ["2024-01-01T10:00", "2024-01-01"],
    ["Mon, 2 Apr 2007 19:18:42 GMT", "2007-04-02"],
    ["2 Apr 2007", "2007-04-02"],
    ["Tue, 31 Dec 2024 23:00:00 -0500", "2025-01-01"],
  ])("%s → %s", (input, expected) => {
    expect(normaliseDate(input)).toBe(expected);
  });

  it.each(["", "2023-02-29", "2024-13-01", "2024-00-10", "2024-1-1", "01/02/2024", "2024-01-01T25:00:00Z", "30 Feb 2024", "2 Foo 2007", "soon"])(
    "rejects %j",
    (input) => {
      expect(normaliseDate(input)).toBeUndefined();
    },
  );

  it("splits author strings", () => {
    expect(splitAuthors("A. One, B. Two and C. Three")).toEqual(["A. One", "B. Two", "C. Three"]);
    expect(splitAuthors("A. One, B. Two, and C. Three")).toEqual(["A. One", "B. Two", "C. Three"]);
    expect(splitAuthors("Ada Lovelace & Charles  Babbage")).toEqual(["Ada Lovelace", "Charles Babbage"]);
    expect(splitAuthors("Lovelace, Ada; Babbage, Charles")).toEqual(["Lovelace, Ada", "Babbage, Charles"]);
    expect(splitAuthors("Martin L. King, Jr., Rosa Parks")).toEqual(["Martin L. King, Jr.", "Rosa Parks"]);
    expect(splitAuthors("Alexander Anderson, Sandy Brandt et al.")).toEqual(["Alexander Anderson", "Sandy Brandt"]);
    expect(splitAuthors("")).toEqual([]);
  });
});

describe("readPaperFile on JSON Lines", () => {
  it("reads every variant in papers-small.jsonl", async () => {
    const { papers, errors } = await loadPaperFile(fixture("papers-small.jsonl"));
    expect(errors).toEqual([]);
    expect(papers.map((p) => p.id)).toEqual([
      "2401.00631",
      "hep-th/9901001",
      "scifact:4983",
      "doi:10.1000/xyz.123",
      "local:a-title-continued",
      "0704.0001",
      "2402.01234",
    ]);
    const [edge, old, scifact, journal, noId, kaggle, versions] = papers as [typeof papers[0], ...typeof papers];
    expect(edge).toMatchObject({ version: 3, categories: ["cs.AI", "cs.NI", "eess.SP"], published: "2024-01-01", source: "jsonl" });
    expect(old).toEqual({
      id: "hep-th/9901001",
      version: 2,
      title: "An Old-Style Paper",
      abstract: "We study strings.",
      authors: ["A. One", "B. Two", "C. Three"],
      categories: ["hep-th", "gr-qc"],
      published: "2001-03-05",
      updated: "2002-01-01",
      links: { abs: "http://arxiv.org/abs/hep-th/9901001v2", pdf: "https://arxiv.org/pdf/hep-th/9901001" },
      source: "jsonl",
    });
    expect(scifact).toMatchObject({ title: "A Claim About Cells", authors: [], categories: [], links: {} });
    expect(scifact!.published).toBeUndefined();
    expect(journal).toMatchObject({
      doi: "10.1000/XYZ.123",
      comment: "12 pages",
      trending: { upvotes: 12 },
      links: { code: "https://github.com/example/repo", project: "https://example.org/project" },
    });
    expect(noId).toMatchObject({ title: "A Title Continued", authors: ["Ada Lovelace", "Charles Babbage"], categories: [] });
    expect(kaggle).toMatchObject({
      version: 2,
      title: "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
      // The Kaggle snapshot writes "C. Bal\\'azs": LaTeX accents become Unicode.
      authors: ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"],
      categories: ["hep-ph"],
      published: "2007-04-02",
      updated: "2008-11-13",
      doi: "10.1103/PhysRevD.76.013009",
      comment: "37 pages, 15 figures; published version",
    });
    expect(kaggle!.abstract.startsWith("A fully differential")).toBe(true);
    expect(kaggle!.abstract.endsWith("colliders.")).toBe(true);
    expect(versions).toMatchObject({
      version: 3,
      links: { abs: "https://arxiv.org/abs/2402.01234", pdf: "https://arxiv.org/pdf/2402.01234v3", code: "https://gitlab.com/x/y" },
    });
  });

  it("reports bad lines by line number and keeps every good one", async () => {
    const entries = await collect(fixture("papers-bad-lines.jsonl"));
    expect(entries.filter((e) => e.paper).map((e) => [e.line, e.paper!.title])).toEqual([
      [1, "Good One"],
      [3, "Good Two"],
      [12, "Good Three, no newline at the end"],
    ]);
    const errors = entries.filter((e) => e.error).map((e) => e.error!);
    expect(errors.map((e) => e.line)).toEqual([2, 4, 6, 7, 8, 9, 10, 11]);
    expect(entries.filter((e) => e.error).every((e) => e.line === e.error!.line)).toBe(true);
    const msg = (line: number) => errors.find((e) => e.line === line)!.message;
    expect(msg(2)).toMatch(/^not valid JSON/);
    expect(msg(4)).toBe('"abstract" is missing');
    expect(msg(6)).toBe('"title" must be a string, got a number');
    expect(msg(7)).toMatch(/"date" "2024-02-30" is not a valid date/);
    expect(msg(8)).toBe("a record must be a JSON object, got an array");
    expect(msg(9)).toMatch(/month 13 does not exist in 2413.00001/);
    expect(msg(10)).toMatch(/"authors\[0\]" must be a name/);
    expect(msg(11)).toMatch(/"url" "not a url" is not an http\(s\) URL/);
    // entries come in file order
    expect(entries.map((e) => e.line)).toEqual([...entries.map((e) => e.line)].sort((a, b) => a - b));
  });

  it("detects gzip by magic bytes, not by name", async () => {
    const text = readFileSync(fixture("papers-small.jsonl"));
    const plain = await loadPaperFile(fixture("papers-small.jsonl"));
    for (const name of ["copy.jsonl.gz", "gzipped-but-named.jsonl", "no-extension"]) {
      const got = await loadPaperFile(write(name, gzipSync(text)));
      expect(got).toEqual(plain);
    }
    // named .gz but not gzipped
    expect(await loadPaperFile(write("plain.jsonl.gz", text))).toEqual(plain);
  });

  it("handles CRLF line ends, a BOM and multi-byte text across chunk boundaries", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(JSON.stringify({ id: `x${i}`, title: `Ünïcødé 論文 ${i} 🧪`, abstract: `Ω≈ç√∫ ${"é".repeat(i % 50)} 🙂` }));
    }
    const file = write("unicode.jsonl", "\uFEFF" + lines.join("\r\n") + "\r\n");
    expect(readFileSync(file).length).toBeGreaterThan(3 * 65536);
    const { papers, errors } = await loadPaperFile(file);
    expect(errors).toEqual([]);
    expect(papers).toHaveLength(3000);
    papers.forEach((p, i) => {
      expect(p.id).toBe(`local:x${i}`);
      expect(p.title).toBe(`Ünïcødé 論文 ${i} 🧪`);
      expect(p.abstract).toBe(`Ω≈ç√∫ ${"é".repeat(i % 50)} 🙂`);
    });
  });

  it("stopping early is fine", async () => {
    let n = 0;
    for await (const e of readPaperFile(fixture("papers-small.jsonl"))) {
      expect(e.paper).toBeDefined();
      if (++n === 2) break;
    }
    expect(n).toBe(2);
  });
});

describe("readPaperFile on JSON documents", () => {
  it("reads a pretty-printed array, with element line numbers in errors", async () => {
    const entries = await collect(fixture("papers-small.json"));
    expect(entries.map((e) => e.line)).toEqual([2, 8, 13]);
    expect(entries[0]!.paper).toMatchObject({
      id: "2401.00631",
      title: "First",
      abstract: 'An abstract with "quotes", [brackets], {braces} and a comma, inside.',
      categories: ["cs.LG"],
    });
    expect(entries[1]!.error).toEqual({ line: 8, message: '"title" must be a string, got an array' });
    expect(entries[2]!.paper).toMatchObject({ id: "local:local-7", title: "Third ]}", abstract: 'Escapes: \\" é \n done.' });
  });

  it('reads {"papers": [...]} and ignores other keys', async () => {
    const { papers, errors } = await loadPaperFile(fixture("papers-wrapped.json"));
    expect(errors).toEqual([]);
    expect(papers.map((p) => p.title)).toEqual(["Wrapped", "Wrapped Two"]);
  });

  it("reads one-line documents, gzipped ones, and .json files that are really JSON Lines", async () => {
    const recs = [
      { id: "2401.00631", title: "A", abstract: "a" },
      { id: "2401.00632", title: "B", abstract: "b" },
    ];
    const want = ["A", "B"];
    const titles = async (file: string) => (await loadPaperFile(file)).papers.map((p) => p.title);
    expect(await titles(write("one-line.json", JSON.stringify(recs)))).toEqual(want);
    expect(await titles(write("one-line-wrapped.json", JSON.stringify({ papers: recs })))).toEqual(want);
    expect(await titles(write("wrapped.json.gz", gzipSync(JSON.stringify({ papers: recs }, null, 2))))).toEqual(want);
    expect(await titles(write("kaggle-style.json", recs.map((r) => JSON.stringify(r)).join("\n")))).toEqual(want);
    expect(await titles(write("array.data", JSON.stringify(recs, null, 1)))).toEqual(want);
    expect(await titles(write("lines.data", recs.map((r) => JSON.stringify(r)).join("\n")))).toEqual(want);
    expect((await loadPaperFile(write("forced.txt", JSON.stringify({ papers: recs })), { format: "json" })).papers).toHaveLength(2);
    // forced JSON Lines: the one-line wrapper is one record without a title
    expect((await loadPaperFile(write("forced2.txt", JSON.stringify({ papers: recs })), { format: "jsonl" })).errors).toEqual([
      { line: 1, message: '"title" is missing' },
    ]);
    expect((await loadPaperFile(write("empty-array.json", "[ ]"))).papers).toEqual([]);
  });

  it("a large array split across many chunks gives the same records as JSON.parse", async () => {
    const recs = Array.from({ length: 2500 }, (_, i) => ({
      id: `k${i}`,
      title: `T ${i} "q" ] } , [ {`,
      abstract: `line\nbreak \\ back\tslash ${"ü".repeat(i % 37)} 🧪 ${i}`,
      authors: [`A ${i}`, { name: `B ${i}` }],
      extra: { nested: [[{ deep: "]" }]], s: "}" },
    }));
    const file = write("big.json", JSON.stringify({ meta: { papers: 0 }, papers: recs }, null, 1));
    expect(readFileSync(file).length).toBeGreaterThan(4 * 65536);
    const { papers, errors } = await loadPaperFile(file);
    expect(errors).toEqual([]);
    expect(papers.map((p) => [p.id, p.title, p.abstract, p.authors])).toEqual(
      recs.map((r) => [`local:${r.id}`, r.title, r.abstract.trim(), [`A ${r.id.slice(1)}`, `B ${r.id.slice(1)}`]]),
    );
  });

  it("a cut-off array yields the records before the cut, then errors", async () => {
    const file = write("cut.json", '[\n{"id": "2401.00631", "title": "A", "abstract": "a"},\n{"id": "2401.00632", "title": "B", "abst');
    const entries = await collect(file);
    expect(entries[0]!.paper?.title).toBe("A");
    expect(entries[1]!.error).toEqual({ line: 3, message: "record cut off: the file ends inside it" });
    expect(entries[2]!.error?.message).toMatch(/ends before the array is closed/);
    expect(entries).toHaveLength(3);
  });

  it("a JSON object without papers, or a non-JSON document, is a PaperFileError", async () => {
    await expect(collect(write("no-papers.json", '{\n "items": []\n}'))).rejects.toThrow(/without a "papers" array/);
    await expect(collect(write("papers-not-array.json", '{\n "papers": {}\n}'))).rejects.toThrow(/"papers" must be an array/);
    await expect(collect(write("text.json", "hello"))).rejects.toThrow(/expected a JSON array or object/);
  });
});

describe("file errors", () => {
  it("a missing file names the file", async () => {
    const missing = path.join(tmp, "nope.jsonl");
    await expect(collect(missing)).rejects.toThrow(PaperFileError);
    await expect(collect(missing)).rejects.toThrow(`cannot read ${missing}: no such file`);
  });

  it("an empty file, a blank one, and an empty gzip are errors naming the file", async () => {
    for (const [name, data] of [
      ["empty.jsonl", ""],
      ["empty.json", ""],
      ["blank.jsonl", "\n \n\n"],
      ["blank.json", "  \n"],
      ["empty.gz", gzipSync("")],
    ] as const) {
      const file = write(name, data);
      await expect(collect(file)).rejects.toThrow(PaperFileError);
      await expect(collect(file)).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is empty`));
    }
  });

  it("a directory is an error", async () => {
    const dir = path.join(tmp, "a-dir.jsonl");
    mkdirSync(dir, { recursive: true });
    await expect(collect(dir)).rejects.toThrow(/it is a directory/);
  });

  it("corrupt or cut gzip data is an error naming the file", async () => {
    const gz = gzipSync(readFileSync(fixture("papers-small.jsonl")));
    const cut = write("cut.jsonl.gz", gz.subarray(0, gz.length - 20));
    await expect(collect(cut)).rejects.toThrow(PaperFileError);
    await expect(collect(cut)).rejects.toThrow(/cut\.jsonl\.gz: the gzip file is cut short/);
    const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from("not really gzip at all")]);
    await expect(collect(write("garbage.gz", garbage))).rejects.toThrow(/the gzip header is damaged/);
  });
});

const real = path.join(projectRoot, "..", "shared", "data", "arxiv", "papers-140k.jsonl.gz");
describe("the real arXiv dump", () => {
  it.skipIf(!existsSync(real))(
    `first 1,000 records of ../shared/data/arxiv/papers-140k.jsonl.gz parse cleanly (skipped: file absent)`,
    async () => {
      const papers = [];
      for await (const e of readPaperFile(real)) {
        expect(e.error).toBeUndefined();
        papers.push(e.paper!);
        if (papers.length === 1000) break;
      }
      expect(papers).toHaveLength(1000);
      expect(papers[0]!.id).toBe("2401.00631");
      expect(papers[0]!.title).toBe("Edge AI as a Service with Coordinated Deep Neural Networks");
      for (const p of papers) {
        expect(p.id).toMatch(/^\d{4}\.\d{5}$/);
        expect(p.published).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(p.categories.length).toBeGreaterThan(0);
        expect(p.authors.length).toBeGreaterThan(0);
        expect(p.links.abs).toBe(`https://arxiv.org/abs/${p.id}`);
      }
    },
  );
});

const kaggle = path.join(projectRoot, "..", "shared", "data", "fixtures", "kaggle-arxiv", "arxiv-metadata-oai-snapshot.sample.jsonl");
describe("the Kaggle arXiv snapshot format", () => {
  it.skipIf(!existsSync(kaggle))("all 200 sample records parse (skipped: ../shared absent)", async () => {
    const { papers, errors } = await loadPaperFile(kaggle);
    expect(errors).toEqual([]);
    expect(papers).toHaveLength(200);
    expect(papers[0]).toMatchObject({ id: "0704.0001", version: 2, published: "2007-04-02", categories: ["hep-ph"] });
    for (const p of papers) {
      expect(isArxivId(p.id)).toBe(true);
      expect(p.title).not.toMatch(/\s{2}|\n/);
      expect(p.authors.length).toBeGreaterThan(0);
    }
  });
});
