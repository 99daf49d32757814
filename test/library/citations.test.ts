/**
 * Library citations (issue 17): BibTeX entries for arXiv papers in the form arXiv suggests, LaTeX-safe
 * titles and names, unique keys; CSL-JSON and RIS that Citation.js reads back to the same papers.
 */
import { Cite } from "@citation-js/core";
import "@citation-js/plugin-bibtex";
import "@citation-js/plugin-ris";
import { describe, expect, it } from "vitest";
import { formatCitations } from "../../src/library/citations.js";
import type { LibraryPaper } from "../../src/library/library-store.js";

const arxiv: LibraryPaper = {
  id: "2401.00631",
  title: "Equivariant {Networks} & 50% of $x^{2}_1$ \\ for naïve Bal\u00e1zs",
  authors: ["Péter Balázs", "Ann van der Berg"],
  published: "2024-01-02",
  categories: ["cs.LG", "stat.ML"],
  url: "https://arxiv.org/abs/2401.00631",
};
const sibling: LibraryPaper = { id: "2401.00632", title: "Equivariant nets", authors: ["Péter Balázs"], published: "2024-03-05", categories: ["cs.CV"], doi: "10.1000/xyz" };
const listing: LibraryPaper = { id: "listing:a-page-paper", title: "A paper from a listing page", authors: [], categories: [] };

describe("BibTeX", () => {
  const bib = formatCitations([arxiv, sibling, listing], "bibtex");

  it("writes an arXiv paper as @misc with eprint, archivePrefix and primaryClass", () => {
    const first = bib.split("\n\n")[0]!;
    expect(first).toMatch(/^@misc\{Balazs2024Equivariant,\n/);
    expect(first).toContain("\teprint = {2401.00631},\n");
    expect(first).toContain("\tarchivePrefix = {arXiv},\n");
    expect(first).toContain("\tprimaryClass = {cs.LG},\n");
    expect(first).toContain("\tyear = {2024},\n\tmonth = {jan},\n");
    expect(first).not.toMatch(/publisher|number/);
  });

  it("escapes braces, %, &, backslashes and accents, and keeps $…$ math as math", () => {
    expect(bib).toContain("title = {Equivariant \\textbraceleft{}{Networks}\\textbraceright{} \\& 50\\% of $x^{2}_1$ \\textbackslash{} for na{\\\" i}ve {Bal}{\\' a}zs}");
    expect(bib).toContain("author = {Bal{\\' a}zs, P{\\' e}ter and van der Berg, Ann}");
  });

  it("gives each entry its own key", () => {
    const keys = [...bib.matchAll(/^@\w+\{([^,]+),/gm)].map((m) => m[1]);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    expect(keys[1]).toBe("Balazs2024Equivarianta");
  });

  it("reads back (Citation.js) as the same papers: titles, names and ids in Unicode", () => {
    const back = new Cite(bib).data as { title: string; author?: Record<string, string>[]; DOI?: string }[];
    // The math comes back as Citation.js renders it (x²₁); everything else as it was.
    expect(back.map((b) => b.title)).toEqual(["Equivariant {Networks} & 50% of x²₁ \\ for naïve Balázs", "Equivariant nets", "A paper from a listing page"]);
    expect(back[0]!.author).toEqual([
      { given: "Péter", family: "Balázs" },
      { given: "Ann", family: "Berg", "non-dropping-particle": "van der" },
    ]);
    expect(back[1]!.DOI).toBe("10.1000/xyz");
  });

  it("an empty library is an empty file", () => {
    expect(formatCitations([], "bibtex")).toBe("");
    expect(formatCitations([], "ris")).toBe("");
    expect(JSON.parse(formatCitations([], "csl-json"))).toEqual([]);
  });
});

describe("CSL-JSON and RIS", () => {
  it("CSL-JSON: a preprint with arXiv as publisher and the id as number, names split, the date as date-parts", () => {
    const [item] = JSON.parse(formatCitations([arxiv], "csl-json")) as Record<string, unknown>[];
    expect(item).toMatchObject({
      id: "2401.00631",
      type: "article",
      title: arxiv.title,
      author: [
        { given: "Péter", family: "Balázs" },
        { given: "Ann", family: "van der Berg" },
      ],
      issued: { "date-parts": [[2024, 1, 2]] },
      publisher: "arXiv",
      number: "2401.00631",
      URL: "https://arxiv.org/abs/2401.00631",
    });
  });

  it("RIS: one record per paper, particles kept, read back by Citation.js", () => {
    const ris = formatCitations([arxiv, sibling], "ris");
    expect(ris.match(/^ER {2}-/gm)).toHaveLength(2);
    expect(ris).toContain("AU  - van der Berg, Ann");
    expect(ris.endsWith("\n")).toBe(true);
    const back = new Cite(ris).data as { title: string }[];
    expect(back.map((b) => b.title)).toEqual([arxiv.title, "Equivariant nets"]);
  });
});
