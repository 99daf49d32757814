import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { arxivAbsUrl, arxivPdfUrl } from "../../src/papers/arxiv-id.js";
import { arxivLinks, arxivRefOf, collapse, firstDoi, httpUrlOrUndefined, RecordProblem } from "../../src/papers/sources/source-common.js";
import { decodeUtf8 } from "../../src/papers/sources/source-file.js";
import { textLines } from "../../src/text-lines.js";

describe("collapse", () => {
  it("is s.replace(/\\s+/g, ' ').trim(), keeping LaTeX", () => {
    const cases = [
      "plain title",
      "  Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large\n  Connectivity Limit\n",
      "a \n b",
      "\u00a0x  y\t",
      "   ",
      "",
      "a\u2028b\u3000 c",
      "$\\mathcal{O}(n)$\r\n  time",
      "tab\tseparated",
    ];
    for (const s of cases) expect(collapse(s), JSON.stringify(s)).toBe(s.replace(/\s+/g, " ").trim());
  });
});

describe("small helpers", () => {
  it("firstDoi takes the first DOI of a field, without resolver or prefix", () => {
    expect(firstDoi("10.1103/PhysRevD.76.013009")).toBe("10.1103/PhysRevD.76.013009");
    expect(firstDoi("https://doi.org/10.1109/IOT.2024.1 10.1145/3580305")).toBe("10.1109/IOT.2024.1");
    expect(firstDoi("10.1/too-short 10.1145/3580305")).toBe("10.1145/3580305");
    expect(firstDoi("doi:10.1063/1.3374668")).toBe("10.1063/1.3374668");
    expect(firstDoi("not a doi")).toBeUndefined();
    expect(firstDoi(undefined)).toBeUndefined();
  });

  it("arxivLinks equals the arxiv-id URL helpers for canonical ids", () => {
    for (const id of ["2401.00631", "hep-th/9901001", "math/0208210", "0704.0001"]) {
      expect(arxivLinks(id)).toEqual({ abs: arxivAbsUrl(id), pdf: arxivPdfUrl(id) });
    }
  });

  it("arxivRefOf reads OAI identifiers and URLs, and says why other text is not an id", () => {
    expect(arxivRefOf("oai:arXiv.org:math/0208210", "<identifier>")).toEqual({ id: "math/0208210" });
    expect(arxivRefOf("http://arxiv.org/abs/1111.2011v2", "<id>")).toEqual({ id: "1111.2011", version: 2 });
    expect(() => arxivRefOf("2413.00001", "<id>")).toThrow(RecordProblem);
    expect(() => arxivRefOf("2413.00001", "<id>")).toThrow('<id> "2413.00001" is not an arXiv id: month 13 does not exist in 2413.00001');
  });

  it("httpUrlOrUndefined trims and rejects non-URLs", () => {
    expect(httpUrlOrUndefined(" https://example.org/x ")).toBe("https://example.org/x");
    expect(httpUrlOrUndefined("N/A")).toBeUndefined();
    expect(httpUrlOrUndefined(42)).toBeUndefined();
  });
});

describe("text streams", () => {
  it("decodeUtf8 never splits a character across chunks and drops a byte-order mark", async () => {
    const bytes = Buffer.from("\uFEFFBalázs — Σ\n", "utf8");
    const pieces = Array.from(bytes, (b) => Buffer.from([b]));
    let out = "";
    for await (const s of decodeUtf8(Readable.from(pieces))) out += s;
    expect(out).toBe("Balázs — Σ\n");
  });

  it("textLines numbers lines across chunk boundaries and CRLF endings", async () => {
    async function* chunks() {
      yield "first li";
      yield "ne\r\nsecond\n\nfou";
      yield "rth";
    }
    const got = [];
    for await (const l of textLines(chunks())) got.push(l);
    expect(got).toEqual([
      { line: 1, text: "first line" },
      { line: 2, text: "second" },
      { line: 3, text: "" },
      { line: 4, text: "fourth" },
    ]);
  });
});
