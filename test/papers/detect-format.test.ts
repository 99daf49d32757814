import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ArxivApiError } from "../../src/papers/sources/arxiv-atom.js";
import { detectFileFormat, detectFormat, readPapersFromFile, type ReadPapersOptions, type SourceFileEntry } from "../../src/papers/sources/detect-format.js";
import { PaperFileError } from "../../src/papers/sources/jsonl.js";
import type { OaiDeletedRecord, OaiEnd } from "../../src/papers/sources/oai-pmh.js";
import { projectRoot } from "../../src/paths.js";

const sources = (name: string) => path.join(projectRoot, "test", "fixtures", "sources", name);
const fixtures = (name: string) => path.join(projectRoot, "test", "fixtures", name);
const tmp = mkdtempSync(path.join(tmpdir(), "paperhound-detect-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, data: string | Buffer) => {
  const p = path.join(tmp, name);
  writeFileSync(p, data);
  return p;
};

async function collect(file: string, opts: ReadPapersOptions = {}): Promise<SourceFileEntry[]> {
  const out: SourceFileEntry[] = [];
  for await (const e of readPapersFromFile(file, opts)) out.push(e);
  return out;
}

describe("detectFormat", () => {
  const b = (s: string) => Buffer.from(s);

  it("tells the XML feeds apart by root element, after the prolog", () => {
    expect(detectFormat(b('<?xml version="1.0"?>\n<!-- c -->\n<feed xmlns="http://www.w3.org/2005/Atom">'))).toBe("arxiv-atom");
    expect(detectFormat(b("\uFEFF  <rss version='2.0'>"))).toBe("arxiv-rss");
    expect(detectFormat(b('<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'))).toBe("oai-pmh");
    expect(detectFormat(b("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"))).toBe("unknown");
  });

  it("tells Hugging Face days and archives from generic JSON", () => {
    expect(detectFormat(b('[\n  {\n    "paper": {\n      "id": "2601.01234"'))).toBe("hf-daily");
    expect(detectFormat(b(`[\n "{'paper': {'id': '2412.07730'`))).toBe("hf-daily");
    expect(detectFormat(b('{"date": "2024-05-27", "response": [{"paper": {'))).toBe("hf-daily-archive");
    expect(detectFormat(b('[{"id": "2401.00631", "title": "T", "abstract": "A"}]'))).toBe("json");
    expect(detectFormat(b("[]"))).toBe("json");
    expect(detectFormat(b('{"id": "1", "title": "T", "abstract": "A"}\n{"id": "2"'))).toBe("jsonl");
    expect(detectFormat(b('{"papers": [{"id": "1"}]}\n'))).toBe("json");
    expect(detectFormat(b('{\n  "papers": [\n'))).toBe("json");
  });

  it("calls other text a listing and binary data unknown", () => {
    expect(detectFormat(b("Trending papers\n\nA title\n\nAn abstract ..."))).toBe("listing");
    expect(detectFormat(b("\u0000\u0001binary"))).toBe("unknown");
    expect(detectFormat(b("   \n"))).toBe("unknown");
  });

  it("gunzips the head, even when cut", () => {
    const gz = gzipSync(readFileSync(sources("oai-dc.xml")));
    expect(detectFormat(gz)).toBe("oai-pmh");
    expect(detectFormat(gz.subarray(0, 200))).toBe("oai-pmh");
    expect(detectFormat(gzipSync(readFileSync(sources("hf-daily-archive.jsonl"))))).toBe("hf-daily-archive");
  });

  it("reads the head of a file", async () => {
    expect(await detectFileFormat(sources("arxiv-atom-legacy.xml"))).toBe("arxiv-atom");
    expect(await detectFileFormat(fixtures("papers-small.jsonl"))).toBe("jsonl");
    await expect(detectFileFormat(path.join(tmp, "missing.xml"))).rejects.toThrow(PaperFileError);
  });
});

describe("readPapersFromFile", () => {
  it("dispatches every format to its parser, gzipped or not", async () => {
    const counts = async (file: string) => {
      const entries = await collect(file);
      return [entries.filter((e) => e.paper).length, entries.filter((e) => e.error).length];
    };
    expect(await counts(sources("arxiv-atom-current.xml"))).toEqual([2, 1]);
    expect(await counts(sources("arxiv-rss.xml"))).toEqual([4, 1]);
    expect(await counts(sources("oai-dc.xml"))).toEqual([2, 1]);
    expect(await counts(sources("hf-daily-2026-01-05.json"))).toEqual([2, 0]);
    expect(await counts(sources("hf-daily-archive.jsonl"))).toEqual([3, 2]);
    expect(await counts(fixtures("papers-small.jsonl"))).toEqual([7, 0]);
    expect(await counts(write("oai.xml.gz", gzipSync(readFileSync(sources("oai-arxiv.xml")))))).toEqual([1, 0]);
    expect(await counts(path.join(projectRoot, "data", "sample", "trending-papers-page.txt"))).toEqual([37, 0]);
  });

  it("keeps entry lines, the RSS announce type, and record errors without a file prefix", async () => {
    const rss = await collect(sources("arxiv-rss.xml"));
    expect(rss.filter((e) => e.paper).map((e) => [e.line, e.paper!.id, e.paper && "announceType" in e ? e.announceType : undefined])).toEqual([
      [11, "2601.01234", "new"],
      [26, "2205.06398", "cross"],
      [40, "2009.13987", "replace"],
      [52, "hep-th/0601001", "replace-cross"],
    ]);
    const archive = await collect(sources("hf-daily-archive.jsonl"));
    expect(archive.find((e) => e.error)).toEqual({
      line: 3,
      error: { line: 3, message: expect.stringMatching(/^day 2024-12-11: item 1 of 1 is a string holding a Python dict/) },
    });
  });

  it("reports OAI deleted records and the resumption token through callbacks", async () => {
    const deleted: OaiDeletedRecord[] = [];
    let end: OaiEnd | undefined;
    await collect(sources("oai-dc.xml"), { onDeleted: (d) => deleted.push(d), onOaiEnd: (e) => (end = e) });
    expect(deleted.map((d) => d.id)).toEqual(["2402.00002"]);
    expect(end?.resumptionToken?.token).toBe("6958113|1001");
  });

  it("honours an explicit format and a source override", async () => {
    const entries = await collect(sources("hf-daily-2026-01-05.json"), { format: "hf-daily", source: "hf-test" });
    expect(entries.map((e) => e.paper?.source)).toEqual(["hf-test", "hf-test"]);
    // Told it is Atom, an RSS file is not a paper source: a file error, not silence.
    await expect(collect(sources("arxiv-rss.xml"), { format: "arxiv-atom" })).rejects.toThrow(
      `${sources("arxiv-rss.xml")}:1: not an arXiv API Atom feed: the root element is <rss>, expected an Atom <feed>`,
    );
  });

  it("turns whole-file failures into PaperFileError naming the file, with the cause kept", async () => {
    const err = await collect(sources("arxiv-atom-error.xml")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaperFileError);
    expect((err as PaperFileError).file).toBe(sources("arxiv-atom-error.xml"));
    expect((err as Error).message).toBe(`${sources("arxiv-atom-error.xml")}: arXiv API error: max_results must be an integer`);
    expect((err as Error).cause).toBeInstanceOf(ArxivApiError);

    await expect(collect(sources("oai-bad-token.xml"))).rejects.toThrow(/OAI-PMH error badResumptionToken/);
    await expect(collect(sources("hf-daily-malformed.json"))).rejects.toThrow(PaperFileError);
    await expect(collect(write("page.html", "<html><body>Service unavailable</body></html>"))).rejects.toThrow(/cannot tell the format from its content/);
    await expect(collect(write("bad.gz", Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])))).rejects.toThrow(/the gzip file is cut short \(13 bytes/);
    await expect(collect(write("empty.xml", ""))).rejects.toThrow(/is empty/);
    await expect(collect(write("noise.txt", "just a line"))).rejects.toThrow(/no papers found/);
  });

  it("an OAI noRecordsMatch file is simply empty", async () => {
    expect(await collect(sources("oai-no-records.xml"))).toEqual([]);
  });
});
