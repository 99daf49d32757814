import { readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  OaiPmhError,
  invertDcName,
  parseOaiPmh,
  readOaiPmh,
  readOaiPmhFile,
  type OaiItem,
} from "../../src/papers/sources/oai-pmh.js";
import { categoryOfSubject } from "../../src/papers/sources/arxiv-categories.js";
import { SourceFormatError } from "../../src/papers/sources/source-common.js";
import { projectRoot } from "../../src/paths.js";

const fixturePath = (name: string) => path.join(projectRoot, "test", "fixtures", "sources", name);
const fixture = (name: string) => readFileSync(fixturePath(name), "utf8");

describe("OAI-PMH oai_dc", () => {
  const page = parseOaiPmh(fixture("oai-dc.xml"), { file: "oai-dc.xml" });

  it("maps Dublin Core to a Paper", () => {
    const r = page.papers[0]!;
    expect(r.metadataFormat).toBe("oai_dc");
    expect(r.header).toEqual({ identifier: "oai:arXiv.org:2401.00631", datestamp: "2026-11-01", setSpecs: ["cs"] });
    expect(r.paper).toEqual({
      id: "2401.00631",
      title: "Edge AI for the Internet of Things",
      abstract: "We study scheduling on edge devices in $O(n)$ time.",
      authors: ["Ada Lovelace", "Martin L. King Jr", "ATLAS Collaboration"],
      categories: ["cs.NI", "cs.LG"],
      published: "2024-01-01",
      updated: "2024-03-02",
      links: { abs: "https://arxiv.org/abs/2401.00631", pdf: "https://arxiv.org/pdf/2401.00631" },
      comment: "12 pages, 4 figures",
      doi: "10.1109/IOT.2024.12345",
      source: "oai",
    });
    expect(r.journalRef).toBe("IEEE IoT J. 11 (2024) 1-12");
    expect(page.papers[1]!.paper.id).toBe("math/0208210");
    expect(page.papers[1]!.paper.categories).toEqual(["math.GM"]);
    expect(page.papers[1]!.paper.updated).toBeUndefined();
  });

  it("returns deleted-record markers with their canonical id", () => {
    expect(page.deletedRecords).toEqual([
      { kind: "deleted", line: 36, header: { identifier: "oai:arXiv.org:2402.00002", datestamp: "2026-11-01", setSpecs: ["cs"] }, id: "2402.00002" },
    ]);
  });

  it("reports a record that cannot be a paper and goes on", () => {
    expect(page.invalidRecords).toEqual([
      { kind: "invalid", line: 61, identifier: "oai:arXiv.org:2403.00003", message: "record 2403.00003 has no title" },
    ]);
    expect([page.records, page.deleted, page.invalid]).toEqual([2, 1, 1]);
  });

  it("returns the resumption token with list size and cursor, and the request", () => {
    expect(page.resumptionToken).toEqual({ token: "6958113|1001", completeListSize: 2345, cursor: 0 });
    expect(page.request).toEqual({ url: "http://export.arxiv.org/oai2", verb: "ListRecords", from: "2026-11-01", metadataPrefix: "oai_dc", set: "cs" });
    expect(page.responseDate).toBe("2026-11-02T10:00:00Z");
    expect(page.noRecordsMatch).toBe(false);
  });
});

describe("OAI-PMH arXiv and arXivRaw formats", () => {
  it("reads the arXiv format; an empty resumptionToken ends the list", () => {
    const page = parseOaiPmh(fixture("oai-arxiv.xml"));
    const r = page.papers[0]!;
    expect(r.metadataFormat).toBe("arXiv");
    expect(r.paper).toEqual({
      id: "0704.0001",
      title: "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
      abstract: "A fully differential calculation in perturbative quantum chromodynamics is presented for the production of massive photon pairs at hadron colliders.",
      authors: ["C. Balázs", "E. L. Berger", "C. -P. Yuan Jr"],
      categories: ["hep-ph", "hep-ex"],
      published: "2007-04-02",
      updated: "2007-07-24",
      links: { abs: "https://arxiv.org/abs/0704.0001", pdf: "https://arxiv.org/pdf/0704.0001" },
      comment: "37 pages, 15 figures; published version",
      doi: "10.1103/PhysRevD.76.013009",
      source: "oai",
    });
    expect(r.journalRef).toBe("Phys.Rev.D76:013009,2007");
    expect(r.reportNo).toBe("ANL-HEP-PR-07-12");
    expect(r.license).toBe("http://arxiv.org/licenses/nonexclusive-distrib/1.0/");
    expect(page.resumptionToken).toEqual({ token: "" });
    expect(page.request?.resumptionToken).toBe("6958113|1001");
  });

  it("reads arXivRaw versions (GetRecord response)", () => {
    const page = parseOaiPmh(fixture("oai-arxivraw.xml"));
    const r = page.papers[0]!;
    expect(r.metadataFormat).toBe("arXivRaw");
    expect(r.header.setSpecs).toEqual(["math", "cs"]);
    expect(r.submitter).toBe("Louis Theran");
    expect(r.paper).toMatchObject({
      id: "0704.0002",
      version: 2,
      authors: ["Ileana Streinu", "Louis Theran"],
      categories: ["math.CO", "cs.CG"],
      published: "2007-03-31",
      updated: "2008-12-13",
      abstract: "We describe a new algorithm, the $(k,\\ell)$-pebble game with colors, and use it obtain a characterization of the family of $(k,\\ell)$-sparse graphs.",
    });
    expect(page.resumptionToken).toBeUndefined();
  });
});

