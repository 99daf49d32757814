/**
 * Hugging Face daily papers (huggingface.co/api/daily_papers?date=YYYY-MM-DD): a JSON array with
 * one item per paper featured that day; an empty array is a day without papers (weekends,
 * holidays), not an error.
 *
 *   [{
 *     "paper": {
 *       "id": "2608.15265",                         arXiv id → Paper.id (canonical)
 *       "title": "…", "summary": "…",               whitespace runs collapse to one space
 *       "authors": [{"_id": "…", "name": "Yansong Ning", "hidden": false}, …],
 *       "publishedAt": "2026-08-15T00:00:00.000Z",   → published (UTC day)
 *       "submittedOnDailyAt": "2026-08-18T00:00:00.000Z",   → trending.featuredOn (else the day asked for)
 *       "upvotes": 39,                               → trending.upvotes
 *       "githubRepo": "https://github.com/…",        → links.code
 *       "githubStars": 24,                           → trending.githubStars
 *       "projectPage": " https://…",                 → links.project (trimmed; a non-URL is dropped)
 *       "ai_keywords": ["multimodal agents", …],     → trending.keywords
 *       "ai_summary", "discussionId", "organization", "mediaUrls", …   (not used)
 *     },
 *     "numComments": 1,                              → trending.comments
 *     "publishedAt", "title", "summary", "thumbnail", "submittedBy", "organization", …  (item level)
 *   }]
 * Titles and the summary are read from `paper`, falling back to the item's own copies.
 *
 * The collected archive (daily-papers-<from>_<to>.jsonl.gz) holds one day per line:
 *   {"date": "2024-05-27", "response": [ …the API's array for that day… ]}
 * `readHfDailyArchive` streams it, a day at a time.
 *
 * Errors: a day is taken whole or not at all. Input that is not JSON, not an array, or has an
 * item that is not a paper (a string holding a Python dict, a missing id or title, a count that
 * is not a number) throws `SourceFormatError` naming the file, the line and the item; no paper of
 * that day is returned. In an archive, such a day is one error entry and the other days are read.
 */
import { analyseArxivRef } from "../arxiv-id.js";
import type { Paper, TrendingSignals } from "../types.js";
import { normaliseDate } from "./paper-record.js";
import { SourceFormatError, arxivLinks, collapse, httpUrlOrUndefined } from "./source-common.js";
import { fileTextChunks, readFileText } from "./source-file.js";
import { textLines } from "../../text-lines.js";
import { DEFAULT_LIMITS, limitNote, type InputLimits } from "../limits.js";

const FORMAT = "hf-daily";

export interface HfDailyOptions {
  /** Named in error messages. */
  file?: string;
  /** The day the response is for (YYYY-MM-DD): `featuredOn` of items that do not say. */
  date?: string;
  /** `Paper.source`; default "hf-daily". */
  source?: string;
  /** Line of the input the JSON starts on (archive lines); 1 by default. */
  line?: number;
  /** Archives: the longest line (one day) read; DEFAULT_LIMITS.maxRecordBytes when absent. */
  limits?: Readonly<InputLimits>;
}

type Obj = Record<string, unknown>;

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Thrown while validating one item; turned into a SourceFormatError naming the item. */
class ItemProblem extends Error {}

function problem(message: string): never {
  throw new ItemProblem(message);
}

