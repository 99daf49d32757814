/**
 * arXiv API responses (export.arxiv.org/api/query): Atom 1.0 feeds.
 *
 *   <feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch=... xmlns:arxiv="http://arxiv.org/schemas/atom">
 *     <opensearch:totalResults>7432</opensearch:totalResults>   paging: matches in all,
 *     <opensearch:startIndex>0</opensearch:startIndex>           the first one on this page (0-based),
 *     <opensearch:itemsPerPage>10</opensearch:itemsPerPage>      the page size asked for
 *     <entry>
 *       <id>http://arxiv.org/abs/2201.13452v1</id>               id and version
 *       <title>…</title> <summary>…</summary>                    whitespace runs collapse to one space (LaTeX kept)
 *       <published>2022-01-31T18:59:34Z</published>             v1 date   → published (YYYY-MM-DD, UTC)
 *       <updated>2022-02-01T04:27:03Z</updated>                  this version's date → updated
 *       <author><name>…</name><arxiv:affiliation>…</arxiv:affiliation></author>
 *       <link href=".../abs/…" rel="alternate"/> <link title="pdf" href=".../pdf/…"/> <link title="doi" …/>
 *       <category term="math.AP"/> <arxiv:primary_category term="math.AP"/>   primary first in `categories`
 *       <arxiv:comment>…</arxiv:comment> <arxiv:journal_ref>…</arxiv:journal_ref> <arxiv:doi>…</arxiv:doi>
 *     </entry>
 *   </feed>
 *
 * Two dialects are read alike (elements are matched by namespace, not prefix):
 *   - "current" (2025 on): namespaces declared on <feed>, links without rel/title in some responses.
 *   - "legacy" (2016): `xmlns:opensearch` / `xmlns:arxiv` declared inline on each element, http
 *     links, <title type="html">.
 * Links are stored in the canonical form every source uses (https://arxiv.org/abs/<id>, /pdf/<id>,
 * latest version), so the same paper from any source has the same links.
 *
 * Errors
 *   - The API's error feed (HTTP 400, one <entry> whose <id> is https://arxiv.org/api/errors#…
 *     and whose <title> is "Error") throws `ArxivApiError` with arXiv's message; it never becomes a paper.
 *   - Not XML, or not an Atom <feed>: `SourceFormatError` with file and line.
 *   - An entry that cannot become a Paper (no arXiv id, no title), or larger than
 *     `limits.maxRecordBytes`, is reported in `errors` with its line, and the others are still read.
 *     Any other element over that size, or nesting deeper than `maxXmlDepth`: `SourceFormatError`.
 *   - `missingArxivIds(requested, feed)`: the ids of an `id_list` query the feed did not return
 *     (arXiv drops unknown and malformed ids silently, with HTTP 200).
 */
import { canonicalId, parseArxivRef } from "../arxiv-id.js";
import type { Paper } from "../types.js";
import { normaliseDate } from "./paper-record.js";
import {
  RecordProblem,
  SourceFormatError,
  arxivLinks,
  arxivRefOf,
  collapse,
  firstDoi,
  recordProblem,
  type SourceRecordError,
} from "./source-common.js";
import { XmlElementStream, child, childText, childrenNamed, oversizeMessage, type XmlNode } from "./xml-stream.js";
import { PaperhoundError } from "../../errors.js";
import type { InputLimits } from "../limits.js";

export const ATOM_NS = "http://www.w3.org/2005/Atom";
export const ARXIV_ATOM_NS = "http://arxiv.org/schemas/atom";
export const OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/";

const FORMAT = "arxiv-atom";

/** The arXiv API answered with its error feed (bad id format, bad query, ...). */
export class ArxivApiError extends PaperhoundError {
  readonly identifier = "arxiv_api";
  override readonly name = "ArxivApiError";
  constructor(
    /** arXiv's own message, e.g. "incorrect id format for abc". */
    readonly detail: string,
    /** The error entry's id, e.g. https://arxiv.org/api/errors#incorrect_id_format_for_abc. */
    readonly errorId: string,
    readonly file?: string,
  ) {
    const at = file ? `${file}: ` : "";
    super(`${at}arXiv API error: ${detail}`);
  }
}

/** One paper of a feed, with what the API gives beyond `Paper`. */
export interface ArxivAtomEntry {
  paper: Paper;
  /** 1-based line of the <entry> start tag. */
  line: number;
  journalRef?: string;
  /** Affiliations per author (same order as `paper.authors`), only when the feed has any. */
  affiliations?: string[][];
}

