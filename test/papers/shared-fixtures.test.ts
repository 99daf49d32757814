/**
 * Every recorded response in ../shared/data/fixtures, through the real parsers. The folder is not
 * part of the repository (it sits beside it); without it this suite is skipped with a message.
 * A file there that no test below covers fails the last test, so new recordings get checked too.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isArxivId } from "../../src/papers/arxiv-id.js";
import { ArxivApiError, missingArxivIds, parseArxivAtom, type ArxivAtomFeed } from "../../src/papers/sources/arxiv-atom.js";
import { parseArxivRss } from "../../src/papers/sources/arxiv-rss.js";
import { detectFileFormat, readPapersFromFile, type SourceFileEntry } from "../../src/papers/sources/detect-format.js";
import { readHfDailyArchive, readHfDailyFile } from "../../src/papers/sources/hf-daily.js";
import { loadPaperFile } from "../../src/papers/sources/jsonl.js";
import { readOaiPmhFile, type OaiItem, type OaiRecord } from "../../src/papers/sources/oai-pmh.js";
import { SourceFormatError } from "../../src/papers/sources/source-common.js";
import { projectRoot } from "../../src/paths.js";

const FIXTURES = path.resolve(projectRoot, "..", "shared", "data", "fixtures");
const present = existsSync(FIXTURES);
if (!present) console.warn(`shared-fixtures.test.ts: skipped: ${FIXTURES} is absent (../shared beside the repository holds the recorded responses)`);

const at = (...p: string[]) => path.join(FIXTURES, ...p);
/** Files the tests below have parsed (relative to FIXTURES). */
const covered = new Set<string>();
const use = (...p: string[]) => {
  covered.add(path.join(...p));
  return at(...p);
};
/** Not responses: descriptions of the recordings and licences. */
const NOT_DATA = /(?:^|\/)(?:INDEX\.tsv|LICENSE[^/]*|README[^/]*)$/;

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = path.join(prefix, name);
    return statSync(path.join(dir, name)).isDirectory() ? listFiles(path.join(dir, name), rel) : [rel];
  });
}

async function collect(file: string): Promise<SourceFileEntry[]> {
  const out: SourceFileEntry[] = [];
  for await (const e of readPapersFromFile(file)) out.push(e);
  return out;
}

/** INDEX.tsv: file → request URL (and HTTP status when recorded). */
function readIndex(dir: string): Map<string, { url: string; status?: number }> {
  const rows = readFileSync(at(dir, "INDEX.tsv"), "utf8").trim().split("\n");
  const out = new Map<string, { url: string; status?: number }>();
  const header = rows[0]!.split("\t");
  for (const row of header[0] === "file" ? rows.slice(1) : rows) {
    const cols = row.split("\t");
    if (header[0] === "file") out.set(cols[0]!, { status: Number(cols[1]), url: cols[2]! });
    else out.set(cols[0]!, { url: cols[1]! });
  }
  return out;
}

