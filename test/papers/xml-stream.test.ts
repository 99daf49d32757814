import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/papers/limits.js";
import { ArxivAtomReader, parseArxivAtom } from "../../src/papers/sources/arxiv-atom.js";
import { parseArxivRss } from "../../src/papers/sources/arxiv-rss.js";
import { OaiPmhReader, parseOaiPmh } from "../../src/papers/sources/oai-pmh.js";
import { SourceFormatError } from "../../src/papers/sources/source-common.js";
import { XmlElementStream, child, type XmlNode } from "../../src/papers/sources/xml-stream.js";

const ATOM = "http://www.w3.org/2005/Atom";
const feed = (body: string) => `<?xml version="1.0"?>\n<feed xmlns="${ATOM}">\n${body}</feed>\n`;
const entry = (n: number, extra = "") =>
  `<entry>\n<id>http://arxiv.org/abs/2401.${String(n).padStart(5, "0")}v1</id>\n<title>Paper ${n}</title>\n<summary>About ${n}.</summary>\n${extra}</entry>\n`;
const OAI = "http://www.openarchives.org/OAI/2.0/";
const oai = (body: string) => `<?xml version="1.0"?>\n<OAI-PMH xmlns="${OAI}">\n<ListRecords>\n${body}</ListRecords>\n</OAI-PMH>\n`;
const OAI_DC = `xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"`;
const oaiRecord = (n: number, description = `About ${n}.`) =>
  `<record>\n<header><identifier>oai:arXiv.org:2401.${String(n).padStart(5, "0")}</identifier></header>\n` +
  `<metadata><oai_dc:dc ${OAI_DC}><dc:title>Paper ${n}</dc:title><dc:creator>One, A.</dc:creator>` +
  `<dc:description>${description}</dc:description></oai_dc:dc></metadata>\n</record>\n`;
/** An element nested `depth` deep, one start tag per line. */
const nest = (depth: number) => "<a>\n".repeat(depth) + "</a>".repeat(depth) + "\n";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;

/** CPU time of `run` in ms: unlike wall time, not stretched by other processes on a busy machine. */
function ms(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * time(4n) / time(n) for documents built by `make`, after warming up: the median of 5 ratios,
 * each of one run of size 4n to a run of 4 documents of size n (the same work if linear, over about
 * the same span, so that load from other processes falls on both alike). n is doubled from `n0`
 * until a run of size n takes at least 50 ms (shorter runs are mostly noise). Linear work gives 4.
 */
function growth(make: (n: number) => string, parse: (xml: string) => void, n0: number) {
  for (let n = n0; ; n *= 2) {
    const small = make(n);
    const big = make(4 * n);
    // The JIT's first passes would count against whichever size runs first.
    [small, small, big].forEach(parse);
    const times: number[] = [];
    const times4: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = ms(() => [small, small, small, small].forEach(parse)) / 4;
      const t4 = ms(() => parse(big));
      times.push(t);
      times4.push(t4);
      ratios.push(t4 / t);
    }
    if (median(times) >= 50) return { n, ms: median(times), ms4: median(times4), ratio: median(ratios) };
  }
}