describe("OAI-PMH errors", () => {
  it("treats noRecordsMatch as an empty result", () => {
    const page = parseOaiPmh(fixture("oai-no-records.xml"));
    expect(page.noRecordsMatch).toBe(true);
    expect(page.papers).toEqual([]);
    expect(page.records).toBe(0);
  });

  it("throws OaiPmhError with the code for badResumptionToken", () => {
    try {
      parseOaiPmh(fixture("oai-bad-token.xml"), { file: "bad.xml" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OaiPmhError);
      expect((e as OaiPmhError).code).toBe("badResumptionToken");
      expect((e as Error).message).toBe("bad.xml: OAI-PMH error badResumptionToken: The value of the resumptionToken argument is invalid or expired.");
    }
  });

  it("rejects other verbs and other documents", () => {
    const identify = `<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>x</responseDate><Identify><repositoryName>arXiv</repositoryName></Identify></OAI-PMH>`;
    expect(() => parseOaiPmh(identify)).toThrow(/an OAI-PMH Identify response has no records/);
    expect(() => parseOaiPmh("<rss/>", { file: "r.xml" })).toThrow(SourceFormatError);
    expect(() => parseOaiPmh(fixture("oai-dc.xml").slice(0, 2000), { file: "cut.xml" })).toThrow(/^cut\.xml:\d+: not well-formed XML: unclosed tag/);
  });
});

describe("OAI-PMH streaming", () => {
  it("reads a file through readOaiPmhFile with the end item last", async () => {
    const items: OaiItem[] = [];
    for await (const it of readOaiPmhFile(fixturePath("oai-dc.xml"))) items.push(it);
    expect(items.map((i) => i.kind)).toEqual(["record", "deleted", "record", "invalid", "end"]);
  });

  it("yields records while the input is still arriving (memory flat in input size)", async () => {
    const record = (i: number) =>
      `<record><header><identifier>oai:arXiv.org:2401.${String(i).padStart(5, "0")}</identifier><datestamp>2026-01-01</datestamp></header>` +
      `<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
      `<dc:title>Paper ${i}</dc:title><dc:description>Abstract ${i}.</dc:description></oai_dc:dc></metadata></record>\n`;
    let pulled = 0;
    // 50,000 records (~17 MB) if read to the end; the reader must not need that.
    function* chunks() {
      yield `<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>\n`;
      for (let i = 1; i <= 50_000; i++) {
        pulled++;
        yield Buffer.from(record(i));
      }
      yield "</ListRecords></OAI-PMH>";
    }
    const ids: string[] = [];
    for await (const it of readOaiPmh(Readable.from(chunks()))) {
      if (it.kind === "record") ids.push(it.paper.id);
      if (ids.length === 10) break;
    }
    expect(ids[9]).toBe("2401.00010");
    expect(pulled).toBeLessThan(100);
  });
});

describe("helpers", () => {
  it("inverts Dublin Core names", () => {
    expect(invertDcName("Miller, Steven J.")).toBe("Steven J. Miller");
    expect(invertDcName("Yuan Jr, C. -P.")).toBe("C. -P. Yuan Jr");
    expect(invertDcName("King, Martin L., Jr.")).toBe("Martin L. King Jr.");
    expect(invertDcName("The LIGO Scientific Collaboration")).toBe("The LIGO Scientific Collaboration");
  });

  it("maps category names, old and new, to codes", () => {
    expect(categoryOfSubject("Computer Science - Learning")).toBe("cs.LG");
    expect(categoryOfSubject("Computer Science - Machine Learning")).toBe("cs.LG");
    expect(categoryOfSubject("Statistics - Machine Learning")).toBe("stat.ML");
    expect(categoryOfSubject("High Energy Physics - Theory")).toBe("hep-th");
    expect(categoryOfSubject("Mathematical Physics")).toBe("math-ph");
    expect(categoryOfSubject("Mathematics - Mathematical Physics")).toBe("math.MP");
    expect(categoryOfSubject("Physics - Optics")).toBe("physics.optics");
    expect(categoryOfSubject("11N05 (Primary), 11N56")).toBeUndefined();
  });
});
