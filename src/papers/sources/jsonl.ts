/**
 * Papers from our generic JSON / JSONL files (`paperhound` ingest of local files).
 *
 * Files
 *   - JSON Lines (`.jsonl`, `.ndjson`): one JSON object per line; blank lines are skipped.
 *   - JSON (`.json`): an array of objects, or an object `{"papers": [...]}` (other keys ignored).
 *     A `.json` file whose first line is a whole object is read as JSON Lines (the Kaggle arXiv
 *     snapshot is named .json but is JSON Lines). Other names: JSON if it starts with "[" or a
 *     multi-line object, JSON Lines otherwise. `format` overrides all of this.
 *   - Either may be gzipped (detected from the magic bytes, not the name).
 *   Both are streamed: memory stays flat in the file size (one record at a time).
 *
 * Records become papers as src/papers/sources/paper-record.ts describes.
 *
 * Errors
 *   A record that is not a JSON object, lacks title or abstract, has a field of the wrong type,
 *   an invalid date, URL or DOI, or a line that is not JSON, is yielded as
 *   `{ line, error: { line, message } }` and reading goes on. A missing, unreadable or empty file,
 *   or a corrupt gzip stream, throws `PaperFileError` naming the file.
 *   A paper kept with a warning (a dropped category, text repaired from invalid UTF-8: bytes that
 *   are not UTF-8 are decoded to U+FFFD) carries `warnings` in its entry.
 */
