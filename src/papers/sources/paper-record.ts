/**
 * One record of a paper file (a JSON object) → a Paper: field aliases, ids, dates, links, authors,
 * categories and versions read the same way for every file format that carries such records.
 *
 * Record (the format of ../shared/data/arxiv/papers-140k.jsonl.gz, plus common variants)
 *   {
 *     "id":               "2401.00631v3" | "arXiv:2401.00631" | an arXiv URL | "scifact:4983" | "10.1000/x" | 4983,
 *     "title":            string, required (whitespace runs collapse to one space),
 *     "abstract":         string, required (trimmed; aliases "summary", "text"),
 *     "authors":          ["Ada Lovelace", ...] | [{"name": "Ada Lovelace"}, ...] | "A. Lovelace, C. Babbage and G. Boole"
 *                         (LaTeX accents as Unicode: "Bal\'azs" → "Balázs", latex-text.ts),
 *     "categories":       ["cs.LG", "stat.ML"] | "cs.LG stat.ML",
 *     "primary_category": "cs.LG"                (put first in categories; alias "primary"),
 *     "published":        "2024-01-01" | "2024-01-01T18:59:59Z" | "Mon, 1 Jan 2024 18:59:59 GMT"  (alias "date"),
 *     "updated":          same forms             (alias "update_date"),
 *     "url":              "https://..."          (the paper's page: links.abs; a PDF or code URL goes to pdf/code),
 *     "pdf_url", "code_url", "project_url": "https://...",
 *     "links":            {"abs","pdf","code","project"} | ["https://...", {"href": "...", "title": "pdf"}, ...],
 *     "version":          3 | "v3",
 *     "versions":         [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]  (Kaggle snapshot),
 *     "doi":              "10.1000/xyz" | "https://doi.org/10.1000/xyz"  (several, space-separated: the first),
 *     "comment":          string                 (alias "comments"),
 *     "upvotes":          non-negative integer   (trending.upvotes),
 *     "source":           string                 (namespace of non-arXiv ids when it is a plain word)
 *   }
 *   Unknown fields are ignored; null means absent.
 *
 * Ids
 *   An arXiv id in any form `parseArxivRef` reads becomes the bare id ("2401.00631v3" → id
 *   "2401.00631", version 3; "arxiv_id" is read before "id"), with abs and pdf links filled in.
 *   A broken arXiv id ("2413.00001") is an error. A DOI becomes "doi:<doi>"; an id that already
 *   has a namespace ("scifact:4983") is kept; any other id becomes "<namespace>:<id>", the
 *   namespace being `opts.namespace`, else the record's "source" if it is a plain word, else
 *   "local". A record without any id gets "<namespace>:<slug of title>".
 *   `version` is the highest of the id's, "version" and "versions".
 *
 * Text
 *   Control characters (C0 but tab and line ends, DEL, C1) are removed from title, abstract,
 *   authors and comment. A title or abstract with nothing visible left (only zero-width, format,
 *   control or space characters) is an error, like a missing one.
 *
 * Warnings (the paper is kept; `readPaperRecord` returns them)
 *   - category: entries of "categories" / "primary_category" that are not arXiv categories
 *     (syntax of checks.ts, an archive arXiv has or had) are dropped. MSC and ACM class codes
 *     ("68T50", "I.2.7"), which arXiv's API and dumps list among categories, are dropped silently.
 *     Categories are written as arXiv does ("CS.lg" → "cs.LG").
 *   - invalid-utf8: title, abstract, authors or comment hold U+FFFD, what a decoder leaves for
 *     bytes that were not UTF-8 (jsonl.ts decodes that way). The store never lets such a title or
 *     abstract replace one with fewer (src/search/store/rows.ts).
 */
import { analyseArxivRef, arxivAbsUrl, arxivPdfUrl } from "../arxiv-id.js";
import { isArxivCategory, normaliseCategory } from "../checks.js";
import type { Paper, PaperLinks } from "../types.js";
import { isArxivArchive } from "./arxiv-categories.js";
import { slugify } from "./daily-listing.js";
import { collapse, hasVisibleText, stripControlChars } from "./source-common.js";
import { latexToUnicode } from "../latex-text.js";
import { PaperhoundError } from "../../errors.js";

