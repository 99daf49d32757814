/**
 * arXiv announcement feeds from rss.arxiv.org (RSS 2.0, the format in use since 2024):
 *
 *   <rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
 *     <channel>
 *       <title>cs.LG updates on arXiv.org</title> <pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>
 *       <item>
 *         <title>…</title> <link>https://arxiv.org/abs/2009.13987</link>
 *         <description>arXiv:2009.13987v3 Announce Type: replace
 *   Abstract: We introduce …</description>                     the abstract follows "Abstract:"
 *         <guid isPermaLink="false">oai:arXiv.org:2009.13987v3</guid>   id and version
 *         <category>cs.LG</category> …                          the primary category comes first
 *         <pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>    announcement day
 *         <arxiv:announce_type>replace</arxiv:announce_type>     new | cross | replace | replace-cross
 *         <arxiv:DOI>…</arxiv:DOI> <arxiv:journal_reference>…</arxiv:journal_reference>
 *         <dc:creator>A. One, B. Two</dc:creator>               all authors in one comma-separated string
 *         <dc:rights>license URL</dc:rights>
 *       </item>
 *     </channel>
 *   </rss>
 *
 * Announce types (exposed on each item so ingest can update rather than add):
 *   new            a new submission (version 1)          → paper.published = announcement day
 *   cross          cross-listed into this feed's category (no new version)
 *   replace        a new version of a paper              → paper.updated = announcement day
 *   replace-cross  a new version of a cross-listed paper → paper.updated = announcement day
 * The feed has no submission dates: `published` is only set for `new` items (the day arXiv
 * announced version 1), `updated` only for replacements.
 *
 * Errors: not XML or not an RSS document → `SourceFormatError`; an item without an arXiv id,
 * title or a known announce type, or larger than `limits.maxRecordBytes`, is reported in `errors`
 * (with its line) and skipped. Another channel element over that size, or nesting deeper than
 * `maxXmlDepth`: `SourceFormatError`.
 */
import type { Paper } from "../types.js";
import { normaliseDate, splitAuthors } from "./paper-record.js";
import { latexToUnicode } from "../latex-text.js";
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
import { XmlElementStream, childText, childrenNamed, oversizeMessage, type XmlNode } from "./xml-stream.js";
import type { InputLimits } from "../limits.js";

export const ARXIV_RSS_NS = "http://arxiv.org/schemas/atom";
export const DC_NS = "http://purl.org/dc/elements/1.1/";

const FORMAT = "arxiv-rss";

export const ANNOUNCE_TYPES = ["new", "cross", "replace", "replace-cross"] as const;
export type AnnounceType = (typeof ANNOUNCE_TYPES)[number];

/** True for announce types that bring a new version of an already announced paper. */
export function isReplacement(type: AnnounceType): boolean {
  return type === "replace" || type === "replace-cross";
}

export interface ArxivRssItem {
  paper: Paper;
  announceType: AnnounceType;
  /** The day the item was announced (its <pubDate>, YYYY-MM-DD). */
  announced?: string;
  /** 1-based line of the <item> start tag. */
  line: number;
  journalRef?: string;
  /** License URL (dc:rights). */
  rights?: string;
}

export interface ArxivRssFeed {
  /** Channel title, e.g. "cs.LG, cs.AI updates on arXiv.org". */
  title?: string;
  /** Channel link, e.g. http://rss.arxiv.org/rss/cs.LG+cs.AI. */
  link?: string;
  /** The announcement day of the whole feed (channel <pubDate>). */
  announced?: string;
  items: ArxivRssItem[];
  /** Items that could not become papers (skipped). */
  errors: SourceRecordError[];
}

export interface ArxivRssOptions {
  /** Named in error messages. */
  file?: string;
  /** `Paper.source`; default "arxiv-rss". */
  source?: string;
  /** maxXmlDepth and maxRecordBytes apply; default DEFAULT_LIMITS. */
  limits?: Partial<InputLimits>;
}

/** "arXiv:2009.13987v3 Announce Type: replace \nAbstract: …" → its parts; undefined when not in that form. */
export function splitRssDescription(text: string): { ref?: string; announceType?: string; abstract: string } | undefined {
  const m = /^\s*arXiv:(\S+)\s+Announce Type:\s*(\S+)\s*(?:Abstract:\s*)?([\s\S]*)$/i.exec(text);
  if (!m) return undefined;
  return { ref: m[1], announceType: m[2]!.toLowerCase(), abstract: m[3]! };
}

/**
 * The calendar day of an RFC 822 date as written ("Thu, 24 Sep 2026 00:00:00 -0400" → 2026-09-24):
 * an announcement day is a day in arXiv's time zone, which converting to UTC could shift.
 */
function dayAsWritten(s: string): string | undefined {
  const m = /(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{4})/i.exec(s);
  return m ? normaliseDate(`${m[1]} ${m[2]} ${m[3]}`) : normaliseDate(s);
}