describe.skipIf(!present)(`shared fixtures (${present ? FIXTURES : "skipped: ../shared/data/fixtures is absent"})`, () => {
  describe("arXiv API, recorded 2026", () => {
    const dir = path.join("arxiv-api", "recorded-2026");
    const index = present ? readIndex(dir) : new Map();
    const feeds = new Map<string, ArxivAtomFeed>();
    const parse = (file: string) => {
      if (!feeds.has(file)) feeds.set(file, parseArxivAtom(readFileSync(use(dir, file), "utf8"), { file }));
      return feeds.get(file)!;
    };

    it("INDEX.tsv lists every response file", () => {
      const xml = readdirSync(at(dir)).filter((f) => f.endsWith(".xml"));
      expect([...index.keys()].sort()).toEqual(xml.sort());
      expect(xml).toHaveLength(20);
      covered.add(path.join(dir, "INDEX.tsv"));
    });

    it("every 200 response matches its request: paging figures, entry count, missing id_list ids", () => {
      let checked = 0;
      for (const [file, { url, status }] of index) {
        if (status !== 200) continue;
        const q = new URL(url).searchParams;
        const feed = parse(file);
        const start = Number(q.get("start"));
        const max = Number(q.get("max_results"));
        expect(feed.dialect, file).toBe("current");
        expect(feed.errors, file).toEqual([]);
        expect(feed.startIndex, file).toBe(start);
        expect(feed.itemsPerPage, file).toBe(max);
        expect(feed.entries.length, file).toBe(Math.max(0, Math.min(max, feed.totalResults! - start)));
        for (const e of feed.entries) {
          expect(isArxivId(e.paper.id), `${file} ${e.paper.id}`).toBe(true);
          expect(e.paper.title.length, file).toBeGreaterThan(0);
          expect(e.paper.categories.length, file).toBeGreaterThan(0);
          expect(e.paper.published, file).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        }
        const idList = q.get("id_list");
        if (idList) {
          const requested = idList.split(",");
          const missing = missingArxivIds(requested, feed);
          // What arXiv left out is exactly what the count says it left out.
          expect(requested.length - missing.length, file).toBe(feed.entries.length);
        }
        checked++;
      }
      expect(checked).toBe(19);
    });

    it("reports the ids arXiv silently dropped", () => {
      expect(missingArxivIds(["0000.0000"], parse("id_0000.0000_s0_m100_8b51d9633a68.xml"))).toEqual(["0000.0000"]);
      expect(missingArxivIds(["0808.05394"], parse("id_0808.05394_s0_m100_7b0c7d0a7cdd.xml"))).toEqual(["0808.05394"]);
      expect(missingArxivIds(["0808.05394", "1707.08567"], parse("id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.xml"))).toEqual(["0808.05394"]);
      expect(missingArxivIds(["2104.12255v1"], parse("id_2104.12255v1_s0_m100_6ae69987ffe1.xml"))).toEqual([]);
    });

    it("reads known papers faithfully", () => {
      const heat = parse("id_1605.08386_s0_m100_199195aa31ad.xml").entries[0]!.paper;
      expect(heat).toMatchObject({
        id: "1605.08386",
        version: 1,
        title: "Heat-bath random walks with Markov bases",
        authors: ["Caprice Stanley", "Tobias Windisch"],
        categories: ["math.CO", "math.ST"],
        published: "2016-05-26",
        comment: "20 pages, 3 figures",
      });
      const zero = parse("id_2104.12255v1_s0_m100_6ae69987ffe1.xml").entries[0]!.paper;
      expect(zero.title).toBe("0");
      const old = parse("id_astro-ph_0601001_s0_m100_3150dca9dc76.xml").entries[0]!;
      expect(old.paper.id).toBe("astro-ph/0601001");
      expect(old.paper.abstract).toMatch(/^We derive the frequencies of hot Jupiters .* Gould & Morgan \(2003\) .* V_max<17\.5\./);
      expect(old.journalRef).toBe("ActaAstron.56:1-50,2006");
      expect(old.affiliations?.[2]).toEqual(["CfA"]);
      const qc = parse("id_quant-ph_0201082v1_s0_m100_86989fe779ef.xml").entries[0]!.paper;
      expect([qc.id, qc.version, qc.categories]).toEqual(["quant-ph/0201082", 1, ["quant-ph", "cs.PL"]]);
      expect(parse("id_1707.08567_s0_m100_6a1afebfc6a3.xml").entries[0]!.paper.authors).toHaveLength(34);
    });

    it("pages of the same query are slices of the 100-result page", () => {
      const all = parse("q_testing_s0_m100_cfe7536492ca.xml").entries.map((e) => e.paper.id);
      expect(new Set(all).size).toBe(100);
      expect(parse("q_testing_s0_m100_cfe7536492ca.xml").totalResults).toBe(214881);
      for (const file of index.keys()) {
        const m = /^q_testing_s(\d+)_m\d+_/.exec(file);
        if (!m) continue;
        const ids = parse(file).entries.map((e) => e.paper.id);
        expect(ids, file).toEqual(all.slice(Number(m[1]), Number(m[1]) + ids.length));
      }
    });

    it("the HTTP 400 error feed raises ArxivApiError, never a paper", async () => {
      const file = "id_abc_s0_m100_b79c8dcf6bc3.xml";
      expect(index.get(file)?.status).toBe(400);
      expect(() => parseArxivAtom(readFileSync(use(dir, file), "utf8"))).toThrow(new ArxivApiError("incorrect id format for abc", "https://arxiv.org/api/errors#incorrect_id_format_for_abc"));
      await expect(collect(at(dir, file))).rejects.toThrow(/arXiv API error: incorrect id format for abc/);
    });
  });

  describe("arXiv API, recorded 2025", () => {
    const dir = path.join("arxiv-api", "recorded-2025");

    it("a search page, an empty result, and an id_list where ids were dropped", () => {
      const query = parseArxivAtom(readFileSync(use(dir, "query.xml"), "utf8"));
      expect([query.totalResults, query.startIndex, query.itemsPerPage, query.entries.length]).toEqual([7432, 0, 10, 10]);
      expect(query.entries[0]!.paper).toMatchObject({ id: "nucl-ex/0408020", version: 1, categories: ["nucl-ex", "hep-ph"], published: "2004-08-18", updated: "2005-09-17" });

      const empty = parseArxivAtom(readFileSync(use(dir, "query_empty.xml"), "utf8"));
      expect(empty.entries).toEqual([]);
      expect(missingArxivIds(["1201.56789"], empty)).toEqual(["1201.56789"]);

      const dropped = parseArxivAtom(readFileSync(use(dir, "query_missing_id.xml"), "utf8"));
      expect(dropped.entries.map((e) => e.paper.id)).toEqual(["2201.13452"]);
      expect(missingArxivIds(["2201.13455", "2201.13452", "2201.13453", "2201.13454"], dropped)).toEqual(["2201.13455", "2201.13453", "2201.13454"]);
      // This recording has bare <link href> elements: the links come out canonical all the same.
      expect(dropped.entries[0]!.paper.links).toEqual({ abs: "https://arxiv.org/abs/2201.13452", pdf: "https://arxiv.org/pdf/2201.13452" });
    });
  });

  describe("arXiv API, legacy 2016 format", () => {
    const dir = path.join("arxiv-api", "legacy-2016");

    it("reads all five responses with their inline opensearch figures", () => {
      const index = readIndex(dir);
      covered.add(path.join(dir, "INDEX.tsv"));
      const expected: Record<string, [number, number]> = {
        "legacy-1.xml": [1, 1],
        "legacy-2.xml": [2, 2],
        "legacy-3.xml": [1, 1],
        "legacy-4.xml": [24, 10],
        "legacy-5.xml": [31, 10],
      };
      expect([...index.keys()].sort()).toEqual(Object.keys(expected));
      for (const [file, [total, count]] of Object.entries(expected)) {
        const feed = parseArxivAtom(readFileSync(use(dir, file), "utf8"), { file });
        expect(feed.dialect, file).toBe("legacy");
        expect([feed.totalResults, feed.entries.length, feed.errors.length], file).toEqual([total, count, 0]);
        for (const e of feed.entries) expect(e.paper.authors.some((a) => /Del Maestro/.test(a)), `${file} ${e.paper.id}`).toBe(true);
      }
    });

    it("reads the id_list=1111.2011v2 response in full", () => {
      const e = parseArxivAtom(readFileSync(use(dir, "legacy-1.xml"), "utf8")).entries[0]!;
      expect(e.paper).toMatchObject({
        id: "1111.2011",
        version: 2,
        title: "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit",
        authors: ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"],
        categories: ["cond-mat.str-el", "cond-mat.stat-mech"],
        published: "2011-11-08",
        updated: "2012-04-02",
        doi: "10.1103/PhysRevB.85.115117",
        comment: "8 pages, 3 figures. Published version",
      });
      expect(e.paper.abstract).not.toMatch(/\n|  /);
      expect(e.journalRef).toBe("Phys. Rev. B 85, 115117 (2012)");
    });
  });

  describe("arXiv RSS", () => {
    it("reads the four items with their announce types and real abstracts", async () => {
      const file = use("arxiv-rss", "arxiv_rss.xml");
      const feed = parseArxivRss(readFileSync(file, "utf8"));
      expect(feed.errors).toEqual([]);
      expect(feed.items.map((i) => [i.paper.id, i.paper.version, i.announceType])).toEqual([
        ["2609.26811", 1, "new"],
        ["2609.26820", 1, "new"],
        ["2205.06398", 2, "cross"],
        ["2009.13987", 3, "replace"],
      ]);
      expect(feed.items[1]!.paper.authors).toEqual(["Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan"]);
      expect(feed.items[2]!.paper.categories).toEqual(["stat.ME", "stat.AP", "stat.ML"]);
      expect(feed.items[2]!.paper.doi).toBe("10.1093/bioinformatics/btac431");
      expect(feed.items[3]!.paper.abstract).toMatch(/^We introduce a class of random polytopes/);
      for (const i of feed.items) expect(i.paper.abstract).not.toMatch(/Announce Type|^arXiv:/);
      expect((await collect(file)).map((e) => (e.paper ? e.announceType : "error"))).toEqual(["new", "new", "cross", "replace"]);
    });
  });

  describe("OAI-PMH", () => {
    it("streams the 897 oai_dc records with ids, titles, categories and dates", async () => {
      const file = use("arxiv-oai-pmh", "listrecords-oai_dc-2014-12-24.xml");
      const items: OaiItem[] = [];
      for await (const it of readOaiPmhFile(file)) items.push(it);
      const records = items.filter((i): i is OaiRecord => i.kind === "record");
      const end = items[items.length - 1]!;
      expect(records).toHaveLength(897);
      expect(end).toMatchObject({ kind: "end", records: 897, deleted: 0, invalid: 0, noRecordsMatch: false });
      expect(end.kind === "end" && end.request).toMatchObject({ verb: "ListRecords", metadataPrefix: "oai_dc", from: "2014-12-24", until: "2014-12-25" });
      for (const r of records) {
        expect(isArxivId(r.paper.id), r.header.identifier).toBe(true);
        expect(r.paper.title.length, r.paper.id).toBeGreaterThan(0);
        expect(r.paper.abstract.length, r.paper.id).toBeGreaterThan(0);
        expect(r.paper.categories.length, r.paper.id).toBeGreaterThan(0);
        expect(r.paper.published, r.paper.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
      expect(records[0]!.paper).toMatchObject({
        id: "0709.2184",
        title: "Irrationality measure and lower bounds for pi(x)",
        authors: ["David Burt", "Sam Donow", "Steven J. Miller", "Matthew Schiffman", "Ben Wieland"],
        categories: ["math.NT"],
        published: "2007-09-13",
        updated: "2014-12-22",
      });
      const last = records[records.length - 1]!;
      expect(last.paper).toMatchObject({ id: "math/0208210", doi: "10.4236/jamp.2014.213134" });
      expect(last.journalRef).toBe("Journal of Applied Mathematics and Physics, 2 (2014) 1149-1152");
      expect(records.filter((r) => r.paper.categories.includes("cs.LG"))).toHaveLength(14);
    });
  });

  describe("Hugging Face daily papers", () => {
    it("reads the four raw days, each paper featured on its file's day", async () => {
      const counts: Record<string, number> = { "2026-08-18.json": 29, "2026-08-19.json": 26, "2026-08-20.json": 15, "2026-08-21.json": 17 };
      expect(readdirSync(at("hf-daily-papers", "raw")).sort()).toEqual(Object.keys(counts));
      for (const [name, n] of Object.entries(counts)) {
        const papers = await readHfDailyFile(use("hf-daily-papers", "raw", name));
        expect(papers, name).toHaveLength(n);
        for (const p of papers) {
          expect(isArxivId(p.id), p.id).toBe(true);
          expect(p.trending?.featuredOn, p.id).toBe(name.slice(0, 10));
          expect(p.trending?.upvotes, p.id).toBeGreaterThanOrEqual(0);
        }
      }
      const first = (await readHfDailyFile(at("hf-daily-papers", "raw", "2026-08-18.json")))[0]!;
      expect(first).toMatchObject({
        id: "2608.15265",
        title: "VibeWorlding: Can Multimodal Agents Construct 3D Open Worlds End-to-End?",
        published: "2026-08-15",
        links: { code: "https://github.com/usail-hkust/VibeWorlding-Gym", project: "https://huggingface.co/collections/usail-hkust/vibeworlder" },
        trending: { upvotes: 39, comments: 1, githubStars: 24, featuredOn: "2026-08-18" },
      });
      expect(first.trending?.keywords?.slice(0, 2)).toEqual(["multimodal agents", "3D world generation"]);
    });

    it("rejects each malformed day with an error naming the file, and returns nothing of it", async () => {
      const names = readdirSync(at("hf-daily-papers", "malformed")).sort();
      expect(names).toEqual(["2024-12-11.json", "2024-12-12.json"]);
      for (const name of names) {
        const file = use("hf-daily-papers", "malformed", name);
        const err = await readHfDailyFile(file).catch((e: unknown) => e);
        expect(err, name).toBeInstanceOf(SourceFormatError);
        expect((err as Error).message, name).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: day ${name.slice(0, 10)}: item 1 of \\d+ is a string holding a Python dict`));
        const entries: SourceFileEntry[] = [];
        await expect(
          (async () => {
            for await (const e of readPapersFromFile(file)) entries.push(e);
          })(),
        ).rejects.toThrow(file);
        expect(entries).toEqual([]);
      }
    });

    it("streams the 558-day archive: 9,581 papers, 9,577 distinct, no bad day", async () => {
      const file = use("hf-daily-papers", "daily-papers-2024-05_2026-08.jsonl.gz");
      expect(await detectFileFormat(file)).toBe("hf-daily-archive");
      let days = 0;
      let papers = 0;
      const ids = new Set<string>();
      const dates: string[] = [];
      for await (const day of readHfDailyArchive(file)) {
        expect(day.error?.message).toBeUndefined();
        days++;
        dates.push(day.date!);
        for (const p of day.papers!) {
          papers++;
          ids.add(p.id);
          expect(p.trending?.featuredOn).toBeDefined();
        }
      }
      expect([days, papers, ids.size]).toEqual([558, 9581, 9577]);
      expect(dates[0]).toBe("2024-05-27");
      expect(new Set(dates).size).toBe(558);
    });
  });

  describe("Kaggle arXiv snapshot", () => {
    it("parses all 200 lines with jsonl.ts", async () => {
      const file = use("kaggle-arxiv", "arxiv-metadata-oai-snapshot.sample.jsonl");
      const { papers, errors } = await loadPaperFile(file);
      expect(errors).toEqual([]);
      expect(papers).toHaveLength(200);
      expect(papers[0]).toMatchObject({ id: "0704.0001", version: 2, published: "2007-04-02", categories: ["hep-ph"], doi: "10.1103/PhysRevD.76.013009" });
      for (const p of papers) expect(isArxivId(p.id), p.id).toBe(true);
      expect(await detectFileFormat(file)).toBe("jsonl");
    });
  });

  it("every data file is recognised by detect-format and read through readPapersFromFile", async () => {
    const expected: Array<[RegExp, string]> = [
      [/^arxiv-api\//, "arxiv-atom"],
      [/^arxiv-rss\//, "arxiv-rss"],
      [/^arxiv-oai-pmh\//, "oai-pmh"],
      [/^hf-daily-papers\/(?:raw|malformed)\//, "hf-daily"],
      [/^hf-daily-papers\/.*\.jsonl\.gz$/, "hf-daily-archive"],
      [/^kaggle-arxiv\//, "jsonl"],
    ];
    for (const rel of listFiles(FIXTURES).filter((f) => !NOT_DATA.test(f))) {
      const want = expected.find(([re]) => re.test(rel))?.[1];
      expect(want, `${rel}: no expectation for this fixture`).toBeDefined();
      expect(await detectFileFormat(at(rel)), rel).toBe(want);
    }
  });

  it("no fixture file is left unchecked", () => {
    const unchecked = listFiles(FIXTURES).filter((f) => !covered.has(f) && !/(?:^|\/)LICENSE[^/]*$/.test(f));
    expect(unchecked).toEqual([]);
  });
});
