/**
 * Which parser a file needs, told from its content (the first bytes, gunzipped when gzipped),
 * and one reader over all of them with the entry shape of `readPaperFile`:
 *
 *   format            recognised by                                          parser
 *   arxiv-atom        XML whose root element is <feed>                       arxiv-atom.ts
 *   arxiv-rss         XML whose root element is <rss>                        arxiv-rss.ts
 *   oai-pmh           XML whose root element is <OAI-PMH>                    oai-pmh.ts
 *   hf-daily          a JSON array whose first item has a "paper" object     hf-daily.ts (one day)
 *                     (or is a string holding one: a malformed day)
 *   hf-daily-archive  JSON Lines starting {"date": "YYYY-MM-DD", "response":  hf-daily.ts (days)
 *   jsonl / json      any other JSON Lines / JSON (arrays, {"papers": [...]}) jsonl.ts
 *   listing           any other text                                         daily-listing.ts
 *   unknown           other XML roots, binary data, nothing readable
 */
import { readFile } from "node:fs/promises";
import type { Paper } from "../types.js";
import { ArxivApiError, ArxivAtomReader } from "./arxiv-atom.js";
import { ArxivRssReader, type AnnounceType } from "./arxiv-rss.js";
import { ListingParseError, parseDailyListingDetailed } from "./daily-listing.js";
import { readHfDailyArchive, readHfDailyFileEntries } from "./hf-daily.js";
import { PaperFileError, readPaperFile, type PaperRecordError } from "./jsonl.js";
import { type RecordOptions, type RecordWarning } from "./paper-record.js";
import { OaiPmhError, readOaiPmh, type OaiDeletedRecord, type OaiEnd } from "./oai-pmh.js";
import { SourceFormatError } from "./source-common.js";
import { DEFAULT_LIMITS, paperSizeProblem, type InputLimits } from "../limits.js";
import { decodeHead, explainGzipHead, fileTextChunks, isGzip, readFileHead } from "./source-file.js";

/** How much of a file auto-detection reads (64 KB is plenty; see detectFormat). */
const HEAD_BYTES = 64 * 1024;

export const PAPER_FILE_FORMATS = ["jsonl", "json", "listing", "arxiv-atom", "arxiv-rss", "oai-pmh", "hf-daily", "hf-daily-archive"] as const;
export type PaperFileFormat = (typeof PAPER_FILE_FORMATS)[number];
export type DetectedFormat = PaperFileFormat | "unknown";

/** The root element's name of an XML text (prefix kept), skipping the prolog; undefined if none is found. */
function xmlRootName(text: string): string | undefined {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i);
      if (end < 0) return undefined;
      i = end + 2;
    } else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i);
      if (end < 0) return undefined;
      i = end + 3;
    } else if (text.startsWith("<!", i)) {
      // DOCTYPE (an internal subset in [...] is not expected in feeds)
      const end = text.indexOf(">", i);
      if (end < 0) return undefined;
      i = end + 1;
    } else break;
  }
  const m = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 200));
  return m?.[1];
}