function optCount(o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) problem(`"${where}${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") problem(`"${where}${key}" must be a string, got ${describeType(v)}`);
  return v;
}

function optDate(o: Obj, key: string, where: string): string | undefined {
  const s = optString(o, key, where);
  if (s === undefined || s.trim() === "") return undefined;
  const d = normaliseDate(s);
  if (!d) problem(`"${where}${key}" ${JSON.stringify(s)} is not a date`);
  return d;
}

/** One API item → Paper; throws ItemProblem saying what is wrong. */
function itemToPaper(item: unknown, opts: HfDailyOptions, source: string): Paper {
  if (typeof item === "string") {
    const pythonRepr = /^\s*\{\s*'/.test(item);
    problem(
      pythonRepr
        ? "is a string holding a Python dict (single quotes, True/False/None), not a JSON object: the day was saved with str() instead of json.dumps()"
        : `must be a JSON object, got a string ${JSON.stringify(item.slice(0, 60))}`,
    );
  }
  if (!isObj(item)) problem(`must be a JSON object, got ${describeType(item)}`);
  const paper = item.paper;
  if (!isObj(paper)) problem(paper === undefined ? `has no "paper" object` : `"paper" must be an object, got ${describeType(paper)}`);

  const rawId = optString(paper, "id", "paper.");
  if (!rawId || rawId.trim() === "") problem(`"paper.id" is missing`);
  const ref = analyseArxivRef(rawId);
  if (!ref.ok) problem(`"paper.id" ${JSON.stringify(rawId)} is not an arXiv id: ${ref.error}`);
  const id = ref.ref.id;

  const title = collapse(optString(paper, "title", "paper.") ?? optString(item, "title", "") ?? "");
  if (!title) problem(`paper ${id} has no title`);
  const abstract = collapse(optString(paper, "summary", "paper.") ?? optString(item, "summary", "") ?? "");

  const authorsValue = paper.authors ?? [];
  if (!Array.isArray(authorsValue)) problem(`"paper.authors" must be an array, got ${describeType(authorsValue)}`);
  const authors: string[] = [];
  authorsValue.forEach((a, i) => {
    const name = isObj(a) ? a.name : a;
    if (typeof name !== "string") problem(`"paper.authors[${i}]" must be {"name": string}, got ${describeType(a)}`);
    const n = collapse(name);
    if (n) authors.push(n);
  });

  const trending: TrendingSignals = {};
  const upvotes = optCount(paper, "upvotes", "paper.");
  const comments = optCount(item, "numComments", "");
  const stars = optCount(paper, "githubStars", "paper.");
  if (upvotes !== undefined) trending.upvotes = upvotes;
  if (comments !== undefined) trending.comments = comments;
  if (stars !== undefined) trending.githubStars = stars;
  const featuredOn = optDate(paper, "submittedOnDailyAt", "paper.") ?? opts.date;
  if (featuredOn) trending.featuredOn = featuredOn;
  const kw = paper.ai_keywords;
  if (kw !== undefined && kw !== null) {
    if (!Array.isArray(kw) || !kw.every((k) => typeof k === "string")) problem(`"paper.ai_keywords" must be an array of strings`);
    const keywords = [...new Set(kw.map((k) => collapse(k)).filter((k) => k !== ""))];
    if (keywords.length > 0) trending.keywords = keywords;
  }

  const out: Paper = { id, title, abstract, authors, categories: [], links: arxivLinks(id), source, trending };
  if (ref.ref.version !== undefined) out.version = ref.ref.version;
  const published = optDate(paper, "publishedAt", "paper.");
  if (published) out.published = published;
  const code = httpUrlOrUndefined(optString(paper, "githubRepo", "paper."));
  const project = httpUrlOrUndefined(optString(paper, "projectPage", "paper."));
  if (code) out.links.code = code;
  if (project) out.links.project = project;
  return out;
}

/** 1-based lines on which the elements of a top-level JSON array start (for messages). */
function arrayElementLines(text: string, firstLine: number): number[] {
  const lines: number[] = [];
  let line = firstLine;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character (never a newline in valid JSON)
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    if (expectElement && depth === 1 && c !== 93) {
      lines.push(line);
      expectElement = false;
    }
    if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth++;
      if (depth === 1 && c === 91) expectElement = true;
    } else if (c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 1) expectElement = true;
  }
  return lines;
}

/** One paper of a day, with the line its item starts on. */
export interface HfDailyEntry {
  line: number;
  paper: Paper;
}

function dayEntries(value: unknown, opts: HfDailyOptions, itemLines: readonly number[] | undefined): HfDailyEntry[] {
  const source = opts.source ?? "hf-daily";
  const line = opts.line ?? 1;
  const day = opts.date ? `day ${opts.date}: ` : "";
  if (!Array.isArray(value)) {
    throw new SourceFormatError(`${day}expected a JSON array of daily-paper items, got ${describeType(value)}`, FORMAT, opts.file, line);
  }
  const entries: HfDailyEntry[] = [];
  value.forEach((item, i) => {
    const at = itemLines?.[i] ?? line;
    try {
      entries.push({ line: at, paper: itemToPaper(item, opts, source) });
    } catch (err) {
      if (!(err instanceof ItemProblem)) throw err;
      throw new SourceFormatError(`${day}item ${i + 1} of ${value.length} ${err.message}; none of this day's papers were read`, FORMAT, opts.file, at);
    }
  });
  return entries;
}

/**
 * The papers of one day's API response, already parsed from JSON. Throws `SourceFormatError`
 * (naming the file and item) when the value or any item is not what the API returns.
 */
export function hfDailyPapers(value: unknown, opts: HfDailyOptions = {}): Paper[] {
  return dayEntries(value, opts, undefined).map((e) => e.paper);
}