import { constants as fsConstants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { pipeline, type Readable } from "node:stream";
import zlib from "node:zlib";
import type { Paper } from "../types.js";
import { DEFAULT_LIMITS, oversizeRecordMessage, type InputLimits } from "../limits.js";
import { describeGzipStreamError } from "./gzip-errors.js";
import { textLines } from "../../text-lines.js";
import { InvalidRecordError, readPaperRecord, type RecordOptions, type RecordWarning } from "./paper-record.js";
import { PaperhoundError } from "../../errors.js";

export class PaperFileError extends PaperhoundError {
  readonly identifier = "paper_file";
  override readonly name = "PaperFileError";
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

export interface PaperFileOptions extends RecordOptions {
  /** "auto" (default) decides from the name and the first line; see the top of this file. */
  format?: "auto" | "jsonl" | "json";
  /** Record size bound (maxRecordBytes, counted in characters of text); DEFAULT_LIMITS when absent. */
  limits?: Readonly<InputLimits>;
}

export interface PaperRecordError {
  /** 1-based line of the file (the line a JSON array element starts on). */
  line: number;
  message: string;
}

/** One record of a file: a paper (with warnings, if any), or why that record was not one. Narrow with `if (entry.paper)`. */
export type PaperFileEntry =
  | { line: number; paper: Paper; error?: undefined; warnings?: RecordWarning[] }
  | { line: number; paper?: undefined; error: PaperRecordError; warnings?: undefined };

// ---------------------------------------------------------------------------------------------
// Files

/** The longest first line looked at to tell JSON Lines from a JSON document. */
const SNIFF_LIMIT = 4 << 20;

/** Opens a paper file for reading; a missing, unreadable, directory or empty file → PaperFileError naming it. */
export async function openForReading(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, fsConstants.O_RDONLY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new PaperFileError(`cannot read ${file}: ${why}`, file);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new PaperFileError(`cannot read ${file}: it is a directory`, file);
    if (st.size === 0) throw new PaperFileError(`${file} is empty`, file);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** A failure while reading a paper file as the PaperFileError naming it (gzip damage in words). */
export function readError(file: string, gzip: boolean, err: unknown): PaperFileError {
  if (err instanceof PaperFileError) return err;
  const gzipProblem = gzip ? describeGzipStreamError(err) : undefined;
  if (gzipProblem) return new PaperFileError(`${file}: ${gzipProblem}`, file);
  return new PaperFileError(`cannot read ${file}: ${(err as Error).message}`, file);
}

async function openFile(file: string): Promise<{ handle: FileHandle; gzip: boolean }> {
  const handle = await openForReading(file);
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return { handle, gzip: bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Decoded text chunks of the file, gunzipped if needed; errors become PaperFileError. */
async function* textChunks(file: string): AsyncGenerator<string> {
  const { handle, gzip } = await openFile(file);
  const raw = handle.createReadStream({ start: 0, highWaterMark: 1 << 16 });
  let stream: Readable = raw;
  if (gzip) stream = pipeline(raw, zlib.createGunzip(), () => {});
  stream.setEncoding("utf8");
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (first) {
        first = false;
        yield chunk.replace(/^\uFEFF/, "");
      } else yield chunk;
    }
  } catch (err) {
    throw readError(file, gzip, err);
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

function entryFor(line: number, parse: () => unknown, opts: RecordOptions): PaperFileEntry {
  let value: unknown;
  try {
    value = parse();
  } catch (err) {
    return { line, error: { line, message: `not valid JSON (${(err as Error).message})` } };
  }
  try {
    const { paper, warnings } = readPaperRecord(value, opts);
    return warnings.length > 0 ? { line, paper, warnings } : { line, paper };
  } catch (err) {
    if (err instanceof InvalidRecordError) return { line, error: { line, message: err.message } };
    throw err;
  }
}

async function* jsonLines(chunks: AsyncIterable<string>, opts: PaperFileOptions): AsyncGenerator<PaperFileEntry> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  for await (const { line, text, oversize } of textLines(chunks, limits.maxRecordBytes)) {
    if (oversize) {
      yield { line, error: { line, message: oversizeRecordMessage(limits) } };
      continue;
    }
    const t = text.trim();
    if (t !== "") yield entryFor(line, () => JSON.parse(t), opts);
  }
}

interface JsonElement {
  text: string;
  line: number;
  /** The file ended inside this element. */
  cut?: boolean;
  /** Longer than the record limit: its text was dropped as it streamed by. */
  oversize?: boolean;
}

/**
 * Splits a JSON array (top level, or the "papers" array of a top-level object) into its element
 * texts as chunks arrive, without holding more than one element.
 */
class JsonArraySplitter {
  private line = 1;
  private phase: "start" | "object" | "array" | "after" = "start";
  private depth = 0;
  private targetDepth = 0;
  private inString = false;
  private escape = false;
  // top-level object: looking for the "papers" key
  private expectKey = false;
  private keyParts: string[] | undefined;
  private keyStart = 0;
  private lastKey: string | undefined;
  private awaitingValue = false;
  // current array element
  private inElem = false;
  private elemParts: string[] = [];
  private elemSize = 0;
  private elemOversize = false;
  private elemStart = 0;
  private elemLine = 0;

  constructor(
    private readonly file: string,
    private readonly maxElementChars = Number.POSITIVE_INFINITY,
  ) {}

  push(chunk: string): JsonElement[] {
    const out: JsonElement[] = [];
    this.elemStart = 0;
    this.keyStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inString) {
        if (c === "\n") this.line++;
        if (this.escape) this.escape = false;
        else if (c === "\\") this.escape = true;
        else if (c === '"') {
          this.inString = false;
          if (this.keyParts) {
            this.keyParts.push(chunk.slice(this.keyStart, i + 1));
            try {
              this.lastKey = JSON.parse(this.keyParts.join("")) as string;
            } catch {
              this.lastKey = undefined;
            }
            this.keyParts = undefined;
          }
        }
        continue;
      }
      if (c === "\n") this.line++;
      const ws = c === " " || c === "\n" || c === "\r" || c === "\t";
      switch (this.phase) {
        case "start":
          if (ws) continue;
          if (c === "[") {
            this.phase = "array";
            this.depth = this.targetDepth = 1;
          } else if (c === "{") {
            this.phase = "object";
            this.depth = 1;
            this.expectKey = true;
          } else {
            throw new PaperFileError(`${this.file}: line ${this.line}: expected a JSON array or object, found "${c}"`, this.file);
          }
          continue;
        case "after":
          continue;
        case "object":
          if (ws) continue;
          if (this.depth === 1) {
            if (this.awaitingValue) {
              this.awaitingValue = false;
              if (this.lastKey === "papers") {
                if (c !== "[") throw new PaperFileError(`${this.file}: line ${this.line}: "papers" must be an array`, this.file);
                this.phase = "array";
                this.depth = this.targetDepth = 2;
                continue;
              }
            } else if (c === '"' && this.expectKey) {
              this.inString = true;
              this.expectKey = false;
              this.keyParts = [];
              this.keyStart = i;
              continue;
            } else if (c === ":") {
              this.awaitingValue = true;
              continue;
            } else if (c === ",") {
              this.expectKey = true;
              continue;
            } else if (c === "}") {
              this.depth = 0;
              this.phase = "after";
              continue;
            }
          }
          this.track(c);
          continue;
        case "array":
          if (!this.inElem) {
            if (ws || c === ",") continue;
            if (c === "]" && this.depth === this.targetDepth) {
              this.end();
              continue;
            }
            this.inElem = true;
            this.elemParts = [];
            this.elemSize = 0;
            this.elemOversize = false;
            this.elemStart = i;
            this.elemLine = this.line;
          }
          if ((c === "," || c === "]" || c === "}") && this.depth === this.targetDepth) {
            this.keepElementText(chunk.slice(this.elemStart, i));
            out.push(this.elemOversize ? { text: "", line: this.elemLine, oversize: true } : { text: this.elemParts.join(""), line: this.elemLine });
            this.inElem = false;
            if (c !== ",") this.end();
            continue;
          }
          this.track(c);
          continue;
      }
    }
    if (this.inElem) this.keepElementText(chunk.slice(this.elemStart));
    if (this.keyParts) this.keyParts.push(chunk.slice(this.keyStart));
    return out;
  }

  /** At end of input: a last cut-off element, if any, and whether anything was wrong. */
  finish(): { elements: JsonElement[]; problem?: { line: number; message: string } } {
    if (this.phase === "start") throw new PaperFileError(`${this.file} is empty`, this.file);
    if (this.phase === "object" || (this.phase === "after" && this.targetDepth === 0)) {
      throw new PaperFileError(`${this.file}: a JSON object without a "papers" array (expected [...] or {"papers": [...]})`, this.file);
    }
    if (this.phase === "array") {
      const elements = this.inElem ? [{ text: this.elemOversize ? "" : this.elemParts.join(""), line: this.elemLine, cut: true }] : [];
      return { elements, problem: { line: this.line, message: "the file ends before the array is closed (cut short?)" } };
    }
    return { elements: [] };
  }

  /** Keeps a piece of the current element, unless the element is over the limit (then nothing more). */
  private keepElementText(piece: string): void {
    if (this.elemOversize) return;
    this.elemSize += piece.length;
    if (this.elemSize > this.maxElementChars) {
      this.elemOversize = true;
      this.elemParts = [];
    } else this.elemParts.push(piece);
  }

  private track(c: string): void {
    if (c === '"') this.inString = true;
    else if (c === "{" || c === "[") this.depth++;
    else if (c === "}" || c === "]") this.depth--;
  }

  private end(): void {
    this.depth = this.targetDepth - 1;
    this.phase = "after";
  }
}

async function* jsonDocument(file: string, chunks: AsyncIterable<string>, opts: PaperFileOptions): AsyncGenerator<PaperFileEntry> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const splitter = new JsonArraySplitter(file, limits.maxRecordBytes);
  const toEntry = (el: JsonElement): PaperFileEntry =>
    el.cut
      ? { line: el.line, error: { line: el.line, message: "record cut off: the file ends inside it" } }
      : el.oversize
        ? { line: el.line, error: { line: el.line, message: oversizeRecordMessage(limits) } }
        : entryFor(el.line, () => JSON.parse(el.text), opts);
  for await (const chunk of chunks) {
    for (const el of splitter.push(chunk)) yield toEntry(el);
  }
  const { elements, problem } = splitter.finish();
  for (const el of elements) yield toEntry(el);
  if (problem) yield { line: problem.line, error: problem };
}

/** Yields `head` and then the rest of `it`. */
async function* replay(head: string, it: AsyncIterator<string>): AsyncGenerator<string> {
  if (head) yield head;
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
}

function formatFromName(file: string): "jsonl" | "json" | undefined {
  const name = file.toLowerCase().replace(/\.(gz|gzip)$/, "");
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".json")) return "json";
  return undefined;
}

