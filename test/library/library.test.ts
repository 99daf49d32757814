/**
 * The channel library (issue 17): the store (one entry per channel and paper, newest first, a filter
 * that means the text as typed) and `paperhound library` end to end in child processes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LibraryStore, type LibraryPaper } from "../../src/library/library-store.js";
import { Database } from "../../src/search/store/sqlite.js";
import { runNode } from "../helpers/run-cli.js";

const paper = (id: string, title: string, authors: string[] = ["Ada Lovelace"]): LibraryPaper => ({ id, title, authors, categories: ["cs.LG"] });

describe("LibraryStore", () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 3, 10, minute));

  it("keeps one entry per channel and paper (the first save), newest first, paged", () => {
    const lib = new LibraryStore(new Database(":memory:"));
    expect(lib.save("discord:1", paper("2401.00001", "First"), "ana", at(1)).added).toBe(true);
    expect(lib.save("discord:1", paper("2401.00002", "Second"), "bo", at(2)).added).toBe(true);
    const again = lib.save("discord:1", paper("2401.00001", "First, renamed"), "cy", at(3));
    expect(again).toMatchObject({ added: false, entry: { savedBy: "ana", paper: { title: "First" } } });
    lib.save("slack:C1", paper("2401.00001", "First"), "dee", at(4));
    expect(lib.list("discord:1").entries.map((e) => e.paper.id)).toEqual(["2401.00002", "2401.00001"]);
    expect(lib.list("discord:1", { offset: 1, limit: 1 })).toMatchObject({ total: 2, entries: [{ paper: { id: "2401.00001" } }] });
    expect(lib.count("slack:C1")).toBe(1);
    expect(lib.remove("discord:1", "2401.00001")?.savedBy).toBe("ana");
    expect(lib.remove("discord:1", "2401.00001")).toBeUndefined();
    expect(lib.count("discord:1")).toBe(1);
    expect(lib.count("slack:C1")).toBe(1);
  });

  it("filters on id, title and authors, any case, with % and _ meaning themselves", () => {
    const lib = new LibraryStore(new Database(":memory:"));
    lib.save("c:1", paper("2401.00001", "Gains of 50% in sparse_attention"), "", at(1));
    lib.save("c:1", paper("2401.00002", "Sparse attention, again", ["Grace Hopper"]), "", at(2));
    lib.save("c:1", paper("2401.00003", "Dense retrieval"), "", at(3));
    const ids = (filter: string) => lib.list("c:1", { filter }).entries.map((e) => e.paper.id);
    expect(ids("SPARSE")).toEqual(["2401.00002", "2401.00001"]);
    expect(ids("50%")).toEqual(["2401.00001"]);
    expect(ids("%")).toEqual(["2401.00001"]);
    expect(ids("e_a")).toEqual(["2401.00001"]);
    expect(ids("hopper")).toEqual(["2401.00002"]);
    expect(ids("2401.00003")).toEqual(["2401.00003"]);
    expect(ids("title")).toEqual([]);
  });
});

/** A temporary folder with an index of test/fixtures/cli-papers.jsonl in it, removed after the describe. */
function indexedFixture(): { tmp: string; index: string } {
  const dirs = { tmp: "", index: "" };
  beforeAll(async () => {
    dirs.tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-library-"));
    dirs.index = path.join(dirs.tmp, "idx");
    const r = await runNode(["index", path.join("test", "fixtures", "cli-papers.jsonl"), "--index", dirs.index]);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(dirs.tmp, { recursive: true, force: true }));
  return dirs;
}

describe("paperhound library", () => {
  const dirs = indexedFixture();

  it("saves by id, URL and title; lists; exports BibTeX to a file; removes; says what went wrong", async () => {
    const lib = (...args: string[]) => runNode(["library", ...args, "--index", dirs.index]);
    expect((await lib("save", "2101.00001")).stdout).toBe("saved 2101.00001 Sparse Attention for Long Documents\n");
    const byUrl = await lib("save", "https://arxiv.org/abs/2101.00001v3");
    expect(byUrl.stdout).toMatch(/^already in the library: 2101\.00001 {2}Sparse Attention for Long Documents {2}\(saved \d{4}-\d\d-\d\d by cli\)\n$/);
    expect((await lib("save", "String Dualities and Black Hole Entropy", "--channel", "slack:C42")).code).toBe(0);

    const list = await lib("list", "--json");
    expect(list.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["2101.00001"]);
    expect((await lib("list", "--channel", "slack:C42")).stdout).toMatch(/^hep-th\/0601001 {2}String Dualities/);

    const out = path.join(dirs.tmp, "team.bib");
    const exported = await lib("export", "-o", out);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain("1 paper(s) of the library of console:main as bibtex in");
    const bib = readFileSync(out, "utf8");
    expect(bib).toMatch(/^@misc\{Smith2021Sparse,\n/);
    expect(bib).toContain("\teprint = {2101.00001},\n\tarchivePrefix = {arXiv},\n\tprimaryClass = {cs.CL},\n");

    const unknown = await lib("save", "no paper is called anything like this");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('paperhound: no paper in this index matches "no paper is called anything like this"\n');
    expect((await lib("export", "--format", "xml")).stderr).toMatch(/--format must be one of bibtex, csl-json, ris, not "xml"/);
    expect((await lib("list", "--channel", "general")).stderr).toMatch(/--channel must be a channel key like discord:/);

    expect((await lib("remove", "arxiv.org/abs/2101.00001")).stdout).toBe("removed 2101.00001 Sparse Attention for Long Documents\n");
    const again = await lib("remove", "2101.00001");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/2101\.00001 is not in the library of console:main/);
    const empty = await lib("export", "--format", "ris");
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toMatch(/0 paper\(s\) .* \(the library is empty\)/);
  }, 120_000);
});

describe("paperhound library import", () => {
  const dirs = indexedFixture();

  const file = (name: string, text: string | Buffer) => {
    const p = path.join(dirs.tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const importFile = (f: string, ...args: string[]) => runNode(["library", "import", f, "--index", dirs.index, "--offline", ...args]);

  it("BibTeX: matched by eprint, arXiv URL, arXiv DOI and a LaTeX-accented title; the rest listed; a rerun adds nothing", async () => {
    const bib = file(
      "team.bib",
      [
        "@misc{smith2021, title={Sparse {Attention} for Long Documents}, author={Smith, Alice}, eprint={2101.00001v2}, archivePrefix={arXiv}, primaryClass={cs.CL}}",
        "@article{videos, title={Whatever}, url={https://arxiv.org/abs/2101.00002}}",
        "@article{viadoi, title={Another}, doi={10.48550/arXiv.2203.01234}}",
        "@inproceedings{bytitle, title={String Dualities and Black Hole Entropy}, author={M{\\'e}ndez, Carlos}}",
        "@book{unknown, title={A Book the Index Does Not Hold}, doi={10.1000/nowhere}}",
        "@misc{notindex, title={x}, eprint={2501.99999}, archivePrefix={arXiv}}",
        "@article{smith2021, title={A duplicate key, still an entry}}",
      ].join("\n"),
    );
    const r = await importFile(bib);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `imported ${bib} (BibTeX, 7 entries) into the library of console:main: matched 4 (arXiv id 3, DOI 0, title 1), fetched from arXiv 0, added 4, already there 0, not found 3\n`,
    );
    expect(r.stderr).toContain("not found: unknown: DOI 10.1000/nowhere: no paper of the index has it, and no title matched\n");
    expect(r.stderr).toContain("not found: notindex: arXiv 2501.99999: not in the index (--offline: not looked up)\n");
    expect(r.stderr).toContain("not found: smith2021: no paper of the index has this title\n");
    const list = await runNode(["library", "list", "--json", "--index", dirs.index]);
    expect(list.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string; saved_by: string }).saved_by)).toEqual(Array(4).fill("import of team.bib"));
    const again = await importFile(bib, "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ format: "BibTeX", entries: 7, matched: 4, added: 0, already: 4 });
  }, 120_000);

  it("RIS, CSL-JSON and a list of ids, URLs and DOIs", async () => {
    const ris = file("z.ris", "TY  - JOUR\nTI  - Sparse Attention for Long Videos\nER  - \nTY  - JOUR\nTI  - Nothing like this\nER  - \n");
    expect(JSON.parse((await importFile(ris, "--json", "--channel", "slack:C1")).stdout)).toMatchObject({ format: "RIS", entries: 2, matched: 1, by: { title: 1 } });
    const csl = file("z.json", JSON.stringify([{ id: "k1", type: "article", title: "Sparse Attention for Long Documents", URL: "https://arxiv.org/pdf/2101.00001v1" }]));
    expect(JSON.parse((await importFile(csl, "--json", "--channel", "slack:C1")).stdout)).toMatchObject({ format: "CSL-JSON", matched: 1, by: { arxiv: 1 }, added: 1 });
    const list = file("ids.txt", "# our reading list\n2203.01234\nhttps://arxiv.org/abs/hep-th/0601001v1\n\ndoi:10.48550/arXiv.2101.00002\nnot an id at all\n");
    const r = JSON.parse((await importFile(list, "--json", "--channel", "slack:C1")).stdout) as { format: string; matched: number; added: number; already: number; not_found: { entry: string }[] };
    // 2101.00002 came with the RIS file above.
    expect(r).toMatchObject({ format: "list", matched: 3, added: 2, already: 1 });
    expect(r.not_found).toEqual([{ entry: "line 6: not an id at all", why: "no arXiv id, DOI or title" }]);
  }, 120_000);

  it("bad files: a clear message each, and nothing added", async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ["unbalanced.bib", "@article{a, title={Unbalanced braces}", /looks like BibTeX but could not be read/],
      ["binary.bib", Buffer.from([0x40, 0x61, 0x00, 0x01, 0x02]), /is not text \(it holds NUL bytes\)/],
      ["empty.bib", "   \n", /the file is empty/],
      ["bad.json", "[{", /starts like CSL-JSON but is not JSON/],
      ["shape.json", "[1, 2]", /CSL-JSON must be an array of objects/],
    ];
    for (const [name, text, message] of cases) {
      const r = await importFile(file(name, text), "--channel", "discord:9");
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(message);
    }
    expect((await importFile(dirs.tmp, "--channel", "discord:9")).stderr).toMatch(/is a directory/);
    expect((await importFile(path.join(dirs.tmp, "missing.bib"), "--channel", "discord:9")).stderr).toMatch(/missing\.bib does not exist/);
    expect((await runNode(["library", "list", "--channel", "discord:9", "--index", dirs.index])).stderr).toBe("0 paper(s) in the library of discord:9\n");
  }, 120_000);
});