describe("XmlElementStream: nesting depth", () => {
  it("refuses a 100,000-deep Atom document at once, at the line of the element past the limit", () => {
    const err = thrown(() => parseArxivAtom(feed(nest(100_000)), { file: "deep.xml" }));
    expect(err).toBeInstanceOf(SourceFormatError);
    const e = err as SourceFormatError;
    expect(e.detail).toMatch(/^the document nests deeper than 256 elements \(feeds nest 4-6 deep\)/);
    expect([e.format, e.file, e.line]).toEqual(["arxiv-atom", "deep.xml", 2 + 256]);
    expect(e.message).toMatch(/^deep\.xml:258/);
  });

  it("refuses deep RSS and OAI-PMH documents alike", () => {
    const rss = `<rss version="2.0"><channel>${nest(100_000)}</channel></rss>`;
    expect(thrown(() => parseArxivRss(rss))).toMatchObject({ format: "arxiv-rss", detail: expect.stringMatching(/nests deeper than 256 elements/) });
    expect(thrown(() => parseOaiPmh(oai(nest(100_000))))).toMatchObject({ format: "oai-pmh", detail: expect.stringMatching(/nests deeper than 256 elements/) });
  });

  it("reads 256 levels and refuses the 257th; the limit can be set", () => {
    const select = () => false;
    const ok = new XmlElementStream(select, "test");
    ok.write(`<r>${"<a>".repeat(255)}${"</a>".repeat(255)}</r>`);
    expect(ok.close()).toEqual([]);
    const deep = new XmlElementStream(select, "test");
    expect(thrown(() => deep.write(`<r>${"<a>".repeat(255)}<a/>`))).toBeInstanceOf(SourceFormatError);
    const small = new XmlElementStream(select, "test", undefined, { maxXmlDepth: 3 });
    expect(thrown(() => small.write("<r><a><b><c/></b></a></r>"))).toMatchObject({ detail: expect.stringMatching(/deeper than 3 elements/) });
    expect(new XmlElementStream(select, "test").limits).toEqual({ maxXmlDepth: DEFAULT_LIMITS.maxXmlDepth, maxRecordBytes: DEFAULT_LIMITS.maxRecordBytes });
  });

  it("parses nothing after the error: not the rest of the chunk, not later writes", () => {
    let asked = 0;
    const select = () => {
      asked++;
      return false;
    };
    const stream = new XmlElementStream(select, "test", undefined, { maxXmlDepth: 10 });
    // The selector is asked once per element opened: the root and 9 levels, none after.
    const err = thrown(() => stream.write(`<r>${nest(20)}<b/><c/></r>`));
    expect(err).toMatchObject({ detail: expect.stringMatching(/deeper than 10 elements/), line: 10 });
    expect(asked).toBe(10);
    // saxes stopped mid-chunk: every later call gives the same error and reads nothing.
    expect(thrown(() => stream.write("<d/>"))).toBe(err);
    expect(thrown(() => stream.close())).toBe(err);
    expect(asked).toBe(10);
  });
});

/**
 * Linear work gives ×4, quadratic ×16. The bound leaves room for the garbage collector's share,
 * which grows with the larger document: the records case measured ×4.0–4.9 alone and ×5.8 once
 * under a loaded CI run (2 cores, test files in parallel), so ×6.
 */
const LINEAR_BOUND = 6;

