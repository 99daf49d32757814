/**
 * Canonical arXiv identifiers.
 *
 * One paper, one id: every form a user or a feed may give (a bare id with or without version, an
 * `arXiv:` reference, an abs/pdf/html URL, an alphaXiv or Hugging Face papers URL, an arXiv DOI)
 * becomes the bare id arXiv itself uses in its URLs, without version:
 *
 *   new style (April 2007 on)  YYMM.NNNN (to Dec 2014) or YYMM.NNNNN (Jan 2015 on)   2401.00631
 *   old style (to March 2007)  archive/YYMMNNN, archive lowercased, subject class dropped
 *                              (math.GT/0309136 → math/0309136, as arxiv.org/abs/math.GT/0309136 redirects)
 *
 * The version (v3) is returned beside the id. Anything else is rejected; `describeRefError` says why
 * in a sentence fit for a chat reply.
 */
import { PaperhoundError } from "../errors.js";

export interface ArxivRef {
  /** Canonical id without version: "2401.00631", "hep-th/9901001". */
  id: string;
  /** Version number when the input named one (3 for "v3"). */
  version?: number;
}

/** Thrown by `canonicalId` (and the URL helpers) for input that is not an arXiv id; the message is `describeRefError`'s. */
export class ArxivIdError extends PaperhoundError {
  readonly identifier = "arxiv_id";
  override readonly name = "ArxivIdError";
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
  }
}

/** Archives of the old identifier scheme (1991 to March 2007). */
const OLD_ARCHIVES = new Set([
  "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn", "chem-ph",
  "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex", "hep-lat", "hep-ph",
  "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph",
  "q-alg", "q-bio", "quant-ph", "solv-int", "supr-con",
]);

/** Hosts whose URLs carry an arXiv id in the path ("www." is stripped first). */
const ARXIV_HOSTS = new Set([
  "arxiv.org", "export.arxiv.org", "browse.arxiv.org", "ar5iv.org", "ar5iv.labs.arxiv.org",
  "alphaxiv.org", "huggingface.co", "hf.co",
]);
const DOI_HOSTS = new Set(["doi.org", "dx.doi.org"]);
/** First path segment before the id: arxiv.org/abs/<id>, /pdf/<id>, huggingface.co/papers/<id>, ... */
const PATH_PREFIXES = new Set(["abs", "pdf", "html", "format", "ps", "src", "e-print", "papers", "overview"]);

/** The arXiv DOI prefix: 10.48550/arXiv.2401.00631. */
const ARXIV_DOI = /^10\.48550\/arxiv\.(.+)$/i;

const NEW_STYLE = /^(\d{2})(\d{2})\.(\d+)(?:v(\d+))?$/i;
const OLD_STYLE = /^([a-z]+(?:-[a-z]+)?)(?:\.[a-z]+(?:-[a-z]+)?)?\/(\d{2})(\d{2})(\d{3})(?:v(\d+))?$/i;
/** Looks like an id someone meant, so the error can be specific ("month 13 ...") rather than "not an id". */
const NEW_STYLE_LOOSE = /^\d{4}\.\d+(?:v\d+)?$/i;
const OLD_STYLE_LOOSE = /^[a-z]+(?:-[a-z]+)?(?:\.[a-z-]+)?\/\d+(?:v\d+)?$/i;

/**
 * `parseArxivRef` and `describeRefError` in one: either the reference, or the reason it is rejected.
 * `unrecognised` is true when the input does not look like an arXiv reference at all (a word, another
 * site's URL), as opposed to one that is broken (month 13, an arXiv URL without an id): sources use
 * it to tell "some other kind of id" from "a bad arXiv id".
 */
export type ArxivRefAnalysis = { ok: true; ref: ArxivRef } | { ok: false; error: string; unrecognised?: boolean };
type Analysis = ArxivRefAnalysis;

/** Input echoed in messages is cut, so a pasted novel does not become a chat reply. */
function quote(input: string): string {
  const s = input.trim().replace(/\s+/g, " ");
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

const notArxiv = (text: string) => ({ ok: false as const, error: `not an arXiv id or URL: ${quote(text)}`, unrecognised: true });
const urlWithoutId = (text: string) => ({ ok: false as const, error: `arXiv URL without an id: ${quote(text)}` });

function parseVersion(v: string | undefined, id: string): { ok: true; version?: number } | { ok: false; error: string } {
  if (v === undefined) return { ok: true };
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) return { ok: false, error: `version v${v} does not exist in ${id} (versions start at v1)` };
  return { ok: true, version: n };
}