export interface ArxivAtomFeed {
  /** "legacy": the 2016 format with namespaces declared inline. */
  dialect: "current" | "legacy";
  /** Feed <updated> date (YYYY-MM-DD). */
  updated?: string;
  /** opensearch:totalResults: how many entries match the query in all. */
  totalResults?: number;
  /** opensearch:startIndex: 0-based index of this page's first entry. */
  startIndex?: number;
  /** opensearch:itemsPerPage: the page size asked for (max_results). */
  itemsPerPage?: number;
  entries: ArxivAtomEntry[];
  /** Entries that could not become papers (skipped). */
  errors: SourceRecordError[];
}

export interface ArxivAtomOptions {
  /** Named in error messages. */
  file?: string;
  /** `Paper.source`; default "arxiv-api". */
  source?: string;
  /** maxXmlDepth and maxRecordBytes apply; default DEFAULT_LIMITS. */
  limits?: Partial<InputLimits>;
}

function isErrorEntry(entry: XmlNode): boolean {
  const id = childText(entry, ATOM_NS, "id") ?? "";
  return /^https?:\/\/(?:export\.)?arxiv\.org\/api\/errors/i.test(id) || (childText(entry, ATOM_NS, "title") === "Error" && !parseArxivRef(id));
}

function dateOf(entry: XmlNode, local: string): string | undefined {
  const raw = childText(entry, ATOM_NS, local);
  if (raw === undefined) return undefined;
  const d = normaliseDate(raw);
  if (!d) recordProblem(`<${local}> ${JSON.stringify(raw)} is not a date`);
  return d;
}

/** One <entry> → paper; throws `RecordProblem` for an entry that cannot be one. */
function entryToPaper(entry: XmlNode, source: string): ArxivAtomEntry {
  const rawId = childText(entry, ATOM_NS, "id");
  if (!rawId) recordProblem("entry without <id>");
  const ref = arxivRefOf(rawId, "<id>");
  const title = collapse(child(entry, ATOM_NS, "title")?.text ?? "");
  if (!title) recordProblem(`entry ${ref.id} has no <title>`);
  const abstract = collapse(child(entry, ATOM_NS, "summary")?.text ?? "");

  const authors: string[] = [];
  const affiliations: string[][] = [];
  let anyAffiliation = false;
  for (const a of childrenNamed(entry, ATOM_NS, "author")) {
    const name = collapse(child(a, ATOM_NS, "name")?.text ?? "");
    if (!name) continue;
    authors.push(name);
    const affs = childrenNamed(a, ARXIV_ATOM_NS, "affiliation").map((n) => collapse(n.text)).filter((s) => s !== "");
    if (affs.length > 0) anyAffiliation = true;
    affiliations.push(affs);
  }

  const categories: string[] = [];
  const primary = child(entry, ARXIV_ATOM_NS, "primary_category")?.attrs.term?.trim();
  if (primary) categories.push(primary);
  for (const c of childrenNamed(entry, ATOM_NS, "category")) {
    const term = c.attrs.term?.trim();
    if (term && !categories.includes(term)) categories.push(term);
  }

  let doi = firstDoi(childText(entry, ARXIV_ATOM_NS, "doi"));
  if (!doi) {
    // Some responses carry the DOI only as <link title="doi" href="http://dx.doi.org/...">.
    const doiLink = childrenNamed(entry, ATOM_NS, "link").find((l) => l.attrs.title === "doi");
    doi = firstDoi(doiLink?.attrs.href);
  }

  const paper: Paper = {
    id: ref.id,
    title,
    abstract,
    authors,
    categories,
    links: arxivLinks(ref.id),
    source,
  };
  if (ref.version !== undefined) paper.version = ref.version;
  const published = dateOf(entry, "published");
  const updated = dateOf(entry, "updated");
  if (published) paper.published = published;
  if (updated) paper.updated = updated;
  if (doi) paper.doi = doi;
  const comment = childText(entry, ARXIV_ATOM_NS, "comment");
  if (comment) paper.comment = collapse(comment);

  const out: ArxivAtomEntry = { paper, line: entry.line };
  const journalRef = childText(entry, ARXIV_ATOM_NS, "journal_ref");
  if (journalRef) out.journalRef = collapse(journalRef);
  if (anyAffiliation) out.affiliations = affiliations;
  return out;
}

function count(node: XmlNode, file: string | undefined): number {
  const t = node.text.trim();
  const n = Number(t);
  if (t === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new SourceFormatError(`<opensearch:${node.local}> ${JSON.stringify(t)} is not a count`, FORMAT, file, node.line);
  }
  return n;
}

/**
 * Incremental reader: `push` chunks of the response text, `finish` at the end. Used by
 * `parseArxivAtom` (one string) and by file reading (chunks).
 */
export class ArxivAtomReader {
  private readonly xml: XmlElementStream;
  private readonly feed: ArxivAtomFeed = { dialect: "current", entries: [], errors: [] };
  private checkedRoot = false;
  private readonly source: string;

