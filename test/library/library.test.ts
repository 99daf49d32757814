/**
 * The channel library (issue 17): the store (one entry per channel and paper, newest first, a filter
 * that means the text as typed) and `paperhound library` end to end in child processes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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

describe("paperhound library", () => {
  let tmp: string;
  let index: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-library-"));
    index = path.join(tmp, "idx");
    const r = await runNode(["index", path.join("test", "fixtures", "cli-papers.jsonl"), "--index", index]);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("saves by id, URL and title; lists; exports BibTeX to a file; removes; says what went wrong", async () => {
    const lib = (...args: string[]) => runNode(["library", ...args, "--index", index]);
    expect((await lib("save", "2101.00001")).stdout).toBe("saved 2101.00001 Sparse Attention for Long Documents\n");
    const byUrl = await lib("save", "https://arxiv.org/abs/2101.00001v3");
    expect(byUrl.stdout).toMatch(/^already in the library: 2101\.00001 {2}Sparse Attention for Long Documents {2}\(saved \d{4}-\d\d-\d\d by cli\)\n$/);
    expect((await lib("save", "String Dualities and Black Hole Entropy", "--channel", "slack:C42")).code).toBe(0);

    const list = await lib("list", "--json");
    expect(list.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["2101.00001"]);
    expect((await lib("list", "--channel", "slack:C42")).stdout).toMatch(/^hep-th\/0601001 {2}String Dualities/);

    const out = path.join(tmp, "team.bib");
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