/** A bare id (no prefix, no URL), with or without version. */
function analyseBareId(raw: string): Analysis {
  const m = NEW_STYLE.exec(raw);
  if (m) {
    const [, yy, mm, num, v] = m as unknown as [string, string, string, string, string | undefined];
    const month = Number(mm);
    if (month < 1 || month > 12) return { ok: false, error: `month ${mm.replace(/^0/, "")} does not exist in ${raw}` };
    const year = Number(yy);
    if (year < 7 || (year === 7 && month < 4)) {
      return { ok: false, error: `${raw} is before April 2007, when ids like 0704.0001 began (older papers look like hep-th/9901001)` };
    }
    const digits = year >= 15 ? 5 : 4;
    if (num.length !== digits) {
      return {
        ok: false,
        error: year >= 15
          ? `${raw} has ${num.length} digits after the dot; ids from January 2015 on have 5 (like 2401.00631)`
          : `${raw} has ${num.length} digits after the dot; ids from before 2015 have 4 (like 0704.0001)`,
      };
    }
    if (Number(num) === 0) return { ok: false, error: `${raw} has number 0; numbering starts at 1` };
    const version = parseVersion(v, raw);
    if (!version.ok) return version;
    const id = `${yy}${mm}.${num}`;
    return { ok: true, ref: version.version === undefined ? { id } : { id, version: version.version } };
  }
  const o = OLD_STYLE.exec(raw);
  if (o) {
    const [, archiveRaw, yy, mm, num, v] = o as unknown as [string, string, string, string, string, string | undefined];
    const archive = archiveRaw.toLowerCase();
    if (!OLD_ARCHIVES.has(archive)) return { ok: false, error: `unknown arXiv archive "${archiveRaw}" in ${raw}` };
    const month = Number(mm);
    if (month < 1 || month > 12) return { ok: false, error: `month ${mm.replace(/^0/, "")} does not exist in ${raw}` };
    const year = Number(yy);
    if (!(year >= 91 || year <= 6 || (year === 7 && month <= 3))) {
      return { ok: false, error: `${raw} is not a valid old-style id: those run from 1991 to March 2007 (later papers look like 2401.00631)` };
    }
    if (Number(num) === 0) return { ok: false, error: `${raw} has number 000; numbering starts at 001` };
    const version = parseVersion(v, raw);
    if (!version.ok) return version;
    const id = `${archive}/${yy}${mm}${num}`;
    return { ok: true, ref: version.version === undefined ? { id } : { id, version: version.version } };
  }
  if (NEW_STYLE_LOOSE.test(raw) || OLD_STYLE_LOOSE.test(raw)) return { ok: false, error: `malformed arXiv id: ${raw}` };
  return notArxiv(raw);
}

function stripWww(host: string): string {
  return host.toLowerCase().replace(/^www\./, "");
}

/** The id part of an arXiv-ish URL path, or undefined when the path holds none. */
function idFromPath(segments: string[]): string | undefined {
  const parts = [...segments];
  if (parts.length > 0 && PATH_PREFIXES.has(parts[0]!.toLowerCase())) parts.shift();
  const first = parts[0];
  if (!first) return undefined;
  const strip = (s: string) => s.replace(/\.pdf$/i, "");
  if (/^\d/.test(first)) return strip(first);
  const second = parts[1];
  // old style: archive[.SC]/YYMMNNN
  if (second && /^\d/.test(second)) return `${first}/${strip(second)}`;
  return undefined;
}

function analyseUrl(original: string, text: string): Analysis {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return notArxiv(original);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return notArxiv(original);
  }
  const host = stripWww(url.hostname);
  const segments = url.pathname.split("/").filter((s) => s.length > 0).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (DOI_HOSTS.has(host)) {
    const m = ARXIV_DOI.exec(segments.join("/"));
    if (!m) return { ok: false, error: `not an arXiv DOI: ${quote(original)}`, unrecognised: true };
    return analyseBareId(m[1]!);
  }
  if (!ARXIV_HOSTS.has(host)) return notArxiv(original);
  const id = idFromPath(segments);
  if (!id) return urlWithoutId(original);
  const r = analyseBareId(id);
  if (!r.ok && r.unrecognised) return urlWithoutId(original);
  return r;
}

