/**
 * `paperhound library save|list|remove|import|export`: a chat channel's library from the command line
 * (the same library chat users save to, in the index directory's digest.sqlite).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { InputError, type AppContext } from "../app/context.js";
import { indexLocation, openIndexForQuery, type IndexOption } from "../app/open-index.js";
import { DigestStore } from "../digest/digest-store.js";
import { CITATION_FORMATS, formatCitations, libraryPaperOf, type CitationFormat } from "../library/citations.js";
import type { LibraryEntry } from "../library/library-store.js";
import { arxivIdsToFetch, importOutcome, matchEntries, MAX_IMPORT_BYTES, readImportFile, whyNotFound } from "../library/import.js";
import { IngestError } from "../ingest/sources.js";
import { lookupArxivIds } from "../ingest/arxiv-lookup.js";
import { parseArxivRef } from "../papers/arxiv-id.js";
import { checkInputFile } from "../papers/sources/source-file.js";
import { PaperNotFoundError } from "../search/paper-index.js";
import { savedNote } from "../../commands/library.js";
import type { RegisterCommand } from "./context.js";
import { addIndexOption } from "./search-common.js";

/** The console's channel: what the CLI means when no --channel is given. */
export const DEFAULT_LIBRARY_CHANNEL = "console:main";

interface LibraryOptions extends IndexOption {
  channel: string;
}

/** "<platform>:<channel id>" as the chat adapters write it (discord:123, slack:C42, console:main). */
function checkChannel(value: string): string {
  const v = value.trim();
  if (!/^(discord|slack|console):[\w.-]{1,64}$/.test(v)) {
    throw new InputError(`--channel must be a channel key like discord:123456789, slack:C0123ABCD or console:main, not ${JSON.stringify(value.slice(0, 80))}`);
  }
  return v;
}

function withStore<T>(ctx: AppContext, opts: LibraryOptions, use: (store: DigestStore, channel: string) => T): T {
  const channel = checkChannel(opts.channel);
  const store = DigestStore.open(indexLocation(ctx, opts).dir);
  try {
    return use(store, channel);
  } finally {
    store.close();
  }
}