  constructor(private readonly opts: ArxivAtomOptions = {}) {
    this.source = opts.source ?? "arxiv-api";
    // Everything directly under <feed> is small (header elements, entries): capture it all.
    this.xml = new XmlElementStream((_uri, _local, ancestors) => ancestors.length === 1, FORMAT, opts.file, opts.limits);
  }

  /** Adds a chunk; returns the entries (and per-entry errors) completed by it. */
  push(chunk: string): { entries: ArxivAtomEntry[]; errors: SourceRecordError[] } {
    return this.handle(this.xml.write(chunk));
  }

  /** Ends the input; returns the whole feed (all entries read, paging figures). */
  finish(): ArxivAtomFeed {
    this.handle(this.xml.close());
    this.checkRoot();
    return this.feed;
  }

  private checkRoot(): void {
    if (this.checkedRoot) return;
    const root = this.xml.root;
    if (!root) return;
    this.checkedRoot = true;
    if (root.uri !== ATOM_NS || root.local !== "feed") {
      const name = root.uri ? `{${root.uri}}${root.local}` : root.local;
      throw new SourceFormatError(`not an arXiv API Atom feed: the root element is <${name}>, expected an Atom <feed>`, FORMAT, this.opts.file, 1);
    }
    // The current API declares opensearch on <feed>; the 2016 one on each element.
    this.feed.dialect = Object.values(root.namespaces).includes(OPENSEARCH_NS) ? "current" : "legacy";
  }

  private handle(nodes: XmlNode[]): { entries: ArxivAtomEntry[]; errors: SourceRecordError[] } {
    this.checkRoot();
    const entries: ArxivAtomEntry[] = [];
    const errors: SourceRecordError[] = [];
    for (const node of nodes) {
      if (node.oversize) {
        const isEntry = node.uri === ATOM_NS && node.local === "entry";
        if (!isEntry) throw new SourceFormatError(oversizeMessage(`<${node.local}>`, this.xml.limits), FORMAT, this.opts.file, node.line);
        const ref = parseArxivRef(childText(node, ATOM_NS, "id") ?? "");
        const e = { line: node.line, message: oversizeMessage(ref ? `entry ${ref.id}` : "entry", this.xml.limits) };
        errors.push(e);
        this.feed.errors.push(e);
        continue;
      }
      if (node.uri === OPENSEARCH_NS) {
        if (node.local === "totalResults") this.feed.totalResults = count(node, this.opts.file);
        else if (node.local === "startIndex") this.feed.startIndex = count(node, this.opts.file);
        else if (node.local === "itemsPerPage") this.feed.itemsPerPage = count(node, this.opts.file);
        continue;
      }
      if (node.uri !== ATOM_NS) continue;
      if (node.local === "updated") {
        const d = normaliseDate(node.text);
        if (d) this.feed.updated = d;
      } else if (node.local === "entry") {
        if (isErrorEntry(node)) {
          const detail = collapse(child(node, ATOM_NS, "summary")?.text ?? "") || "unspecified error";
          throw new ArxivApiError(detail, childText(node, ATOM_NS, "id") ?? "", this.opts.file);
        }
        try {
          const e = entryToPaper(node, this.source);
          entries.push(e);
          this.feed.entries.push(e);
        } catch (err) {
          if (!(err instanceof RecordProblem)) throw err;
          const e = { line: node.line, message: err.message };
          errors.push(e);
          this.feed.errors.push(e);
        }
      }
    }
    return { entries, errors };
  }
}

/**
 * Parses one arXiv API response. Throws `ArxivApiError` for the API's error feed and
 * `SourceFormatError` for anything that is not an Atom feed.
 */
export function parseArxivAtom(xml: string, opts: ArxivAtomOptions = {}): ArxivAtomFeed {
  const reader = new ArxivAtomReader(opts);
  reader.push(xml);
  return reader.finish();
}

/**
 * The requested ids (as given, duplicates once) that the feed holds no entry for. Ids are
 * compared in canonical form without version ("2104.12255v1" is answered by 2104.12255v1 or any
 * version); a requested id that is not a valid arXiv id ("0808.05394") is missing unless an entry
 * has exactly that id.
 */
export function missingArxivIds(requested: readonly string[], feed: Pick<ArxivAtomFeed, "entries">): string[] {
  const returned = new Set(feed.entries.map((e) => e.paper.id));
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const raw of requested) {
    const asked = raw.trim();
    if (asked === "" || seen.has(asked)) continue;
    seen.add(asked);
    let id: string;
    try {
      id = canonicalId(asked);
    } catch {
      id = asked;
    }
    if (!returned.has(id)) missing.push(asked);
  }
  return missing;
}
