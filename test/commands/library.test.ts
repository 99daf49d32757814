/**
 * /save and /library as platform-neutral commands (issue 17): views for every outcome, paging, the
 * filter, and exports as files; nothing is saved twice and a removed paper can be saved again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/run.js";
import type { CommandContext } from "../../commands/types.js";
import type { FileView, MessageView, ResultsView, View } from "../../commands/view.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { buildTestIndex, type TestIndex } from "./test-index.js";

let t: TestIndex;
let store: DigestStore;
let ctx: CommandContext;

beforeAll(async () => {
  t = await buildTestIndex({ sample: 12 });
  store = DigestStore.open(t.dir);
  ctx = { ...t.ctx, digest: store, channel: { key: "console:main", canManage: true }, user: "ana" };
}, 120_000);

afterAll(async () => {
  store?.close();
  await t?.close();
});

const message = (v: View): MessageView => {
  expect(v.kind).toBe("message");
  return v as MessageView;
};

describe("/save", () => {
  it("saves a paper by title, once; a second save says who saved it first", async () => {
    const first = message(await runCommand("save", { paper: "Sparse Attention for Long Documents" }, ctx));
    expect(first).toMatchObject({ tone: "info", title: "Saved", ephemeral: true });
    expect(first.text).toBe("“Sparse Attention for Long Documents” (2101.00001) is in this channel's library (1 paper).");
    const again = message(await runCommand("save", { paper: "2101.00001v2" }, { ...ctx, user: "bo" }));
    expect(again.title).toBe("Already saved");
    expect(again.text).toMatch(/is already in this channel's library \(saved \d{4}-\d\d-\d\d by ana\)\.$/);
    expect(store.library.count("console:main")).toBe(1);
  });

  it("an unknown or ambiguous paper is an error naming the candidates; nothing is saved", async () => {
    expect(message(await runCommand("save", { paper: "no title is anything like this one" }, ctx)).text).toBe("No paper in the index matches “no title is anything like this one”.");
    const several = message(await runCommand("save", { paper: "Sparse Attention" }, ctx));
    expect(several.text).toBe("Several papers match “Sparse Attention”.");
    expect(several.suggestion).toContain("Sparse Attention for Long Documents (2101.00001)");
    expect(several.suggestion).toContain("Sparse Attention for Long Videos (2101.00002)");
    expect(store.library.count("console:main")).toBe(1);
  });

  it("without a digest store (a read-only index directory) says libraries are not available", async () => {
    expect(message(await runCommand("save", { paper: "2101.00001" }, { ...t.ctx, channel: { key: "console:x", canManage: true } })).text).toBe("Libraries are not available here.");
  });
});

describe("/library", () => {
  it("lists newest first, 10 a page, with More; a filter narrows it", async () => {
    const channel = { key: "discord:77", canManage: false };
    const c = { ...ctx, channel };
    // The 12 papers of test/fixtures/cli-papers.jsonl, saved in this order.
    const papers = ["2101.00001", "2101.00002", "2203.01234", "2205.05678", "2304.11111", "2306.22222", "2309.33333", "2311.44444", "2402.55555", "2404.66666", "2407.77777", "hep-th/0601001"];
    for (const p of papers) expect(message(await runCommand("save", { paper: p }, c)).title).toBe("Saved");
    const page1 = (await runCommand("library", {}, c)) as ResultsView;
    expect(page1.kind).toBe("results");
    expect(page1.header).toBe("Library of this channel · 12 papers");
    expect(page1.items).toHaveLength(10);
    expect(page1.items[0]).toMatchObject({ rank: 1, id: "hep-th/0601001", note: expect.stringMatching(/^saved \d{4}-\d\d-\d\d by ana$/) });
    expect(page1.items[0]!.score).toBeUndefined();
    expect(page1.next).toEqual({ command: "library", options: { action: "list", page: 2 } });
    const page2 = (await runCommand("library", page1.next!.options, c)) as ResultsView;
    expect(page2.items.map((i) => [i.rank, i.id])).toEqual([
      [11, "2101.00002"],
      [12, "2101.00001"],
    ]);
    expect(page2.next).toBeUndefined();
    const filtered = (await runCommand("library", { filter: "attention" }, c)) as ResultsView;
    expect(filtered.header).toBe("Library of this channel · 2 papers matching “attention”");
    expect(message(await runCommand("library", { filter: "zzz" }, c)).text).toBe("No paper in this channel's library matches “zzz”.");
  });

  it("remove takes one paper out and says how to put it back; a paper not in it is an error", async () => {
    const removed = message(await runCommand("library", { action: "remove", paper: "https://arxiv.org/abs/2101.00001" }, ctx));
    expect(removed.title).toBe("Removed");
    expect(removed.suggestion).toBe("Changed your mind? /save 2101.00001");
    expect(message(await runCommand("library", { action: "remove", paper: "2101.00001" }, ctx)).text).toBe("“2101.00001” is not in this channel's library.");
    expect(message(await runCommand("library", { action: "remove" }, ctx)).tone).toBe("error");
    expect(message(await runCommand("library", {}, ctx)).text).toBe("This channel's library is empty.");
  });

  it("export: a file in the chosen format; an empty library has nothing to export; a bad format is refused", async () => {
    expect(message(await runCommand("library", { action: "export" }, ctx)).text).toBe("This channel's library is empty: there is nothing to export.");
    const c = { ...ctx, channel: { key: "discord:77", canManage: false } };
    const file = (await runCommand("library", { action: "export", format: "csl-json" }, c)) as FileView;
    expect(file).toMatchObject({ kind: "file", text: "12 papers of this channel's library as CSL-JSON", ephemeral: true, file: { name: "library.json", mime: "application/vnd.citationstyles.csl+json" } });
    expect((JSON.parse(file.file.content) as { id: string }[]).map((p) => p.id)[0]).toBe("hep-th/0601001");
    expect(message(await runCommand("library", { action: "export", format: "endnote" }, c)).tone).toBe("error");
  });
});

describe("/library cite (the BibTeX menu under results)", () => {
  it("shows one paper's entry, in any format, without a library and without saving it", async () => {
    const before = store.library.count("console:main");
    const bib = message(await runCommand("library", { action: "cite", paper: "Sparse Attention for Long Videos" }, t.ctx));
    expect(bib).toMatchObject({ tone: "info", title: "BibTeX", text: "“Sparse Attention for Long Videos” (2101.00002)", ephemeral: true });
    expect(bib.code).toMatch(/^@misc\{\w+2021Sparse,\n(.|\n)*\teprint = \{2101\.00002\},\n\tarchivePrefix = \{arXiv\},\n(.|\n)*\}$/);
    const ris = message(await runCommand("library", { action: "cite", paper: "2101.00002", format: "ris" }, ctx));
    expect(ris.title).toBe("RIS");
    expect(ris.code).toMatch(/^TY {2}- /);
    expect(store.library.count("console:main")).toBe(before);
    expect(message(await runCommand("library", { action: "cite" }, ctx)).text).toBe("Say which paper to cite: /library action:cite paper:<arXiv id, URL or title>.");
    expect(message(await runCommand("library", { action: "cite", paper: "no title is anything like this one" }, ctx)).text).toBe("No paper in the index matches “no title is anything like this one”.");
  });
});