/** An import's file, refused before it is read when it is not a readable regular file or is over the limit. */
async function readImportBytes(file: string): Promise<Buffer> {
  const checked = await checkInputFile(file);
  if (typeof checked === "string") throw new InputError(`${checked}: give a BibTeX, CSL-JSON or RIS file or a list of arXiv ids`);
  if (checked.size > MAX_IMPORT_BYTES) throw new InputError(`${file} has ${(checked.size / 1024 / 1024).toFixed(1)} MB; an import reads at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  return readFile(file);
}

/** Shown for entries no paper was found for: the first 20, then a count. */
const MAX_UNMATCHED_SHOWN = 20;

const line = (e: LibraryEntry) => `${e.paper.id}  ${e.paper.title}  (${savedNote(e)})`;

export const registerLibrary: RegisterCommand = (program, ctx) => {
  const library = program.command("library").description("a chat channel's library of saved papers: save, list, remove, import, export (BibTeX, CSL-JSON, RIS)");
  const channelOption = (cmd: typeof library) => addIndexOption(cmd.option("--channel <key>", "the channel's library (discord:<id>, slack:<id>, console:main)", DEFAULT_LIBRARY_CHANNEL));

  channelOption(library.command("save").description("add a paper of the index to the library").argument("<paper>", "arXiv id, arXiv URL or title")).action(
    async (ref: string, opts: LibraryOptions) => {
      const open = await openIndexForQuery(ctx, opts);
      try {
        let paper;
        try {
          paper = open.index.resolvePaper(ref);
        } catch (err) {
          if (!(err instanceof PaperNotFoundError)) throw err;
          const which = err.candidates.length > 0 ? `; say which one: ${err.candidates.slice(0, 5).map((p) => p.id).join(", ")}` : "";
          throw new InputError(`${err.message}${which}`);
        }
        const saved = withStore(ctx, opts, (store, channel) => store.library.save(channel, libraryPaperOf(paper), "cli", new Date()));
        ctx.stdout.write(saved.added ? `saved ${paper.id} ${paper.title}\n` : `already in the library: ${line(saved.entry)}\n`);
      } finally {
        await open.close();
      }
    },
  );

  channelOption(library.command("list").description("the library, newest first").option("--filter <text>", "only papers whose id, title or authors contain this").option("--json", "one JSON object per line")).action(
    (opts: LibraryOptions & { filter?: string; json?: boolean }) =>
      withStore(ctx, opts, (store, channel) => {
        const { entries, total } = store.library.list(channel, opts.filter ? { filter: opts.filter } : {});
        if (opts.json) {
          for (const e of entries) ctx.stdout.write(`${JSON.stringify({ ...e.paper, saved_by: e.savedBy, saved_at: e.savedAt })}\n`);
          return;
        }
        for (const e of entries) ctx.stdout.write(`${line(e)}\n`);
        ctx.stderr.write(`${total} paper(s) in the library of ${channel}${opts.filter ? ` matching ${JSON.stringify(opts.filter)}` : ""}\n`);
      }),
  );

  channelOption(library.command("remove").description("take a paper out of the library").argument("<paper>", "the paper's id (as `library list` shows it) or arXiv URL")).action(
    (ref: string, opts: LibraryOptions) =>
      withStore(ctx, opts, (store, channel) => {
        const id = parseArxivRef(ref)?.id ?? ref.trim();
        const removed = store.library.remove(channel, id);
        if (!removed) throw new InputError(`${id} is not in the library of ${channel} (see \`paperhound library list\`)`);
        ctx.stdout.write(`removed ${removed.paper.id} ${removed.paper.title}\n`);
      }),
  );

  channelOption(
    library
      .command("import")
      .description("add the papers of a BibTeX, CSL-JSON or RIS file, or of a list of arXiv ids, URLs and DOIs, to the library")
      .argument("<file>", "the file (a Zotero, Mendeley, Paperpile or JabRef export, or one id per line)")
      .option("--offline", "never look papers up on arXiv: match only what the index holds")
      .option("--json", "print one JSON object"),
  ).action(async (file: string, opts: LibraryOptions & { offline?: boolean; json?: boolean }) => {
    const channel = checkChannel(opts.channel);
    const { format, entries } = readImportFile(await readImportBytes(file));
    let open = await openIndexForQuery(ctx, opts);
    try {
      let matches = matchEntries(entries, open.index.store);
      // arXiv papers the index does not hold are fetched and indexed first, as `related` does.
      const toFetch = arxivIdsToFetch(matches);
      let fetched = 0;
      let fetchProblem: string | undefined;
      if (toFetch.length > 0 && !opts.offline) {
        try {
          const { papers } = await lookupArxivIds(ctx, toFetch);
          if (papers.length > 0) {
            await open.close();
            open = await openIndexForQuery(ctx, opts, { add: papers });
            fetched = papers.length;
            matches = matchEntries(entries, open.index.store);
          }
        } catch (err) {
          if (!(err instanceof IngestError)) throw err;
          fetchProblem = err.message;
        }
      }
      const { matched, by, papers, missing } = importOutcome(matches);
      const added = withStore(ctx, opts, (store) => store.library.saveMany(channel, papers, `import of ${path.basename(file)}`, new Date()));
      const notLookedUp = opts.offline ? "--offline: not looked up" : undefined;
      if (opts.json) {
        ctx.stdout.write(
          `${JSON.stringify({ channel, format, entries: entries.length, matched, by, fetched, added, already: papers.length - added, not_found: missing.map((m) => ({ entry: m.entry.label, why: whyNotFound(m, notLookedUp) })), ...(fetchProblem ? { fetch_error: fetchProblem } : {}) })}\n`,
        );
        return;
      }
      if (fetchProblem) ctx.stderr.write(`paperhound: ${fetchProblem}; matched what the index holds\n`);
      for (const m of missing.slice(0, MAX_UNMATCHED_SHOWN)) ctx.stderr.write(`not found: ${m.entry.label}: ${whyNotFound(m, notLookedUp)}\n`);
      if (missing.length > MAX_UNMATCHED_SHOWN) ctx.stderr.write(`... and ${missing.length - MAX_UNMATCHED_SHOWN} more not found\n`);
      ctx.stdout.write(
        `imported ${file} (${format}, ${entries.length} entr${entries.length === 1 ? "y" : "ies"}) into the library of ${channel}: ` +
          `matched ${matched} (arXiv id ${by.arxiv}, DOI ${by.doi}, title ${by.title}), fetched from arXiv ${fetched}, added ${added}, already there ${papers.length - added}, not found ${missing.length}\n`,
      );
    } finally {
      await open.close();
    }
  });

  channelOption(
    library
      .command("export")
      .description("write the library as a citation file")
      .option("--format <format>", `${CITATION_FORMATS.join(", ")}`, "bibtex")
      .option("-o, --output <file>", "write to this file (default: standard output)"),
  ).action(async (opts: LibraryOptions & { format: string; output?: string }) => {
    if (!(CITATION_FORMATS as readonly string[]).includes(opts.format)) throw new InputError(`--format must be one of ${CITATION_FORMATS.join(", ")}, not ${JSON.stringify(opts.format)}`);
    const { text, count, channel } = withStore(ctx, opts, (store, channel) => {
      const papers = store.library.list(channel).entries.map((e) => e.paper);
      return { text: formatCitations(papers, opts.format as CitationFormat), count: papers.length, channel };
    });
    if (opts.output) await writeFileAtomic(opts.output, text);
    else ctx.stdout.write(text);
    ctx.stderr.write(`${count} paper(s) of the library of ${channel} as ${opts.format}${opts.output ? ` in ${opts.output}` : ""}${count === 0 ? " (the library is empty)" : ""}\n`);
  });
};