/** A record that cannot become a Paper; `message` names the field and the problem. */
export class InvalidRecordError extends PaperhoundError {
  readonly identifier = "invalid_record";
  override readonly name = "InvalidRecordError";
}

/** What reading a record dropped or found damaged while keeping the paper (see the top of this file). */
export interface RecordWarning {
  kind: "category" | "invalid-utf8";
  message: string;
}

export interface RecordResult {
  paper: Paper;
  /** Empty when nothing was wrong. */
  warnings: RecordWarning[];
}

export interface RecordOptions {
  /** `Paper.source` of every paper; default "jsonl". */
  source?: string;
  /** Namespace of non-arXiv ids; default the record's "source" when it is a plain word, else "local". */
  namespace?: string;
}

type Obj = Record<string, unknown>;

const PLAIN_WORD = /^[a-z0-9][a-z0-9_.-]*$/i;
const DOI = /^10\.\d{4,9}\/\S+$/;
const NAMESPACED = /^[a-z][a-z0-9_.-]*:(?!\/\/)\S/i;

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function fail(message: string): never {
  throw new InvalidRecordError(message);
}

/** The first of `keys` present (not null/undefined) as [key, value]. */
function pick(o: Obj, ...keys: string[]): [string, unknown] | undefined {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return [k, o[k]];
  return undefined;
}

/** An optional string field: absent, null or blank → undefined; another type → error. */
function optString(o: Obj, ...keys: string[]): [string, string] | undefined {
  const f = pick(o, ...keys);
  if (!f) return undefined;
  const [k, v] = f;
  if (typeof v !== "string") fail(`"${k}" must be a string, got ${describeType(v)}`);
  const t = v.trim();
  return t === "" ? undefined : [k, t];
}

/** A required title or abstract, trimmed and without control characters; there must be something visible. */
function requiredText(o: Obj, ...keys: string[]): string {
  const f = pick(o, ...keys);
  if (!f) fail(`"${keys[0]}" is missing`);
  const [k, v] = f;
  if (typeof v !== "string") fail(`"${k}" must be a string, got ${describeType(v)}`);
  if (v.trim() === "") fail(`"${k}" is empty`);
  const text = stripControlChars(v).trim();
  if (!hasVisibleText(text)) fail(`"${k}" has no visible characters (only invisible or control characters)`);
  return text;
}

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