/** `parseHfDaily` with the line each paper's item starts on. */
export function parseHfDailyEntries(text: string, opts: HfDailyOptions = {}): HfDailyEntry[] {
  const body = text.replace(/^\uFEFF/, "");
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    const what = body.trim() === "" ? "is empty" : `is not valid JSON (${(err as Error).message})`;
    throw new SourceFormatError(`${opts.date ? `day ${opts.date}: ` : ""}the response ${what}`, FORMAT, opts.file, opts.line ?? 1);
  }
  return dayEntries(value, opts, Array.isArray(value) ? arrayElementLines(body, opts.line ?? 1) : undefined);
}

/** Parses one day's response text. Throws `SourceFormatError` for text that is not a valid response. */
export function parseHfDaily(text: string, opts: HfDailyOptions = {}): Paper[] {
  return parseHfDailyEntries(text, opts).map((e) => e.paper);
}

const DATE_IN_NAME = /(\d{4}-\d{2}-\d{2})(?:\.json)?(?:\.gz)?$/i;

/** The day a saved file is for: `opts.date`, else a YYYY-MM-DD file name ("2026-08-18.json"). */
function dayOfFile(file: string, opts: HfDailyOptions): string | undefined {
  const date = opts.date ?? DATE_IN_NAME.exec(file)?.[1];
  return date && normaliseDate(date) ? date : undefined;
}

/**
 * Reads one saved day (a file holding the API's array, gzipped or not), with each paper's line.
 * The day is `opts.date`, else taken from a YYYY-MM-DD file name ("2026-08-18.json").
 */
export async function readHfDailyFileEntries(file: string, opts: HfDailyOptions = {}): Promise<HfDailyEntry[]> {
  const text = await readFileText(file);
  const date = dayOfFile(file, opts);
  return parseHfDailyEntries(text, { ...opts, file: opts.file ?? file, ...(date ? { date } : {}) });
}

/** Reads one saved day (see `readHfDailyFileEntries`). Throws `SourceFormatError` for a malformed day. */
export async function readHfDailyFile(file: string, opts: HfDailyOptions = {}): Promise<Paper[]> {
  return (await readHfDailyFileEntries(file, opts)).map((e) => e.paper);
}

/** One line of an archive: a day's papers, or why that day could not be read. */
export type HfDailyArchiveEntry =
  | { line: number; date: string; papers: Paper[]; error?: undefined }
  | { line: number; date?: string; papers?: undefined; error: SourceFormatError };

/**
 * Streams an archive of days, one JSON object `{"date", "response"}` per line (gzipped or not;
 * a path, or text chunks). A day that cannot be read is yielded as `{line, error}` and reading
 * goes on; a missing file or corrupt gzip throws `PaperFileError`.
 */
export async function* readHfDailyArchive(input: string | AsyncIterable<string>, opts: Omit<HfDailyOptions, "date" | "line"> = {}): AsyncGenerator<HfDailyArchiveEntry> {
  const file = opts.file ?? (typeof input === "string" ? input : undefined);
  const chunks = typeof input === "string" ? fileTextChunks(input) : input;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  for await (const { line, text, oversize } of textLines(chunks, limits.maxRecordBytes)) {
    if (oversize) {
      yield { line, error: new SourceFormatError(`the day's line is larger than the limit for one record, skipped unread ${limitNote("maxRecordBytes", limits, "bytes")}`, FORMAT, file, line) };
      continue;
    }
    if (text.trim() === "") continue;
    let day: unknown;
    try {
      day = JSON.parse(text);
    } catch (err) {
      yield { line, error: new SourceFormatError(`not valid JSON (${(err as Error).message})`, FORMAT, file, line) };
      continue;
    }
    const date = isObj(day) && typeof day.date === "string" ? normaliseDate(day.date) : undefined;
    if (!isObj(day) || !date || !("response" in day)) {
      yield { line, error: new SourceFormatError(`expected {"date": "YYYY-MM-DD", "response": [...]}, got ${describeType(day)}${isObj(day) ? ` with keys ${Object.keys(day).slice(0, 5).join(", ")}` : ""}`, FORMAT, file, line) };
      continue;
    }
    try {
      yield { line, date, papers: dayEntries(day.response, { ...opts, file, date, line }, undefined).map((e) => e.paper) };
    } catch (err) {
      if (!(err instanceof SourceFormatError)) throw err;
      yield { line, date, error: err };
    }
  }
}