function itemToPaper(item: XmlNode, source: string): ArxivRssItem {
  const description = childText(item, "", "description") ?? "";
  const parts = splitRssDescription(description);
  // The guid is always "oai:arXiv.org:<id>v<n>"; the link lacks the version.
  const rawId = childText(item, "", "guid") ?? parts?.ref ?? childText(item, "", "link");
  if (!rawId) recordProblem("item without an arXiv id (no <guid>, description or <link>)");
  const ref = arxivRefOf(rawId, "<guid>");

  const typeText = (childText(item, ARXIV_RSS_NS, "announce_type") ?? parts?.announceType)?.toLowerCase();
  if (!typeText) recordProblem(`item ${ref.id} has no <arxiv:announce_type>`);
  if (!(ANNOUNCE_TYPES as readonly string[]).includes(typeText)) {
    recordProblem(`item ${ref.id} has announce type ${JSON.stringify(typeText)} (known: ${ANNOUNCE_TYPES.join(", ")})`);
  }
  const announceType = typeText as AnnounceType;

  const title = collapse(childText(item, "", "title") ?? "");
  if (!title) recordProblem(`item ${ref.id} has no <title>`);
  const abstract = collapse(parts ? parts.abstract : description);

  const authors = childrenNamed(item, DC_NS, "creator").flatMap((c) => splitAuthors(collapse(c.text)).map(latexToUnicode));
  const categories: string[] = [];
  for (const c of childrenNamed(item, "", "category")) {
    const t = c.text.trim();
    if (t && !categories.includes(t)) categories.push(t);
  }

  const paper: Paper = { id: ref.id, title, abstract, authors, categories, links: arxivLinks(ref.id), source };
  if (ref.version !== undefined) paper.version = ref.version;
  const pubDate = childText(item, "", "pubDate");
  const announced = pubDate ? dayAsWritten(pubDate) : undefined;
  if (pubDate && !announced) recordProblem(`item ${ref.id}: <pubDate> ${JSON.stringify(pubDate)} is not a date`);
  if (announced && announceType === "new") paper.published = announced;
  if (announced && isReplacement(announceType)) paper.updated = announced;
  const doi = firstDoi(childText(item, ARXIV_RSS_NS, "DOI") ?? childText(item, ARXIV_RSS_NS, "doi"));
  if (doi) paper.doi = doi;

  const out: ArxivRssItem = { paper, announceType, line: item.line };
  if (announced) out.announced = announced;
  const journalRef = childText(item, ARXIV_RSS_NS, "journal_reference");
  if (journalRef) out.journalRef = collapse(journalRef);
  const rights = childText(item, DC_NS, "rights");
  if (rights) out.rights = rights;
  return out;
}

/** "item 2009.13987" when the guid read before the size limit names a paper, else "item". */
function itemName(item: XmlNode): string {
  try {
    return `item ${arxivRefOf(childText(item, "", "guid") ?? "", "<guid>").id}`;
  } catch {
    return "item";
  }
}

/** Incremental reader: `push` chunks, `finish` at the end. */
export class ArxivRssReader {
  private readonly xml: XmlElementStream;
  private readonly feed: ArxivRssFeed = { items: [], errors: [] };
  private checkedRoot = false;
  private readonly source: string;

  constructor(private readonly opts: ArxivRssOptions = {}) {
    this.source = opts.source ?? "arxiv-rss";
    // Capture the children of <channel> (its header fields and the items).
    this.xml = new XmlElementStream(
      (_uri, _local, ancestors) => ancestors.length === 2 && ancestors[1]!.local === "channel" && ancestors[1]!.uri === "",
      FORMAT,
      opts.file,
      opts.limits,
    );
  }

  push(chunk: string): { items: ArxivRssItem[]; errors: SourceRecordError[] } {
    return this.handle(this.xml.write(chunk));
  }

  finish(): ArxivRssFeed {
    this.handle(this.xml.close());
    return this.feed;
  }

  private checkRoot(): void {
    if (this.checkedRoot || !this.xml.root) return;
    this.checkedRoot = true;
    const root = this.xml.root;
    if (root.uri !== "" || root.local !== "rss") {
      const name = root.uri ? `{${root.uri}}${root.local}` : root.local;
      throw new SourceFormatError(`not an RSS 2.0 feed: the root element is <${name}>, expected <rss>`, FORMAT, this.opts.file, 1);
    }
  }

  private handle(nodes: XmlNode[]): { items: ArxivRssItem[]; errors: SourceRecordError[] } {
    this.checkRoot();
    const items: ArxivRssItem[] = [];
    const errors: SourceRecordError[] = [];
    for (const node of nodes) {
      if (node.oversize) {
        if (node.uri !== "" || node.local !== "item") {
          throw new SourceFormatError(oversizeMessage(`<${node.local}>`, this.xml.limits), FORMAT, this.opts.file, node.line);
        }
        const e = { line: node.line, message: oversizeMessage(itemName(node), this.xml.limits) };
        errors.push(e);
        this.feed.errors.push(e);
        continue;
      }
      if (node.uri !== "") continue;
      if (node.local === "item") {
        try {
          const it = itemToPaper(node, this.source);
          items.push(it);
          this.feed.items.push(it);
        } catch (err) {
          if (!(err instanceof RecordProblem)) throw err;
          const e = { line: node.line, message: err.message };
          errors.push(e);
          this.feed.errors.push(e);
        }
      } else if (node.local === "title") this.feed.title = collapse(node.text);
      else if (node.local === "link") this.feed.link = node.text.trim();
      else if (node.local === "pubDate") {
        const d = dayAsWritten(node.text);
        if (d) this.feed.announced = d;
      }
    }
    return { items, errors };
  }
}

/** Parses one rss.arxiv.org feed. Throws `SourceFormatError` for anything that is not an RSS document. */
export function parseArxivRss(xml: string, opts: ArxivRssOptions = {}): ArxivRssFeed {
  const reader = new ArxivRssReader(opts);
  reader.push(xml);
  return reader.finish();
}
