/**
 * Small pieces shared by the feed parsers (arXiv Atom, arXiv RSS, OAI-PMH, Hugging Face daily
 * papers) and paper records: the error for input that is not the format it claims to be,
 * whitespace, control character and DOI clean-up, and the canonical arXiv links every parser
 * fills in the same way.
 */
import { analyseArxivRef, type ArxivRef } from "../arxiv-id.js";
import type { PaperLinks } from "../types.js";
import { PaperhoundError } from "../../errors.js";

/** Where a problem is: "file:line", "file", "line 12" or "" (for messages). */
export function where(file: string | undefined, line?: number): string {
  if (file && line !== undefined) return `${file}:${line}`;
  if (file) return file;
  return line !== undefined ? `line ${line}` : "";
}

/**
 * The input is not a valid document of the format being read (not XML, the wrong root element,
 * a malformed Hugging Face day). The message starts with the file and line when they are known.
 */
export class SourceFormatError extends PaperhoundError {
  readonly identifier = "source_format";
  override readonly name = "SourceFormatError";
  constructor(
    /** What was wrong, without the location (that is prefixed to `message`). */
    readonly detail: string,
    /** The format being read: "arxiv-atom", "arxiv-rss", "oai-pmh", "hf-daily", ... */
    readonly format: string,
    readonly file?: string,
    /** 1-based line of the input, when known. */
    readonly line?: number,
  ) {
    const at = where(file, line);
    super(at ? `${at}: ${detail}` : detail);
  }
}

/** One record of a feed that could not become a Paper; reading goes on with the next one. */
export interface SourceRecordError {
  /** 1-based line the record starts on. */
  line: number;
  message: string;
}

/** Thrown inside a record parser; becomes a `SourceRecordError` for that record. */
export class RecordProblem extends Error {
  override readonly name = "RecordProblem";
}

export function recordProblem(message: string): never {
  throw new RecordProblem(message);
}

/** Whitespace other than a single space (what `\s` matches), or two spaces in a row. */
const NEEDS_COLLAPSE = /[\t\n\v\f\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]| {2}/;
/** The runs to replace: any run with a character other than " ", or of two or more characters. */
const RUNS = /[^\S ]\s*| \s+/g;

/**
 * Runs of whitespace (including the line wraps arXiv puts in titles and abstracts) become one
 * space; same result as `s.replace(/\s+/g, " ").trim()`, three times faster: single spaces between
 * words are not replaced by themselves, and text without runs is returned as is.
 */
export function collapse(s: string): string {
  const t = s.trim();
  return NEEDS_COLLAPSE.test(t) ? t.replace(RUNS, " ") : t;
}

/** C0 controls but tab and line ends, DEL and C1: NUL, ESC (terminal escapes), ... mean nothing in a title or abstract. */
const CONTROL_CHARS = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F]/g;
const HAS_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

/**
 * `s` without control characters (above); CR LF, CR, vertical tab and form feed become "\n", so
 * only tab and "\n" remain. Text without any is returned as is.
 */
export function stripControlChars(s: string): string {
  return HAS_CONTROL.test(s) ? s.replace(CONTROL_CHARS, "").replace(/\r\n?|[\v\f]/g, "\n") : s;
}

/**
 * Characters that show nothing: whitespace, controls, format characters (zero-width space and
 * joiners, word joiner, BOM, soft hyphen, bidi marks), variation selectors, and the blank letters
 * (combining grapheme joiner, Hangul and Khmer fillers, braille blank).
 */
const INVISIBLE = /^[\s\p{Cc}\p{Cf}\p{Z}\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]*$/u;

/** Whether `s` has at least one character that shows (a title of zero-width spaces has none). */
export function hasVisibleText(s: string): boolean {
  return !INVISIBLE.test(s);
}

const DOI = /^10\.\d{4,9}\/\S+$/;

/**
 * The first DOI in a field that may hold several ("10.1/a 10.2/b") or a resolver URL / "doi:"
 * prefix; undefined when there is none.
 */
export function firstDoi(s: string | undefined): string | undefined {
  if (!s) return undefined;
  for (const token of s.trim().split(/[\s,;]+/)) {
    const d = token.replace(/^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:)/i, "");
    if (DOI.test(d)) return d;
  }
  return undefined;
}

/**
 * The arXiv reference in `raw` (an id, "arXiv:" reference, URL, or "oai:arXiv.org:<id>"), or a
 * `RecordProblem` saying why it is not one. `field` names where it came from, for the message.
 */
export function arxivRefOf(raw: string, field: string): ArxivRef {
  const text = raw.trim().replace(/^oai:arxiv\.org:/i, "");
  const a = analyseArxivRef(text);
  if (!a.ok) recordProblem(`${field} ${JSON.stringify(raw.trim().slice(0, 100))} is not an arXiv id: ${a.error}`);
  return a.ref;
}

/**
 * Canonical abstract and PDF links of an arXiv paper (latest version), as every source stores
 * them. `id` must be canonical already (from `arxivRefOf` / `analyseArxivRef`): the URLs are then
 * exactly `arxivAbsUrl(id)` / `arxivPdfUrl(id)`, without parsing the id twice more per paper.
 */
export function arxivLinks(id: string): PaperLinks {
  return { abs: `https://arxiv.org/abs/${id}`, pdf: `https://arxiv.org/pdf/${id}` };
}

/** `s` when it is an http(s) URL (trimmed), else undefined: feeds sometimes put "N/A" or " https://..." there. */
export function httpUrlOrUndefined(s: unknown): string | undefined {
  if (typeof s !== "string") return undefined;
  const t = s.trim();
  if (!/^https?:\/\//i.test(t)) return undefined;
  try {
    new URL(t);
    return t;
  } catch {
    return undefined;
  }
}
