/**
 * `paperhound index <file...>`: adds papers from files in any format `readPapersFromFile` reads
 * (JSON / JSON Lines, listing pages, saved arXiv API / RSS / OAI-PMH responses, Hugging Face daily
 * papers days and archives; gzipped or not) to the index, embedding only papers that are new or
 * whose title or abstract changed. A saved API response indexes the same as a live fetch
 * (`paperhound ingest`): both go through the same parsers.
 */
import { Option } from "commander";
import { PAPER_FILE_FORMATS, readPapersFromFile, type PaperFileFormat } from "../papers/sources/detect-format.js";
import { PaperFileError } from "../papers/sources/jsonl.js";
import { checkInputFile } from "../papers/sources/source-file.js";
import type { RecordWarning } from "../papers/sources/paper-record.js";
import { limitsFrom } from "../papers/limits.js";
import type { Paper } from "../papers/types.js";
import { formatDuration, createProgress, type Progress } from "../progress.js";
import { bm25NotSavedNote, PaperIndex, type IndexProgress } from "../search/paper-index.js";
import { openDrySink } from "../ingest/sinks.js";
import { InputError, type AppContext } from "../app/context.js";
import { type RegisterCommand } from "./context.js";
import { explainIndexError, indexLocation, openEmbedder, paperCount, storeFileOf, writerOpenOptions, type IndexLocation, type IndexOption } from "../app/open-index.js";
import { addIndexOption } from "./search-common.js";

const FORMATS = ["auto", ...PAPER_FILE_FORMATS] as const;
type Format = "auto" | PaperFileFormat;

/** Per-record errors printed in full; the rest are counted. */
export const MAX_ERRORS_SHOWN = 20;
/** `Paper.source` and id namespace of papers read from listing pages ("listing:<slug of title>"). */
export const LISTING_SOURCE = "listing";

interface IndexOptions extends IndexOption {
  format: Format;
  dryRun?: boolean;
}

export const registerIndex: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command("index")
    .description("add papers from files to the index: JSON, JSON Lines, listing pages, saved arXiv/OAI-PMH/Hugging Face responses (optionally gzipped)")
    .argument("<file...>", "paper files")
    .addOption(
      new Option("--format <format>", "file format; auto: told from the content (XML root, JSON shape, else a listing page)")
        .choices(FORMATS)
        .default("auto"),
    )
    .option("--dry-run", "read the files and say what would change, without writing anything");
  addIndexOption(cmd).action(async (files: string[], opts: IndexOptions) => {
    const loc = indexLocation(ctx, opts);
    await checkReadable(files);
    const started = performance.now();
    const reader = new PaperReader(ctx, files, opts.format);
    if (opts.dryRun) {
      await dryRun(ctx, reader, loc);
    } else {
      // A damaged store is reported before the model loads (and is never written to).
      try {
        paperCount(storeFileOf(loc.dir));
      } catch (err) {
        throw explainIndexError(err, loc);
      }
      const embedder = await openEmbedder(ctx);
      let index: PaperIndex;
      try {
        index = await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) });
      } catch (err) {
        await embedder.dispose();
        throw explainIndexError(err, loc);
      }
      try {
        const report = await index.add(reader.papers(), reader.onProgress);
        reader.finishProgress();
        const seconds = (performance.now() - started) / 1000;
        ctx.stdout.write(
          `indexed ${loc.dir}: read ${report.read}, added ${report.added}, updated ${report.updated}, unchanged ${report.unchanged}, ` +
            `embedded ${report.embedded}, passages ${report.passages}, errors ${reader.errorCount}${warningNote(reader)}${deletedNote(reader)}, time ${formatDuration(seconds)}\n`,
        );
        if (report.bm25NotSaved) ctx.stderr.write(`warning: ${bm25NotSavedNote(report.bm25NotSaved)}\n`);
      } finally {
        reader.finishProgress();
        index.close();
        await embedder.dispose();
      }
    }
    reader.reportErrorTotal();
    if (reader.fileErrors.length > 0) {
      const n = reader.fileErrors.length;
      const rest = n === files.length ? "" : opts.dryRun ? " (the other files were read)" : " (the papers of the other files were indexed)";
      throw new InputError(`${n} of ${files.length} file(s) could not be read${rest}: ${reader.fileErrors.join("; ")}`);
    }
    if (reader.errorCount > 0 && reader.paperCount === 0) {
      throw new InputError(`all ${reader.errorCount} record(s) had errors (see above); no paper was ${opts.dryRun ? "read" : "indexed"}`);
    }
  });
};

/** Every file must exist and be readable before anything is written; names every one that is not. */
async function checkReadable(files: readonly string[]): Promise<void> {
  const problems = (await Promise.all(files.map(checkInputFile))).filter((r): r is string => typeof r === "string");
  if (problems.length > 0) throw new InputError(`${problems.join("; ")}; nothing was indexed`);
}