export function analyseArxivRef(input: string): ArxivRefAnalysis {
  return analyse(input);
}

function analyse(input: unknown): Analysis {
  if (typeof input !== "string") return { ok: false, error: "expected an arXiv id or URL as text", unrecognised: true };
  let s = input.trim();
  if (s === "") return { ok: false, error: "empty input: give an arXiv id (like 2401.00631) or an arXiv URL" };
  // Angle brackets or quotes around a pasted reference.
  s = s.replace(/^[<"'`(]+|[>"'`)]+$/g, "").trim();
  // Citation form: "arXiv:2401.00631 [cs.LG]"
  s = s.replace(/\s*\[[a-z-]+(?:\.[a-z-]+)?\]$/i, "");
  const prefixed = /^arxiv\s*:\s*(.*)$/i.exec(s);
  if (prefixed) {
    const rest = prefixed[1]!.trim();
    if (rest === "") return { ok: false, error: `arXiv reference without an id: ${quote(input)}` };
    const r = analyseBareId(rest);
    // "arXiv:" says it is meant as an arXiv id: a broken one, not some other kind of id.
    return r.ok || !r.unrecognised ? r : { ok: false, error: `malformed arXiv id: ${quote(input)}` };
  }
  const doi = ARXIV_DOI.exec(s.replace(/^doi\s*:\s*/i, ""));
  if (doi) return analyseBareId(doi[1]!);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return analyseUrl(input, s);
  // A bare id first: "math.GT/0309136" would otherwise look like a host name and a path.
  const bare = analyseBareId(s);
  if (bare.ok || !bare.unrecognised) return bare;
  if (/^(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[/?#]|$)/i.test(s)) return analyseUrl(input, s);
  return notArxiv(input);
}

/**
 * Reads an arXiv id or URL in any common form. Returns the canonical id (no version) and the
 * version if one was given, or undefined when the input is not a valid arXiv reference
 * (`describeRefError` says why).
 */
export function parseArxivRef(input: string): ArxivRef | undefined {
  const r = analyse(input);
  return r.ok ? r.ref : undefined;
}

/** Why `parseArxivRef` rejects this input, as one user-facing sentence; undefined when it is valid. */
export function describeRefError(input: string): string | undefined {
  const r = analyse(input);
  return r.ok ? undefined : r.error;
}

/** The canonical id (no version) of any form `parseArxivRef` accepts; throws `ArxivIdError` otherwise. */
export function canonicalId(input: string): string {
  return parseStrict(input).id;
}

function parseStrict(input: string): ArxivRef {
  const r = analyse(input);
  if (!r.ok) throw new ArxivIdError(r.error, String(input));
  return r.ref;
}

/**
 * True when `id` is a bare arXiv id (new or old style, version optional), as stored in
 * `Paper.id` or typed by a user; false for prefixed references, URLs and namespaced ids.
 */
export function isArxivId(id: string): boolean {
  if (typeof id !== "string" || id !== id.trim() || id.includes(":")) return false;
  return analyseBareId(id).ok;
}

/** https://arxiv.org/abs/<canonical id>: the abstract page, always of the latest version. */
export function arxivAbsUrl(id: string): string {
  return `https://arxiv.org/abs/${parseStrict(id).id}`;
}

/**
 * https://arxiv.org/pdf/<id>[vN]. The version is `version` when given, else the one in `id`
 * ("2401.00631v2"), else none (arXiv serves the latest).
 */
export function arxivPdfUrl(id: string, version?: number): string {
  const ref = parseStrict(id);
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
    throw new ArxivIdError(`version ${version} does not exist (versions start at 1)`, String(version));
  }
  const v = version ?? ref.version;
  return `https://arxiv.org/pdf/${ref.id}${v === undefined ? "" : `v${v}`}`;
}

/** What a user is told when arXiv has no paper with an id (the CLI's `related` and chat's /related and /save). */
export function arxivDoesNotKnow(asked: string): string {
  return `arXiv does not know ${asked} (the arXiv API returned no paper with that id)`;
}

/** What `related` takes, said when it was given something else. */
export const RELATED_REF_HINT = "give an arXiv id, an arXiv URL or a paper title";
