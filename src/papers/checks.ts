/**
 * Dates and arXiv categories as users and remote services write them, checked in one place: the
 * CLI's option parsers, the chat commands' options and the request builders wrap these with their
 * own error types and wording.
 */

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/**
 * A date that exists in the calendar: YYYY-MM-DD, or YYYY-MM and YYYY unless `dayOnly`. Years
 * before 1000 are refused (a typo, not a paper date).
 */
export function isCalendarDate(value: string, opts: { dayOnly?: boolean } = {}): boolean {
  const m = DATE_RE.exec(value);
  if (!m || (opts.dayOnly && m[3] === undefined)) return false;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  if (year < 1000 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The first day a (possibly partial) date names: "2024" → "2024-01-01", "2024-03" → "2024-03-01". */
export function sinceBound(since: string): string {
  return since.length === 4 ? `${since}-01-01` : since.length === 7 ? `${since}-01` : since;
}

/** Inclusive upper bound for a (possibly partial) date: "2024" → "2024-12-31", "2024-02" → "2024-02-31" (compares as the month's end). */
export function untilBound(until: string): string {
  return until.length === 4 ? `${until}-12-31` : until.length === 7 ? `${until}-31` : until;
}

/** Archive, then optionally a subject class; hyphens inside words (hep-th, astro-ph.CO). */
const CATEGORY_RE = /^[a-z]+(?:-[a-z]+)*(?:\.[a-z]+(?:-[a-z]+)*)?$/i;

/** An arXiv category (cs.LG, hep-th, astro-ph.CO) or a whole archive (cs), in any case (users' input, normalised after). */
export function isArxivCategory(value: string): boolean {
  return CATEGORY_RE.test(value);
}

/** A category as arXiv's services take it: the archive in lower case (cs.LG, hep-th; not CS.LG or "Not"). */
export function isArxivCategoryCode(value: string): boolean {
  return CATEGORY_RE.test(value) && !/[A-Z]/.test(value.split(".")[0]!);
}

/** arXiv's spelling: the archive in lower case, a two-letter subject class in upper case (cs.LG, math.AG), longer ones as given. */
export function normaliseCategory(value: string): string {
  const [archive, sub] = value.split(".");
  return sub === undefined ? archive!.toLowerCase() : `${archive!.toLowerCase()}.${sub.length <= 2 ? sub.toUpperCase() : sub}`;
}

/** A list of categories as a user types it ("cs.lg, CS.ai stat.ML" or "cs.LG+cs.AI"): arXiv's spelling, each once, in order. */
export function categoryList(raw: string): string[] {
  return [...new Set(raw.split(/[\s,+]+/).filter(Boolean).map(normaliseCategory))];
}
