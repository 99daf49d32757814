import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { parseHfDaily, readHfDailyArchive, readHfDailyFile, type HfDailyArchiveEntry } from "../../src/papers/sources/hf-daily.js";
import { PaperFileError } from "../../src/papers/sources/jsonl.js";
import { SourceFormatError } from "../../src/papers/sources/source-common.js";
import { projectRoot } from "../../src/paths.js";

const fixturePath = (name: string) => path.join(projectRoot, "test", "fixtures", "sources", name);
const tmp = mkdtempSync(path.join(tmpdir(), "paperhound-hf-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("Hugging Face daily papers: one day", () => {
  it("maps an item to a Paper with its trending signals", async () => {
    const papers = await readHfDailyFile(fixturePath("hf-daily-2026-01-05.json"));
    expect(papers).toHaveLength(2);
    expect(papers[0]).toEqual({
      id: "2601.01234",
      title: "Sparse Mixtures of Experts at Scale",
      abstract: "We train sparse mixtures of experts. They scale well.",
      authors: ["Ada Lovelace", "Charles Babbage"],
      categories: [],
      published: "2026-01-02",
      links: {
        abs: "https://arxiv.org/abs/2601.01234",
        pdf: "https://arxiv.org/pdf/2601.01234",
        code: "https://github.com/example/sparse-moe",
        project: "https://example.org/sparse-moe",
      },
      source: "hf-daily",
      trending: { upvotes: 42, comments: 3, githubStars: 128, featuredOn: "2026-01-05", keywords: ["mixture of experts", "sparsity"] },
    });
  });

  it("takes the featured day from the file name when the item has none, and drops a project page that is not a URL", async () => {
    const p = (await readHfDailyFile(fixturePath("hf-daily-2026-01-05.json")))[1]!;
    expect(p.trending).toEqual({ upvotes: 0, comments: 0, featuredOn: "2026-01-05" });
    expect(p.links).toEqual({ abs: "https://arxiv.org/abs/2512.09876", pdf: "https://arxiv.org/pdf/2512.09876" });
    expect(parseHfDaily(readFileSync(fixturePath("hf-daily-2026-01-05.json"), "utf8"))[1]!.trending!.featuredOn).toBeUndefined();
  });

  it("reads an empty day as no papers", async () => {
    expect(await readHfDailyFile(fixturePath("hf-daily-empty.json"))).toEqual([]);
  });

  it("rejects a day of Python dict strings, naming the file and line, with no partial result", async () => {
    const file = fixturePath("hf-daily-malformed.json");
    await expect(readHfDailyFile(file)).rejects.toThrow(SourceFormatError);
    await expect(readHfDailyFile(file)).rejects.toThrow(
      `${file}:2: item 1 of 1 is a string holding a Python dict (single quotes, True/False/None), not a JSON object: the day was saved with str() instead of json.dumps(); none of this day's papers were read`,
    );
  });

  it("rejects the whole day when one item is bad, naming the item and field", async () => {
    const file = fixturePath("hf-daily-bad-count.json");
    await expect(readHfDailyFile(file, { date: "2026-01-09" })).rejects.toThrow(
      `${file}:6: day 2026-01-09: item 2 of 2 "paper.upvotes" must be a non-negative integer, got "many"; none of this day's papers were read`,
    );
  });

  it("rejects text that is not a JSON array", () => {
    expect(() => parseHfDaily('{"error": "Invalid date"}', { file: "d.json" })).toThrow("d.json:1: expected a JSON array of daily-paper items, got an object");
    expect(() => parseHfDaily("[{", { file: "d.json" })).toThrow(/^d\.json:1: the response is not valid JSON/);
    expect(() => parseHfDaily("", { file: "d.json" })).toThrow("d.json:1: the response is empty");
  });
});

describe("Hugging Face daily papers: archive of days", () => {
  async function collect(file: string): Promise<HfDailyArchiveEntry[]> {
    const out: HfDailyArchiveEntry[] = [];
    for await (const e of readHfDailyArchive(file)) out.push(e);
    return out;
  }

  it("streams one entry per day, gzipped or not; a bad day is an error entry and the others are read", async () => {
    const plain = fixturePath("hf-daily-archive.jsonl");
    const gz = path.join(tmp, "archive.jsonl.gz");
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    for (const file of [plain, gz]) {
      const entries = await collect(file);
      expect(entries.map((e) => [e.line, e.date, e.papers?.length ?? "error"])).toEqual([
        [1, "2026-01-03", 0],
        [2, "2026-01-05", 2],
        [3, "2024-12-11", "error"],
        [5, undefined, "error"],
        [6, "2026-01-07", 1],
      ]);
      expect(entries[2]!.error!.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: day 2024-12-11: item 1 of 1 is a string holding a Python dict`));
      expect(entries[3]!.error!.message).toMatch(/:5: expected \{"date": "YYYY-MM-DD", "response": \[\.\.\.\]\}, got an object with keys day$/);
      // The day of the line is the featured day of items that do not say.
      expect(entries[4]!.papers![0]!.trending!.featuredOn).toBe("2026-01-07");
    }
  });

  it("throws PaperFileError for a missing file or corrupt gzip", async () => {
    await expect(collect(path.join(tmp, "nope.jsonl.gz"))).rejects.toThrow(PaperFileError);
    const cut = path.join(tmp, "cut.jsonl.gz");
    const whole = gzipSync(readFileSync(fixturePath("hf-daily-archive.jsonl")));
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    await expect(collect(cut)).rejects.toThrow(/the gzip file is cut short/);
  });
});