/** JSON Lines when the first line is a whole object (that is not a {"papers": [...]} wrapper). */
function sniff(head: string): "jsonl" | "json" {
  const t = head.trimStart();
  if (t.startsWith("[")) return "json";
  if (!t.startsWith("{")) return "jsonl";
  const nl = t.indexOf("\n");
  if (nl < 0 && t.length >= SNIFF_LIMIT) return "json";
  try {
    const first = JSON.parse(nl < 0 ? t : t.slice(0, nl)) as unknown;
    const wrapper = first && typeof first === "object" && Array.isArray((first as Record<string, unknown>).papers) && (first as Record<string, unknown>).title === undefined;
    return wrapper ? "json" : "jsonl";
  } catch {
    return "json";
  }
}

/**
 * Streams the papers of a JSON or JSON Lines file, gzipped or not: one entry per record, either
 * `{ line, paper }` or `{ line, error: { line, message } }` (the record is skipped, reading goes on).
 * Throws `PaperFileError` for a missing, unreadable or empty file or corrupt gzip data.
 * Stopping early (break) closes the file.
 */
export async function* readPaperFile(file: string, opts: PaperFileOptions = {}): AsyncGenerator<PaperFileEntry> {
  const it = textChunks(file)[Symbol.asyncIterator]();
  try {
    let format = opts.format && opts.format !== "auto" ? opts.format : formatFromName(file);
    let head = "";
    // Read far enough to see the first line (or the first non-blank character).
    for (;;) {
      if (format === "jsonl") break;
      const trimmed = head.trimStart();
      if (trimmed !== "" && (trimmed[0] !== "{" || trimmed.includes("\n") || trimmed.length >= SNIFF_LIMIT)) break;
      const r = await it.next();
      if (r.done) break;
      head += r.value;
    }
    if (format !== "jsonl" && head.trim() === "") {
      throw new PaperFileError(`${file} is empty`, file);
    }
    if (format === undefined || (format === "json" && head.trimStart().startsWith("{"))) format = sniff(head);
    const chunks = replay(head, it);
    let any = false;
    const body = format === "jsonl" ? jsonLines(chunks, opts) : jsonDocument(file, chunks, opts);
    for await (const entry of body) {
      any = true;
      yield entry;
    }
    if (!any && format === "jsonl") throw new PaperFileError(`${file} is empty (no records)`, file);
  } finally {
    await it.return?.(undefined);
  }
}

/** Reads a whole file into memory: the papers and the per-record errors. For small files. */
export async function loadPaperFile(file: string, opts: PaperFileOptions = {}): Promise<{ papers: Paper[]; errors: PaperRecordError[] }> {
  const papers: Paper[] = [];
  const errors: PaperRecordError[] = [];
  for await (const e of readPaperFile(file, opts)) {
    if (e.paper) papers.push(e.paper);
    else errors.push(e.error);
  }
  return { papers, errors };
}
