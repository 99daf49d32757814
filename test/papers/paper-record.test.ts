/**
 * Issue 16, item 10 ("Records not validated"): invisible titles and abstracts are refused, control
 * characters are removed, categories must be arXiv categories, and text repaired from invalid UTF-8
 * is reported and never replaces a stored good copy.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPapersFromFile, type SourceFileEntry } from "../../src/papers/sources/detect-format.js";
import { readPaperFile, type PaperFileEntry } from "../../src/papers/sources/jsonl.js";
import { InvalidRecordError, paperFromRecord, readPaperRecord } from "../../src/papers/sources/paper-record.js";
import type { Paper } from "../../src/papers/types.js";
import { PaperStore } from "../../src/search/paper-store.js";
import { runNode } from "../helpers/run-cli.js";

const tmp = mkdtempSync(path.join(tmpdir(), "paperhound-record-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, data: string | Buffer) => {
  const p = path.join(tmp, name);
  writeFileSync(p, data);
  return p;
};

async function collect<T>(entries: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of entries) out.push(e);
  return out;
}

describe("titles and abstracts without visible characters", () => {
  it.each([
    [{ title: "\u200b\u200c\u200d", abstract: "A" }, /"title" has no visible characters/],
    [{ title: "\u2060\ufeff\u200b \u00ad\u200e", abstract: "A" }, /"title" has no visible characters/],
    [{ title: "\u3164\u2800", abstract: "A" }, /"title" has no visible characters/],
    [{ title: "T", abstract: "\u0000\u0000\u0001\u001b\u007f\u0085" }, /"abstract" has no visible characters/],
    [{ title: "T", summary: "\u0000 \u200b" }, /"summary" has no visible characters/],
  ])("refuses %j", (record, message) => {
    expect(() => paperFromRecord(record)).toThrow(InvalidRecordError);
    expect(() => paperFromRecord(record)).toThrow(message);
  });

  it("reports such a record as a per-record error and reads on", async () => {
    const file = write(
      "invisible.jsonl",
      [
        JSON.stringify({ id: "2401.00001", title: "\u200b\u2060", abstract: "A" }),
        JSON.stringify({ id: "2401.00002", title: "Kept", abstract: "A" }),
      ].join("\n"),
    );
    const entries = await collect<PaperFileEntry>(readPaperFile(file));
    expect(entries.map((e) => e.error?.message ?? e.paper?.id)).toEqual(['"title" has no visible characters (only invisible or control characters)', "2401.00002"]);
  });

  it("removes control characters from text it keeps, and keeps zero-width joiners inside words", () => {
    const p = paperFromRecord({
      title: "Deep\u0000 Learning \u001b[31mNow\u0007",
      abstract: "Line one.\u0000\r\nLine two.\u0085\fEnd\u009b.",
      authors: ["Ada\u0000 Lovelace", "\u0001"],
      comment: "12 pages\u0000",
    });
    expect(p.title).toBe("Deep Learning [31mNow");
    expect(p.abstract).toBe("Line one.\nLine two.\nEnd.");
    expect(p.authors).toEqual(["Ada Lovelace"]);
    expect(p.comment).toBe("12 pages");
    expect(paperFromRecord({ title: "क्\u200dष and \u0628\u200c\u0647", abstract: "A" }).title).toBe("क्\u200dष and \u0628\u200c\u0647");
  });
});

describe("categories", () => {
  it("drops an entry that is not an arXiv category, with a warning, and keeps the paper", () => {
    const r = readPaperRecord({
      id: "2401.00001",
      title: "T",
      abstract: "A",
      primary_category: "cs.LG",
      categories: ["cs.LG", "'; DROP TABLE papers; --", "stat.ML", "CS.cv", "solv-int"],
    });
    expect(r.paper.categories).toEqual(["cs.LG", "stat.ML", "cs.CV", "solv-int"]);
    expect(r.warnings).toEqual([
      { kind: "category", message: `"categories": dropped "'; DROP TABLE papers; --" (not an arXiv category like cs.LG or hep-th)` },
    ]);
  });

  it("checks every word of a categories string and the primary category", () => {
    const r = readPaperRecord({ title: "T", abstract: "A", primary_category: "drop", categories: "hep-th '; DROP TABLE papers; --" });
    expect(r.paper.categories).toEqual(["hep-th"]);
    expect(r.warnings.map((w) => w.message)).toEqual([
      `"primary_category": dropped "drop" (not an arXiv category like cs.LG or hep-th)`,
      `"categories": dropped "'", "DROP", "TABLE", "papers", "--" (not arXiv categories like cs.LG or hep-th)`,
    ]);
  });

  it("reads a categories string separated by spaces, commas or semicolons", () => {
    expect(readPaperRecord({ title: "T", abstract: "A", categories: "cs.LG; cs.AI,stat.ML  math.OC" }).paper.categories).toEqual(["cs.LG", "cs.AI", "stat.ML", "math.OC"]);
  });

  it("drops MSC and ACM class codes, which arXiv lists among categories, without a warning", () => {
    // Records of ../shared/data/arxiv/papers-140k.jsonl.gz look like this (2401.01104, 2401.00779).
    const r = readPaperRecord({ title: "T", abstract: "A", categories: ["astro-ph.SR", "cs.AI", "85-04, 68T01", "68T50", "I.2.7", "68Txx", "62, 91"] });
    expect(r.paper.categories).toEqual(["astro-ph.SR", "cs.AI"]);
    expect(r.warnings).toEqual([]);
  });

  it("passes the warning on to the file readers' entries", async () => {
    const file = write("cats.jsonl", JSON.stringify({ id: "2401.00001", title: "T", abstract: "A", categories: ["cs.LG", "x y"] }) + "\n");
    const [entry] = await collect<SourceFileEntry>(readPapersFromFile(file));
    expect(entry!.paper?.categories).toEqual(["cs.LG"]);
    expect(entry!.warnings).toEqual([{ kind: "category", message: `"categories": dropped "x y" (not an arXiv category like cs.LG or hep-th)` }]);
  });
});

describe("text repaired from invalid UTF-8", () => {
  // "Café models" with é as a lone Latin-1 byte: not UTF-8, decoded to U+FFFD.
  const badLine = Buffer.concat([Buffer.from('{"id": "2401.00001", "title": "Caf'), Buffer.from([0xe9]), Buffer.from(' models", "abstract": "Good abstract."}\n')]);
  const goodLine = Buffer.from('{"id": "2401.00002", "title": "Plain", "abstract": "Fine."}\n');

  it("is counted per record with a warning naming the fields", async () => {
    const file = write("latin1.jsonl", Buffer.concat([badLine, goodLine]));
    const entries = await collect<SourceFileEntry>(readPapersFromFile(file));
    expect(entries.map((e) => e.paper?.title)).toEqual(["Caf\uFFFD models", "Plain"]);
    expect(entries[0]!.warnings).toEqual([
      { kind: "invalid-utf8", message: 'text repaired from invalid UTF-8: 1 U+FFFD replacement character in "title" (the original characters are lost)' },
    ]);
    expect(entries[1]!.warnings).toBeUndefined();
  });

  const stored: Paper = {
    id: "2401.00001",
    title: "Café models",
    abstract: "Good abstract, with ü.",
    authors: ["Zoë Ü"],
    categories: ["cs.LG"],
    links: { abs: "https://arxiv.org/abs/2401.00001", pdf: "https://arxiv.org/pdf/2401.00001" },
    source: "arxiv-api",
  };

  it("never replaces a stored title or abstract with one holding more U+FFFD", async () => {
    const store = PaperStore.memory();
    try {
      store.upsert(stored);
      const [entry] = await collect<PaperFileEntry>(readPaperFile(write("again.jsonl", badLine)));
      const repaired = { ...entry!.paper!, abstract: "Good abstract, with \uFFFD." };
      expect(store.upsert(repaired).outcome).toBe("unchanged");
      expect(store.get("2401.00001")).toMatchObject({ title: "Café models", abstract: "Good abstract, with ü.", source: "arxiv-api" });

      // Only the damaged field is kept: a new, clean abstract still arrives.
      store.upsert({ ...repaired, abstract: "A revised abstract." });
      expect(store.get("2401.00001")).toMatchObject({ title: "Café models", abstract: "A revised abstract." });
    } finally {
      store.close();
    }
  });

  it("a dry run counts such a record as a real run does: unchanged", async () => {
    const index = path.join(tmp, "dry-idx");
    const good = write("good.jsonl", JSON.stringify({ id: "2401.00001", title: "Café models", abstract: "Good abstract." }) + "\n");
    const bad = write("bad.jsonl", badLine);
    expect((await runNode(["index", good, "--index", index])).code).toBe(0);
    const dry = await runNode(["index", bad, "--index", index, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/new 0, known 1 \(0 with a changed title or abstract, to be re-embedded\)/);
    const real = await runNode(["index", bad, "--index", index]);
    expect(real.stdout).toMatch(/added 0, updated 0, unchanged 1, embedded 0/);
  }, 60_000);

  it("lets a copy with as many or fewer U+FFFD replace a damaged one", () => {
    const store = PaperStore.memory();
    try {
      store.upsert({ ...stored, title: "Caf\uFFFD models", source: "jsonl" });
      // As damaged (same count) but different text: the usual rule, the incoming one wins.
      store.upsert({ ...stored, title: "Na\uFFFDve models", source: "jsonl" });
      expect(store.get("2401.00001")?.title).toBe("Na\uFFFDve models");
      expect(store.upsert(stored).outcome).toBe("updated");
      expect(store.get("2401.00001")).toMatchObject({ title: "Café models", source: "arxiv-api" });
    } finally {
      store.close();
    }
  });
});
