/**
 * Library import and export speed on an existing index (issue 17: a 2,000-entry BibTeX import in
 * ≤ 10 s without arXiv fetches, an export of 2,000 papers in ≤ 2 s).
 *   npm run bench:library -- --index DIR [--entries 2000] [--rounds 3]
 * Draws the papers from the index (seeded), writes them as BibTeX with Citation.js, and removes the
 * eprint and url of every other entry, so half are matched by arXiv id and half by title. Import =
 * reading the file (Citation.js) + matching + saving in one transaction (an in-memory library).
 * Rounds alternate import and export; prints the least and the median of each, then one JSON line.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { formatCitations, libraryPaperOf } from "../src/library/citations.js";
import { matchEntries, readImportFile } from "../src/library/import.js";
import { LibraryStore } from "../src/library/library-store.js";
import { seededRandom } from "../src/random.js";
import { STORE_FILE } from "../src/search/index-dir.js";
import { PaperStore } from "../src/search/paper-store.js";
import { Database } from "../src/search/store/sqlite.js";
import { percentile } from "./percentile.js";

function main(): void {
  const { values } = parseArgs({ options: { index: { type: "string" }, entries: { type: "string", default: "2000" }, rounds: { type: "string", default: "3" } } });
  if (!values.index) throw new Error("--index DIR is required (an index built by `paperhound index` or `npm run bench:search -- --keep`)");
  const n = Number(values.entries);
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--entries must be a positive integer, got ${values.entries}`);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  const store = PaperStore.open(path.join(path.resolve(values.index), STORE_FILE), { readonly: true });
  try {
    const total = store.stats().papers;
    const rnd = seededRandom(17);
    const rowids = [...new Set(Array.from({ length: n * 2 }, () => 1 + Math.floor(rnd() * total)))];
    const papers = store.getMany(rowids).slice(0, n).map(libraryPaperOf);
    if (papers.length < n) throw new Error(`the index gave ${papers.length} papers, fewer than --entries ${n}`);

    const full = formatCitations(papers, "bibtex");
    // Every other entry without its arXiv id or URL: matched by title.
    const bib = full
      .split("\n\n")
      .map((entry, i) => (i % 2 === 1 ? entry.replace(/^\t(eprint|url|archivePrefix|primaryClass) = .*\n/gm, "") : entry))
      .join("\n\n");
    const bytes = Buffer.from(bib, "utf8");
    console.log(`index: ${total} papers; ${n} entries, ${(bytes.length / 1024).toFixed(0)} KB of BibTeX, half without arXiv ids`);

    const importMs: number[] = [];
    const exportMs: number[] = [];
    let report = { matched: 0, arxiv: 0, title: 0, doi: 0, added: 0 };
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      const { entries } = readImportFile(bytes);
      const matches = matchEntries(entries, store);
      const library = new LibraryStore(new Database(":memory:"));
      const found = matches.flatMap((m) => (m.paper ? [libraryPaperOf(m.paper)] : []));
      const added = library.saveMany("bench:1", found, "bench", new Date());
      importMs.push(performance.now() - t);
      const by = { arxiv: 0, doi: 0, title: 0 };
      for (const m of matches) if (m.by) by[m.by] += 1;
      report = { matched: found.length, ...by, added };

      t = performance.now();
      const exported = formatCitations(library.list("bench:1").entries.map((e) => e.paper), "bibtex");
      exportMs.push(performance.now() - t);
      if (exported.length === 0) throw new Error("empty export");
    }
    const fmt = (xs: number[]) => `least ${Math.min(...xs).toFixed(0)} ms, median ${percentile(xs, 50).toFixed(0)} ms`;
    console.log(`import of ${n} entries (read, match, save): ${fmt(importMs)}; matched ${report.matched} (arXiv id ${report.arxiv}, title ${report.title}, DOI ${report.doi})`);
    console.log(`export of ${report.added} papers as BibTeX: ${fmt(exportMs)}`);
    console.log(JSON.stringify({ papers: total, entries: n, bytes: bytes.length, import_ms: importMs.map(Math.round), export_ms: exportMs.map(Math.round), ...report }));
  } finally {
    store.close();
  }
}

main();