/** Streams papers from all files; prints per-record errors; records files that cannot be read. */
class PaperReader {
  errorCount = 0;
  /** Papers read without errors. */
  paperCount = 0;
  /** Papers kept with warnings (a dropped category, text repaired from invalid UTF-8). */
  warningCount = 0;
  /** Of those, papers whose text was repaired from invalid UTF-8. */
  repairedCount = 0;
  /** OAI-PMH deleted-record markers met (not papers: skipped). */
  deletedCount = 0;
  readonly fileErrors: string[] = [];
  private progress: Progress | undefined;
  private phase: IndexProgress["phase"] | undefined;
  /** When the files were read to the end: embedding starts right after. */
  private readEndedAt: number | undefined;
  private readStartedAt: number | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly files: readonly string[],
    private readonly format: Format,
  ) {}

  private say(line: string): void {
    if (this.progress) this.progress.log(line);
    else this.ctx.stderr.write(`${line}\n`);
  }

  private recordError(file: string, line: number, message: string): void {
    this.errorCount += 1;
    if (this.errorCount <= MAX_ERRORS_SHOWN) this.say(`${file}:${line}: ${message}`);
  }

  private recordWarnings(file: string, line: number, warnings: readonly RecordWarning[]): void {
    this.warningCount += 1;
    if (warnings.some((w) => w.kind === "invalid-utf8")) this.repairedCount += 1;
    if (this.warningCount <= MAX_ERRORS_SHOWN) for (const w of warnings) this.say(`${file}:${line}: warning: ${w.message} (paper kept)`);
  }

  reportErrorTotal(): void {
    if (this.errorCount > MAX_ERRORS_SHOWN) {
      this.ctx.stderr.write(`... and ${this.errorCount - MAX_ERRORS_SHOWN} more record errors (${this.errorCount} in all; those records were skipped)\n`);
    }
    if (this.warningCount > MAX_ERRORS_SHOWN) {
      this.ctx.stderr.write(`... and ${this.warningCount - MAX_ERRORS_SHOWN} more papers kept with warnings (${this.warningCount} in all)\n`);
    }
    if (this.repairedCount > 0) {
      this.ctx.stderr.write(`${this.repairedCount} record(s) had invalid UTF-8, repaired as U+FFFD; a stored title or abstract without them is kept\n`);
    }
  }

  async *papers(): AsyncGenerator<Paper> {
    this.readStartedAt = performance.now();
    for (const file of this.files) {
      try {
        const entries = readPapersFromFile(file, {
          format: this.format,
          listingSource: LISTING_SOURCE,
          limits: limitsFrom(this.ctx.config()),
          onDeleted: () => {
            this.deletedCount += 1;
          },
        });
        for await (const entry of entries) {
          if (entry.paper) {
            this.paperCount += 1;
            if (entry.warnings) this.recordWarnings(file, entry.line, entry.warnings);
            yield entry.paper;
          } else this.recordError(file, entry.error.line, entry.error.message);
        }
      } catch (err) {
        if (err instanceof PaperFileError || /^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code))) {
          const message = (err as Error).message;
          const named = message.includes(file) ? message : `${file}: ${message}`;
          // Reported once, after the summary (main prints it as the command's error).
          this.fileErrors.push(named);
          continue;
        }
        throw err;
      }
    }
    this.readEndedAt = performance.now();
  }

  readonly onProgress = (p: IndexProgress): void => {
    if (p.phase !== this.phase) {
      this.progress?.finish();
      this.phase = p.phase;
      this.progress =
        p.phase === "embed"
          ? createProgress({ label: "embedding", total: p.total, unit: "papers", stream: this.ctx.stderr, now: clockFrom(this.readEndedAt) })
          : createProgress({ label: "reading", unit: "papers", stream: this.ctx.stderr, now: clockFrom(this.readStartedAt) });
    }
    this.progress!.update(p.done);
  };

  finishProgress(): void {
    this.progress?.finish();
    this.progress = undefined;
  }
}

/**
 * The first event of a phase comes after its first chunk is done; the bar's clock starts when the
 * phase did instead, so rates and times cover the whole phase.
 */
function clockFrom(start: number | undefined): () => number {
  let first = start !== undefined;
  return () => {
    if (first) {
      first = false;
      return start!;
    }
    return performance.now();
  };
}

/** ", warnings N" when papers were kept with warnings. */
function warningNote(reader: PaperReader): string {
  return reader.warningCount > 0 ? `, warnings ${reader.warningCount}` : "";
}

/** ", deleted N (skipped)" when OAI-PMH files held deleted-record markers. */
function deletedNote(reader: PaperReader): string {
  return reader.deletedCount > 0 ? `, deleted ${reader.deletedCount} (skipped)` : "";
}

/** Reads every file and compares with the store (read-only): new, changed and unchanged ids. */
async function dryRun(ctx: AppContext, reader: PaperReader, loc: IndexLocation): Promise<void> {
  const sink = openDrySink(loc);
  try {
    let read = 0;
    const totals = { added: 0, updated: 0, unchanged: 0, embedded: 0 };
    for await (const paper of reader.papers()) {
      read += 1;
      const r = await sink.add([paper]);
      totals.added += r.added;
      totals.updated += r.updated;
      totals.unchanged += r.unchanged;
      totals.embedded += r.embedded;
    }
    ctx.stdout.write(
      `dry run for ${loc.dir}: read ${read}, new ${totals.added}, known ${totals.updated + totals.unchanged} (${totals.embedded - totals.added} with a changed title or abstract, to be re-embedded), ` +
        `errors ${reader.errorCount}${warningNote(reader)}${deletedNote(reader)}; nothing was written\n`,
    );
  } finally {
    await sink.close();
  }
}