const HF_ITEM = /^\[\s*(?:\{[\s\S]*?"paper"\s*:\s*\{|"\{\s*'paper'\s*:)/;
const HF_ARCHIVE_LINE = /^\{\s*"date"\s*:\s*"\d{4}-\d{2}-\d{2}"\s*,\s*"response"\s*:/;

/**
 * The format of a file from its first bytes (64 KB is plenty; gzipped heads are gunzipped as far
 * as they go). Never throws.
 */
export function detectFormat(head: Buffer): DetectedFormat {
  const bytes = isGzip(head) ? decodeHead(head) : head;
  // A NUL byte or other control characters: not text (or corrupt gzip).
  if (bytes.length === 0 || bytes.subarray(0, 4096).some((b) => b === 0)) return "unknown";
  const text = bytes.toString("utf8").replace(/^\uFEFF/, "").trimStart();
  if (text === "") return "unknown";
  const first = text[0];
  if (first === "<") {
    const root = xmlRootName(text);
    const local = root?.slice(root.indexOf(":") + 1);
    if (local === "feed") return "arxiv-atom";
    if (local === "rss") return "arxiv-rss";
    if (local === "OAI-PMH") return "oai-pmh";
    return "unknown";
  }
  if (first === "[") {
    // Only the first item matters: look no further than its first 16 KB.
    return HF_ITEM.test(text.slice(0, 16_384)) ? "hf-daily" : "json";
  }
  if (first === "{") {
    if (HF_ARCHIVE_LINE.test(text)) return "hf-daily-archive";
    const nl = text.indexOf("\n");
    // One long line without end in the head: JSON Lines (a pretty-printed object breaks early).
    if (nl < 0) return "jsonl";
    try {
      const value = JSON.parse(text.slice(0, nl)) as unknown;
      const wrapper = value !== null && typeof value === "object" && Array.isArray((value as { papers?: unknown }).papers);
      return wrapper ? "json" : "jsonl";
    } catch {
      return "json";
    }
  }
  return "listing";
}

/** `detectFormat` of a file's first 64 KB. Missing, unreadable or empty files throw `PaperFileError`. */
export async function detectFileFormat(file: string): Promise<DetectedFormat> {
  return detectFormat(await readFileHead(file));
}

/**
 * One record of a file: a paper (with the RSS announce type when there is one, and the warnings of
 * a JSON / JSON Lines record kept with a warning: see paper-record.ts) or why it is not one.
 */
export type SourceFileEntry =
  | { line: number; paper: Paper; error?: undefined; announceType?: AnnounceType; warnings?: RecordWarning[] }
  | { line: number; paper?: undefined; error: PaperRecordError; warnings?: undefined };

/** `source` overrides every parser's default `Paper.source`; `namespace` applies to JSON / JSONL ids (see jsonl.ts). */
export interface ReadPapersOptions extends RecordOptions {
  /** "auto" (default): `detectFileFormat`. */
  format?: "auto" | PaperFileFormat;
  /** `Paper.source` and id namespace of listing pages; default "listing". */
  listingSource?: string;
  /** Called for each OAI-PMH deleted-record marker (they are not papers, so not yielded). */
  onDeleted?: (record: OaiDeletedRecord) => void;
  /** Called with the end of an OAI-PMH response (resumption token, counts). */
  onOaiEnd?: (end: OaiEnd) => void;
  /** Size limits of records and their texts; DEFAULT_LIMITS when absent. */
  limits?: Readonly<InputLimits>;
}

function fileError(file: string, err: Error): PaperFileError {
  const message = err.message.includes(file) ? err.message : `${file}: ${err.message}`;
  const out = new PaperFileError(message, file);
  (out as { cause?: unknown }).cause = err;
  return out;
}

/** Per-record errors carry no file or line in their message: the caller prints "file:line: message". */
function recordError(line: number, message: string): SourceFileEntry {
  return { line, error: { line, message } };
}

async function* xmlEntries(file: string, format: "arxiv-atom" | "arxiv-rss", source: string | undefined, limits: Readonly<InputLimits> | undefined): AsyncGenerator<SourceFileEntry> {
  const readerOpts = { file, ...(source === undefined ? {} : { source }), ...(limits ? { limits } : {}) };
  if (format === "arxiv-atom") {
    const reader = new ArxivAtomReader(readerOpts);
    let done = 0;
    let failed = 0;
    for await (const chunk of fileTextChunks(file)) {
      const r = reader.push(chunk);
      for (const e of r.entries) yield { line: e.line, paper: e.paper };
      for (const e of r.errors) yield recordError(e.line, e.message);
      done += r.entries.length;
      failed += r.errors.length;
    }
    // Whatever completed only when the input ended.
    const feed = reader.finish();
    for (const e of feed.entries.slice(done)) yield { line: e.line, paper: e.paper };
    for (const e of feed.errors.slice(failed)) yield recordError(e.line, e.message);
  } else {
    const reader = new ArxivRssReader(readerOpts);
    let done = 0;
    let failed = 0;
    for await (const chunk of fileTextChunks(file)) {
      const r = reader.push(chunk);
      for (const e of r.items) yield { line: e.line, paper: e.paper, announceType: e.announceType };
      for (const e of r.errors) yield recordError(e.line, e.message);
      done += r.items.length;
      failed += r.errors.length;
    }
    const feed = reader.finish();
    for (const e of feed.items.slice(done)) yield { line: e.line, paper: e.paper, announceType: e.announceType };
    for (const e of feed.errors.slice(failed)) yield recordError(e.line, e.message);
  }
}

async function* formatEntries(file: string, format: PaperFileFormat, opts: ReadPapersOptions, auto: boolean): AsyncGenerator<SourceFileEntry> {
  switch (format) {
    case "json":
    case "jsonl": {
      const { source, namespace } = opts;
      const recordOpts: RecordOptions = {};
      if (source !== undefined) recordOpts.source = source;
      if (namespace !== undefined) recordOpts.namespace = namespace;
      // Auto-detected JSON keeps readPaperFile's own sniffing (file names, {"papers": [...]} wrappers).
      yield* readPaperFile(file, { ...recordOpts, format: auto ? "auto" : format, ...(opts.limits ? { limits: opts.limits } : {}) });
      return;
    }
    case "listing": {
      const { papers } = parseDailyListingDetailed(await readFile(file, "utf8"), { source: opts.listingSource ?? "listing" });
      // A listing page has no line per paper: 0 stands for "the page".
      for (const paper of papers) yield { line: 0, paper };
      return;
    }
    case "arxiv-atom":
    case "arxiv-rss":
      yield* xmlEntries(file, format, opts.source, opts.limits);
      return;
    case "oai-pmh":
      for await (const item of readOaiPmh(fileTextChunks(file), { file, ...(opts.source === undefined ? {} : { source: opts.source }), ...(opts.limits ? { limits: opts.limits } : {}) })) {
        if (item.kind === "record") yield { line: item.line, paper: item.paper };
        else if (item.kind === "invalid") yield recordError(item.line, item.message);
        else if (item.kind === "deleted") opts.onDeleted?.(item);
        else opts.onOaiEnd?.(item);
      }
      return;
    case "hf-daily":
      for (const e of await readHfDailyFileEntries(file, opts.source === undefined ? {} : { source: opts.source })) yield e;
      return;
    case "hf-daily-archive":
      for await (const day of readHfDailyArchive(file, { ...(opts.source === undefined ? {} : { source: opts.source }), ...(opts.limits ? { limits: opts.limits } : {}) })) {
        if (day.papers) for (const paper of day.papers) yield { line: day.line, paper };
        else yield recordError(day.line, day.error.detail);
      }
      return;
  }
}

/**
 * Streams the papers of a file in any supported format (gzipped or not), detected from its
 * content unless `opts.format` says: one `{line, paper}` per paper (RSS items add
 * `announceType`), one `{line, error}` per record that is not a paper (reading goes on).
 * A file that cannot be read at all (missing, empty, corrupt gzip, not the format, an arXiv API
 * error feed, an OAI-PMH error, a malformed Hugging Face day, a listing with no papers) throws
 * `PaperFileError` naming the file; the original error is its `cause`. Stopping early closes the file.
 */
export async function* readPapersFromFile(file: string, opts: ReadPapersOptions = {}): AsyncGenerator<SourceFileEntry> {
  const auto = opts.format === undefined || opts.format === "auto";
  let format: DetectedFormat;
  if (auto) {
    const head = await readFileHead(file, HEAD_BYTES);
    format = detectFormat(head);
    if (format === "unknown" && isGzip(head)) throw new PaperFileError(`${file}: ${explainGzipHead(head, head.length < HEAD_BYTES)}`, file);
  } else format = opts.format as PaperFileFormat;
  if (format === "unknown") {
    throw new PaperFileError(
      `${file}: cannot tell the format from its content (not JSON, JSON Lines, an arXiv Atom/RSS feed, an OAI-PMH response or text); give --format (${PAPER_FILE_FORMATS.join(", ")})`,
      file,
    );
  }
  const limits = opts.limits ?? DEFAULT_LIMITS;
  try {
    // Every format's papers pass one size check: a 50 MB abstract is refused here, whatever carried it.
    for await (const entry of formatEntries(file, format, opts, auto)) {
      const tooLarge = entry.paper && paperSizeProblem(entry.paper, limits);
      yield tooLarge ? recordError(entry.line, tooLarge) : entry;
    }
  } catch (err) {
    if (err instanceof PaperFileError) throw err;
    if (err instanceof SourceFormatError || err instanceof ArxivApiError || err instanceof OaiPmhError || err instanceof ListingParseError) {
      throw fileError(file, err);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) throw fileError(file, err as Error);
    throw err;
  }
}