function validYmd(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Offset like "+05:30", "-0800", "Z", "GMT" → minutes east of UTC. */
function offsetMinutes(tz: string | undefined): number | undefined {
  if (tz === undefined) return undefined;
  if (/^(z|gmt|utc?)$/i.test(tz)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (!m) return undefined;
  const mins = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -mins : mins;
}

/**
 * YYYY-MM-DD from "YYYY-MM-DD", an ISO 8601 timestamp, or an RFC 2822 date. A timestamp with
 * a zone gives its UTC date; without one, the date as written. Undefined when not a valid date.
 */
export function normaliseDate(s: string): string | undefined {
  const t = s.trim();
  let y: number, mo: number, d: number, h = 0, mi = 0, sec = 0;
  let tz: string | undefined;
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(t);
  if (m) {
    [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (m[4] !== undefined) [h, mi, sec, tz] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0), m[7]];
  } else {
    m = /^(?:[a-z]{3},?\s+)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?(?:\s*(gmt|utc?|z|[+-]\d{4}))?)?$/i.exec(t);
    if (!m) return undefined;
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month === undefined) return undefined;
    [y, mo, d] = [Number(m[3]), month, Number(m[1])];
    if (m[4] !== undefined) [h, mi, sec, tz] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0), m[7]];
  }
  if (!validYmd(y, mo, d) || h > 23 || mi > 59 || sec > 60) return undefined;
  const off = offsetMinutes(tz);
  if (tz !== undefined && off === undefined) return undefined;
  if (!off) return `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  const utc = new Date(Date.UTC(y, mo - 1, d, h, mi - off));
  return `${pad(utc.getUTCFullYear(), 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}`;
}

function dateField(o: Obj, ...keys: string[]): string | undefined {
  const f = optString(o, ...keys);
  if (!f) return undefined;
  const date = normaliseDate(f[1]);
  if (!date) fail(`"${f[0]}" ${JSON.stringify(f[1].slice(0, 60))} is not a valid date (expected YYYY-MM-DD or an ISO 8601 timestamp)`);
  return date;
}

function httpUrl(key: string, v: unknown): string {
  if (typeof v !== "string") fail(`"${key}" must be a URL string, got ${describeType(v)}`);
  const t = v.trim();
  try {
    const u = new URL(t);
    if (u.protocol === "http:" || u.protocol === "https:") return t;
  } catch {
    // fall through
  }
  fail(`"${key}" ${JSON.stringify(t.slice(0, 80))} is not an http(s) URL`);
}

const CODE_HOSTS = /^(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co\/spaces|codeberg\.org)$/i;

/** Which link a bare URL is: pdf, code, or the paper's page. */
function classifyUrl(url: string, hint?: string): keyof PaperLinks {
  if (hint && /pdf/i.test(hint)) return "pdf";
  const u = new URL(url);
  if (/\.pdf$/i.test(u.pathname) || (/(^|\.)arxiv\.org$/i.test(u.hostname) && u.pathname.startsWith("/pdf/"))) return "pdf";
  if (CODE_HOSTS.test(u.hostname)) return "code";
  return "abs";
}

function readLinks(o: Obj): PaperLinks {
  const links: PaperLinks = {};
  const set = (k: keyof PaperLinks, url: string) => {
    if (links[k] === undefined) links[k] = url;
  };
  const l = pick(o, "links");
  if (l) {
    const [, v] = l;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (typeof item === "string") {
          const url = httpUrl(`links[${i}]`, item);
          set(classifyUrl(url), url);
        } else if (item && typeof item === "object" && !Array.isArray(item) && "href" in item) {
          const it = item as Obj;
          const url = httpUrl(`links[${i}].href`, it.href);
          const hint = [it.title, it.type, it.rel].filter((x) => typeof x === "string").join(" ");
          set(classifyUrl(url, hint), url);
        } else {
          fail(`"links[${i}]" must be a URL or {"href": URL}, got ${describeType(item)}`);
        }
      });
    } else if (typeof v === "object") {
      const lo = v as Obj;
      for (const k of ["abs", "pdf", "code", "project"] as const) {
        if (lo[k] !== undefined && lo[k] !== null) set(k, httpUrl(`links.${k}`, lo[k]));
      }
    } else {
      fail(`"links" must be an object or an array, got ${describeType(v)}`);
    }
  }
  const url = pick(o, "url");
  if (url) {
    const u = httpUrl("url", url[1]);
    set(classifyUrl(u), u);
  }
  for (const [key, k] of [["pdf_url", "pdf"], ["code_url", "code"], ["project_url", "project"]] as const) {
    const f = pick(o, key);
    if (f) set(k, httpUrl(key, f[1]));
  }
  return links;
}

const NAME_SUFFIX = /^(?:jr|sr|ii|iii|iv)\.?$/i;

/**
 * "A. Lovelace, C. Babbage and G. Boole" → three names. Semicolons, when present, are the only
 * separator ("Lovelace, Ada; Babbage, Charles"); "M. L. King, Jr." stays one name; "et al." is dropped.
 */
export function splitAuthors(s: string): string[] {
  const parts = s
    .split(s.includes(";") ? /\s*;\s*/ : /\s*,\s*|\s+and\s+|\s*&\s*/)
    .map((p) => p.replace(/^and\s+/, "").replace(/\s*\bet\.? al\.?$/i, "").trim())
    .filter((p) => p.length > 0);
  const out: string[] = [];
  for (const p of parts) {
    if (NAME_SUFFIX.test(p) && out.length > 0) out[out.length - 1] += `, ${p}`;
    else out.push(p.replace(/\s+/g, " "));
  }
  return out;
}

function readAuthors(o: Obj): string[] {
  const f = pick(o, "authors");
  if (!f) return [];
  const [, v] = f;
  if (typeof v === "string") return splitAuthors(stripControlChars(v)).map(latexToUnicode);
  if (!Array.isArray(v)) fail(`"authors" must be an array or a string, got ${describeType(v)}`);
  const out: string[] = [];
  v.forEach((a, i) => {
    let name: unknown = a;
    if (a && typeof a === "object" && !Array.isArray(a)) name = (a as Obj).name;
    if (typeof name !== "string") fail(`"authors[${i}]" must be a name (a string or {"name": string}), got ${describeType(a)}`);
    const t = latexToUnicode(collapse(stripControlChars(name)));
    if (t) out.push(t);
  });
  return out;
}

/** MSC ("68T50", "85-04, 68T01", "62, 91") and ACM ("I.2.7") class codes: classifications, not mistakes. */
const CLASS_CODE = /^(?:\d{2}(?:[a-z\d-]|\b)|[a-k]\.[\dm])/i;

function readCategories(o: Obj, warnings: RecordWarning[]): string[] {
  const cats: string[] = [];
  const take = (field: string, values: string[]) => {
    const dropped: string[] = [];
    for (const c of values) {
      if (c === "") continue;
      const code = isArxivCategory(c) ? normaliseCategory(c) : undefined;
      if (code !== undefined && isArxivArchive(code.split(".")[0]!)) cats.push(code);
      else if (!CLASS_CODE.test(c)) dropped.push(c);
    }
    if (dropped.length === 0) return;
    const what = dropped.length === 1 ? "not an arXiv category" : "not arXiv categories";
    warnings.push({ kind: "category", message: `"${field}": dropped ${dropped.map((c) => JSON.stringify(c.slice(0, 80))).join(", ")} (${what} like cs.LG or hep-th)` });
  };
  const primary = optString(o, "primary_category", "primary");
  if (primary) take(primary[0], [primary[1]]);
  const f = pick(o, "categories");
  if (f) {
    const [, v] = f;
    if (typeof v === "string") take("categories", v.split(/[\s,;]+/));
    else if (Array.isArray(v)) {
      take(
        "categories",
        v.map((c, i) => {
          if (typeof c !== "string") fail(`"categories[${i}]" must be a string, got ${describeType(c)}`);
          return c.trim();
        }),
      );
    } else fail(`"categories" must be an array or a string, got ${describeType(v)}`);
  }
  return [...new Set(cats)];
}

/** U+FFFD per text field, as one warning: a decoder left them for bytes that were not UTF-8. */
function replacementWarning(fields: [string, string | string[] | undefined][]): RecordWarning | undefined {
  let count = 0;
  const where: string[] = [];
  for (const [name, value] of fields) {
    const text = Array.isArray(value) ? value.join("\n") : value;
    if (!text?.includes("\uFFFD")) continue;
    count += text.split("\uFFFD").length - 1;
    where.push(`"${name}"`);
  }
  if (count === 0) return undefined;
  const chars = count === 1 ? "1 U+FFFD replacement character" : `${count} U+FFFD replacement characters`;
  return { kind: "invalid-utf8", message: `text repaired from invalid UTF-8: ${chars} in ${where.join(", ")} (the original characters are lost)` };
}

function parseVersionValue(key: string, v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim().replace(/^v/i, "")) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) fail(`"${key}" ${JSON.stringify(v)} is not a version (1, 2, ... or "v1", "v2", ...)`);
  return n;
}

/** The Kaggle "versions" list: [{version: "v1", created: "..."}]: highest version and first date. */
function readVersions(o: Obj): { version?: number; firstCreated?: string } {
  const f = pick(o, "versions");
  if (!f) return {};
  const [, v] = f;
  if (!Array.isArray(v)) fail(`"versions" must be an array, got ${describeType(v)}`);
  let version: number | undefined;
  let firstCreated: string | undefined;
  v.forEach((item, i) => {
    if (!item || typeof item !== "object" || Array.isArray(item)) fail(`"versions[${i}]" must be an object, got ${describeType(item)}`);
    const it = item as Obj;
    if (it.version !== undefined && it.version !== null) {
      const n = parseVersionValue(`versions[${i}].version`, it.version);
      version = Math.max(version ?? 0, n);
    }
    if (i === 0 && it.created !== undefined && it.created !== null) {
      if (typeof it.created !== "string") fail(`"versions[0].created" must be a string, got ${describeType(it.created)}`);
      firstCreated = normaliseDate(it.created);
      if (!firstCreated) fail(`"versions[0].created" ${JSON.stringify(it.created)} is not a valid date`);
    }
  });
  return { version, firstCreated };
}

function readDoi(o: Obj): string | undefined {
  const f = optString(o, "doi");
  if (!f) return undefined;
  // Several DOIs separated by spaces (the Kaggle snapshot has these): all must be valid, the first is kept.
  const dois = f[1].split(/\s+/).map((d) => d.replace(/^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:)/i, ""));
  if (!dois.every((d) => DOI.test(d))) fail(`"doi" ${JSON.stringify(f[1].slice(0, 80))} is not a DOI (10.<registrant>/<suffix>)`);
  return dois[0];
}

interface ResolvedId {
  id: string;
  arxiv: boolean;
  version?: number;
}

function resolveId(o: Obj, namespace: string, title: string): ResolvedId {
  const f = pick(o, "arxiv_id", "id", "_id");
  if (!f) return { id: `${namespace}:${slugify(title)}`, arxiv: false };
  const [key, v] = f;
  let raw: string;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) raw = String(v);
  else if (typeof v === "string") raw = v.trim();
  else fail(`"${key}" must be a string or an integer, got ${describeType(v)}`);
  if (raw === "") fail(`"${key}" is empty`);
  const a = analyseArxivRef(raw);
  if (a.ok) return { id: a.ref.id, arxiv: true, ...(a.ref.version === undefined ? {} : { version: a.ref.version }) };
  if (!a.unrecognised || key === "arxiv_id") fail(`"${key}" ${JSON.stringify(raw.slice(0, 80))}: ${a.error}`);
  const doi = raw.replace(/^doi:\s*/i, "");
  if (DOI.test(doi)) return { id: `doi:${doi.toLowerCase()}`, arxiv: false };
  if (NAMESPACED.test(raw)) return { id: raw, arxiv: false };
  return { id: `${namespace}:${raw}`, arxiv: false };
}

/**
 * One JSON value → Paper, by the schema at the top of this file, and the warnings about what was
 * dropped or damaged. Throws `InvalidRecordError` (message names the field) for anything it cannot take.
 */
export function readPaperRecord(value: unknown, opts: RecordOptions = {}): RecordResult {
  if (!value || typeof value !== "object" || Array.isArray(value)) fail(`a record must be a JSON object, got ${describeType(value)}`);
  const o = value as Obj;
  const warnings: RecordWarning[] = [];
  const title = collapse(requiredText(o, "title"));
  const abstract = requiredText(o, "abstract", "summary", "text");

  const recordSource = optString(o, "source")?.[1];
  const namespace = opts.namespace ?? (recordSource && PLAIN_WORD.test(recordSource) ? recordSource : "local");
  const ref = resolveId(o, namespace, title);

  const versions = readVersions(o);
  const versionField = pick(o, "version");
  const candidates = [ref.version, versionField ? parseVersionValue(versionField[0], versionField[1]) : undefined, versions.version];
  const known = candidates.filter((n): n is number => n !== undefined);
  const version = known.length > 0 ? Math.max(...known) : undefined;

  const published = dateField(o, "published", "date") ?? versions.firstCreated;
  const updated = dateField(o, "updated", "update_date");
  const links = readLinks(o);
  if (ref.arxiv) {
    links.abs ??= arxivAbsUrl(ref.id);
    links.pdf ??= arxivPdfUrl(ref.id);
  }
  const doi = readDoi(o);
  const commentField = optString(o, "comment", "comments");
  const comment = commentField && stripControlChars(commentField[1]).trim();
  const upvotesField = pick(o, "upvotes");
  let upvotes: number | undefined;
  if (upvotesField) {
    const v = upvotesField[1];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(`"upvotes" must be a non-negative integer, got ${JSON.stringify(v)}`);
    upvotes = v;
  }

  const authors = readAuthors(o);
  const paper: Paper = {
    id: ref.id,
    title,
    abstract,
    authors,
    categories: readCategories(o, warnings),
    links,
    source: opts.source ?? "jsonl",
  };
  if (version !== undefined) paper.version = version;
  if (published) paper.published = published;
  if (updated) paper.updated = updated;
  if (doi) paper.doi = doi;
  if (comment) paper.comment = comment;
  if (upvotes !== undefined) paper.trending = { upvotes };
  const damaged = replacementWarning([["title", title], ["abstract", abstract], ["authors", authors], ["comment", comment]]);
  if (damaged) warnings.push(damaged);
  return { paper, warnings };
}

/** `readPaperRecord` without the warnings. */
export function paperFromRecord(value: unknown, opts: RecordOptions = {}): Paper {
  return readPaperRecord(value, opts).paper;
}