describe("XmlElementStream: linear time", () => {
  it("sibling subtrees nested 200 deep: 4× the document costs at most 6× the time", () => {
    const subtree = `<entry><id>http://arxiv.org/abs/2401.00001</id><title>T</title>${"<x>".repeat(200)}deep${"</x>".repeat(200)}</entry>\n`;
    const g = growth((n) => feed(subtree.repeat(n)), (xml) => parseArxivAtom(xml), 128);
    console.log(`nested 200 deep: ${g.n} subtrees ${g.ms.toFixed(0)} ms, ×4 ${g.ms4.toFixed(0)} ms, ratio ${g.ratio.toFixed(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(LINEAR_BOUND);
  });

  // Streamed as a file is (64 KiB chunks, items dropped): a parser that keeps every result makes
  // the garbage collector's share grow with the heap, which is not what is measured here.
  const streamOai = (xml: string) => {
    const reader = new OaiPmhReader();
    for (let i = 0; i < xml.length; i += 65_536) reader.push(xml.slice(i, i + 65_536));
    reader.finish();
  };

  it("sibling records: 4× the records cost at most 6× the time", () => {
    const g = growth((n) => oai(Array.from({ length: n }, (_, i) => oaiRecord(i % 99_999 + 1)).join("")), streamOai, 2000);
    console.log(`records: ${g.n} records ${g.ms.toFixed(0)} ms, ×4 ${g.ms4.toFixed(0)} ms, ratio ${g.ratio.toFixed(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(LINEAR_BOUND);
  });

  it("records followed by unbounded nesting: 4× both (depth 2n → 8n) costs at most 6× the time", () => {
    const make = (n: number) => oai(oaiRecord(1).repeat(n) + "<a>".repeat(2 * n) + "</a>".repeat(2 * n));
    const parse = (xml: string) => expect(thrown(() => streamOai(xml))).toBeInstanceOf(SourceFormatError);
    const g = growth(make, parse, 2000);
    console.log(`records + nesting: ${g.n} records, depth ${2 * g.n}: ${g.ms.toFixed(0)} ms, ×4 ${g.ms4.toFixed(0)} ms, ratio ${g.ratio.toFixed(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(LINEAR_BOUND);
  });
});

describe("XmlElementStream: record size", () => {
  const limits = { maxRecordBytes: 10_000 };
  const big = "x".repeat(20_000);

  it("drops the content of a captured element past maxRecordBytes and marks it; later ones are whole", () => {
    const stream = new XmlElementStream((_u, local) => local === "rec", "test", undefined, limits);
    const doc = `<r>\n<rec n="1"><id>one</id><t>${big}</t><u>after</u></rec>\n<rec n="2"><id>two</id><t>fine</t></rec>\n</r>`;
    const nodes: XmlNode[] = [];
    for (let i = 0; i < doc.length; i += 333) nodes.push(...stream.write(doc.slice(i, i + 333)));
    nodes.push(...stream.close());
    expect(nodes).toHaveLength(2);
    const [first, second] = nodes as [XmlNode, XmlNode];
    expect(first.oversize).toBe(true);
    expect(first.line).toBe(2);
    expect(first.attrs).toEqual({ n: "1" });
    // What closed before the limit stays (a record's id, for the message); the rest is gone.
    expect(child(first, "", "id")?.text).toBe("one");
    expect(child(first, "", "t")?.text).toBe("");
    expect(child(first, "", "u")).toBeUndefined();
    expect(second.oversize).toBeUndefined();
    expect(child(second, "", "t")?.text).toBe("fine");
  });

  it("counts markup too: a record of many empty elements is bounded", () => {
    const stream = new XmlElementStream((_u, local) => local === "rec", "test", undefined, limits);
    const [node] = stream.write(`<r><rec>${"<e/>".repeat(5000)}</rec></r>`);
    stream.close();
    expect(node!.oversize).toBe(true);
    expect(node!.children.length).toBeLessThan(2600);
  });

  it("Atom: an oversize entry is a per-entry error and the entries after it are read", () => {
    const xml = feed(entry(1) + entry(2, `<summary>${big}</summary>\n`) + entry(3) + entry(4));
    for (const chunk of [xml.length, 1000]) {
      const reader = new ArxivAtomReader({ file: "big.xml", limits });
      for (let i = 0; i < xml.length; i += chunk) reader.push(xml.slice(i, i + chunk));
      const out = reader.finish();
      expect(out.entries.map((e) => e.paper.id)).toEqual(["2401.00001", "2401.00003", "2401.00004"]);
      expect(out.errors).toEqual([
        { line: 8, message: "entry 2401.00002 is too large to read (the limit is 10,000 characters; MAX_RECORD_BYTES raises it)" },
      ]);
    }
  });

  it("Atom: an oversize element outside the entries stops the feed", () => {
    const err = thrown(() => parseArxivAtom(feed(`<title>${big}</title>\n${entry(1)}`), { limits }));
    expect(err).toMatchObject({ format: "arxiv-atom", line: 3, detail: expect.stringMatching(/^<title> is too large to read \(the limit is 10,000/) });
  });

  it("RSS: an oversize item is a per-item error and the items after it are read", () => {
    const item = (n: number, description = "Abstract: fine.") =>
      `<item>\n<title>Paper ${n}</title>\n<guid isPermaLink="false">oai:arXiv.org:2601.0000${n}v1</guid>\n<description>arXiv:2601.0000${n}v1 Announce Type: new ${description}</description>\n</item>\n`;
    const xml = `<rss version="2.0">\n<channel>\n<title>t</title>\n${item(1)}${item(2, `Abstract: ${big}`)}${item(3)}</channel>\n</rss>\n`;
    const out = parseArxivRss(xml, { limits });
    expect(out.items.map((i) => i.paper.id)).toEqual(["2601.00001", "2601.00003"]);
    expect(out.errors).toEqual([{ line: 9, message: "item 2601.00002 is too large to read (the limit is 10,000 characters; MAX_RECORD_BYTES raises it)" }]);
  });

  it("OAI-PMH: an oversize record is an invalid record with its identifier and the records after it are read", () => {
    const xml = oai(`${oaiRecord(1)}${oaiRecord(2, big)}${oaiRecord(3)}<resumptionToken>tok</resumptionToken>\n`);
    const page = parseOaiPmh(xml, { limits });
    expect(page.papers.map((r) => r.paper.id)).toEqual(["2401.00001", "2401.00003"]);
    expect(page.invalidRecords).toEqual([
      {
        kind: "invalid",
        line: 8,
        identifier: "oai:arXiv.org:2401.00002",
        message: "record is too large to read (the limit is 10,000 characters; MAX_RECORD_BYTES raises it)",
      },
    ]);
    expect([page.records, page.invalid, page.resumptionToken?.token]).toEqual([2, 1, "tok"]);
  });
});
