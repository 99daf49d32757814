/**
 * OAI-PMH responses from arXiv (export.arxiv.org/oai2): ListRecords (and GetRecord) pages in the
 * metadata formats `oai_dc`, `arXiv` and `arXivRaw`, read as a stream: one record in memory at a
 * time, whatever the file size.
 *
 *   <OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
 *     <responseDate>…</responseDate> <request verb="ListRecords" metadataPrefix="oai_dc" from=…>…</request>
 *     <ListRecords>
 *       <record>
 *         <header [status="deleted"]>
 *           <identifier>oai:arXiv.org:0709.2184</identifier> <datestamp>2014-12-24</datestamp> <setSpec>math</setSpec>
 *         </header>
 *         <metadata> one of the three formats below </metadata>      (absent for deleted records)
 *       </record> …
 *       <resumptionToken cursor="0" completeListSize="3456" [expirationDate=… | expires=…]>token</resumptionToken>
 *     </ListRecords>                    (an empty <resumptionToken/> ends a list; none: one page only)
 *   </OAI-PMH>
 *
 * Metadata formats → Paper
 *   oai_dc   (http://www.openarchives.org/OAI/2.0/oai_dc/, Dublin Core)
 *            dc:title; dc:creator "Keyname, Forenames" → "Forenames Keyname"; dc:subject category
 *            names ("Computer Science - Learning" → cs.LG, see arxiv-categories.ts; MSC/ACM subjects
 *            ignored), primary first; dc:description: the abstract, and "Comment: …" → comment;
 *            dc:date: first = published (v1), last = updated; dc:identifier: abs URL, "doi:…" → doi,
 *            anything else is the journal reference. No version number in this format.
 *   arXiv    (http://arxiv.org/OAI/arXiv/) <id> <created> <updated> <authors><author><keyname>
 *            <forenames> <suffix> <title> <categories> (space-separated, primary first) <comments>
 *            <report-no> <msc-class> <acm-class> <journal-ref> <doi> <license> <abstract>.
 *   arXivRaw (http://arxiv.org/OAI/arXivRaw/) as arXiv, but <authors> is one string and each
 *            version is listed: <version version="v2"><date>Tue, 24 Jul 2007 20:10:27 GMT</date>…
 *            → version (highest), published (v1's date), updated (latest version's date).
 *   Titles and abstracts have whitespace runs collapsed (LaTeX is kept).
 *
 * Results and errors
 *   - `{kind: "record"}` per paper, `{kind: "deleted"}` per deleted-record marker (arXiv keeps
 *     them: the id should be dropped from an index), `{kind: "invalid"}` for a record that cannot
 *     become a paper or is larger than `limits.maxRecordBytes` (reading goes on), and a last
 *     `{kind: "end"}` with the resumption token.
 *   - `<error code="noRecordsMatch">` is an empty result (end.noRecordsMatch = true), not an error.
 *   - Any other OAI error (badResumptionToken, badArgument, cannotDisseminateFormat, ...) throws
 *     `OaiPmhError` with the code and the repository's message.
 *   - Not XML, not an OAI-PMH response, or another verb (Identify, ListSets, ...): `SourceFormatError`;
 *     likewise nesting deeper than `maxXmlDepth`, or an element other than <record> over maxRecordBytes.
 */
import type { Paper } from "../types.js";
import { normaliseDate, splitAuthors } from "./paper-record.js";
import { latexToUnicode } from "../latex-text.js";
import { categoryOfSubject } from "./arxiv-categories.js";
import {
  RecordProblem,
  SourceFormatError,
  arxivLinks,
  arxivRefOf,
  collapse,
  firstDoi,
  recordProblem,
} from "./source-common.js";
import { decodeUtf8, fileTextChunks } from "./source-file.js";
import { XmlElementStream, child, childText, childrenNamed, oversizeMessage, type XmlNode } from "./xml-stream.js";
import { PaperhoundError } from "../../errors.js";
import type { InputLimits } from "../limits.js";

export const OAI_NS = "http://www.openarchives.org/OAI/2.0/";
export const OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/";
export const DC_NS = "http://purl.org/dc/elements/1.1/";
export const ARXIV_OAI_NS = "http://arxiv.org/OAI/arXiv/";
export const ARXIV_RAW_NS = "http://arxiv.org/OAI/arXivRaw/";

const FORMAT = "oai-pmh";

export type OaiMetadataFormat = "oai_dc" | "arXiv" | "arXivRaw";

/** An OAI-PMH error other than noRecordsMatch: the request was wrong or the token is stale. */
export class OaiPmhError extends PaperhoundError {
  readonly identifier = "oai_pmh";
  override readonly name = "OaiPmhError";
  constructor(
    /** The OAI error code: badResumptionToken, badArgument, badVerb, cannotDisseminateFormat, idDoesNotExist, noSetHierarchy, ... */
    readonly code: string,
    /** The repository's message. */
    readonly detail: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ""}OAI-PMH error ${code}${detail ? `: ${detail}` : ""}`);
  }
}

export interface OaiHeader {
  /** "oai:arXiv.org:0709.2184" */
  identifier: string;
  /** When the record last changed (YYYY-MM-DD). */
  datestamp?: string;
  /** "math", "physics:hep-th", ... */
  setSpecs: string[];
}

export interface OaiRecord {
  kind: "record";
  /** 1-based line of the <record> start tag. */
  line: number;
  header: OaiHeader;
  metadataFormat: OaiMetadataFormat;
  paper: Paper;
  journalRef?: string;
  reportNo?: string;
  /** License URL (arXiv, arXivRaw). */
  license?: string;
  /** Who submitted the paper (arXivRaw). */
  submitter?: string;
  mscClass?: string;
  acmClass?: string;
}

/** A deleted-record marker: the paper was withdrawn from the repository's OAI view. */
export interface OaiDeletedRecord {
  kind: "deleted";
  line: number;
  header: OaiHeader;
  /** Canonical arXiv id of the identifier, when it is one. */
  id?: string;
}

/** A record that could not become a paper; `message` says why. */
export interface OaiInvalidRecord {
  kind: "invalid";
  line: number;
  identifier?: string;
  message: string;
}

export interface OaiResumptionToken {
  /** The token to send with the next request; "" when the list is complete. */
  token: string;
  completeListSize?: number;
  /** 0-based position of this page's first record in the whole list. */
  cursor?: number;
  /** When the token stops working (as given: expirationDate, or arXiv's newer "expires"). */
  expirationDate?: string;
}

export interface OaiRequest {
  /** The base URL (the <request> element's text). */
  url: string;
  verb?: string;
  metadataPrefix?: string;
  set?: string;
  from?: string;
  until?: string;
  resumptionToken?: string;
}

/** The last item of every response. */
export interface OaiEnd {
  kind: "end";
  responseDate?: string;
  request?: OaiRequest;
  /** Absent when the response had none (a single-page list); token "" when the list is complete. */
  resumptionToken?: OaiResumptionToken;
  /** The repository answered noRecordsMatch: nothing matched the request (not an error). */
  noRecordsMatch: boolean;
  records: number;
  deleted: number;
  invalid: number;
}

export type OaiItem = OaiRecord | OaiDeletedRecord | OaiInvalidRecord | OaiEnd;

export interface OaiPmhOptions {
  /** Named in error messages. */
  file?: string;
  /** `Paper.source`; default "oai". */
  source?: string;
  /** maxXmlDepth and maxRecordBytes apply; default DEFAULT_LIMITS. */
  limits?: Partial<InputLimits>;
}

// ---------------------------------------------------------------------------------------------
// Metadata → Paper

const NAME_SUFFIX = /^(?:jr|sr|ii|iii|iv)\.?$/i;

/** "Miller, Steven J." → "Steven J. Miller"; "Yuan Jr, C. -P." → "C. -P. Yuan Jr"; no comma → as is. */
export function invertDcName(name: string): string {
  const parts = collapse(name).split(/\s*,\s*/).filter((p) => p !== "");
  if (parts.length <= 1) return parts[0] ?? "";
  const [keyname, ...rest] = parts as [string, ...string[]];
  const suffix = rest.filter((p) => NAME_SUFFIX.test(p));
  const forenames = rest.filter((p) => !NAME_SUFFIX.test(p)).join(" ");
  return [forenames, keyname, ...suffix].filter((p) => p !== "").join(" ");
}

function dateField(raw: string | undefined, what: string): string | undefined {
  if (raw === undefined) return undefined;
  const d = normaliseDate(raw);
  if (!d) recordProblem(`${what} ${JSON.stringify(raw)} is not a date`);
  return d;
}

interface Parsed {
  paper: Paper;
  extras: Pick<OaiRecord, "journalRef" | "reportNo" | "license" | "submitter" | "mscClass" | "acmClass">;
}

function newPaper(id: string, title: string, abstract: string, authors: string[], categories: string[], source: string): Paper {
  if (!title) recordProblem(`record ${id} has no title`);
  // arXiv's metadata writes accents in LaTeX ("Bal\\'azs").
  return { id, title, abstract, authors: authors.map(latexToUnicode), categories, links: arxivLinks(id), source };
}

function fromOaiDc(dc: XmlNode, header: OaiHeader, source: string): Parsed {
  const ref = arxivRefOf(header.identifier, "<identifier>");
  const title = collapse(childrenNamed(dc, DC_NS, "title").map((t) => t.text).join(" "));
  const authors = childrenNamed(dc, DC_NS, "creator").map((c) => invertDcName(c.text)).filter((n) => n !== "");
  const categories: string[] = [];
  for (const s of childrenNamed(dc, DC_NS, "subject")) {
    const code = categoryOfSubject(s.text);
    if (code && !categories.includes(code)) categories.push(code);
  }
  let abstract = "";
  let comment: string | undefined;
  for (const d of childrenNamed(dc, DC_NS, "description")) {
    const text = collapse(d.text);
    const c = /^Comment:\s*(.*)$/s.exec(text);
    if (c) comment ??= c[1];
    else if (!abstract) abstract = text;
  }
  const paper = newPaper(ref.id, title, abstract, authors, categories, source);
  const dates = childrenNamed(dc, DC_NS, "date").map((d) => dateField(d.text.trim(), "<dc:date>")!).filter(Boolean);
  if (dates.length > 0) paper.published = dates[0];
  if (dates.length > 1 && dates[dates.length - 1] !== dates[0]) paper.updated = dates[dates.length - 1];
  if (comment) paper.comment = comment;
  const extras: Parsed["extras"] = {};
  for (const idNode of childrenNamed(dc, DC_NS, "identifier")) {
    const v = collapse(idNode.text);
    if (!v || /^https?:\/\//i.test(v)) continue;
    if (/^doi:/i.test(v)) {
      paper.doi ??= firstDoi(v);
    } else extras.journalRef ??= v;
  }
  return { paper, extras };
}

/** Fields the arXiv and arXivRaw formats share. */
function commonArxivFields(meta: XmlNode, ns: string, paper: Paper, extras: Parsed["extras"]): void {
  const text = (local: string) => {
    const t = childText(meta, ns, local);
    return t === undefined ? undefined : collapse(t);
  };
  const comment = text("comments");
  if (comment) paper.comment = comment;
  const doi = firstDoi(text("doi"));
  if (doi) paper.doi = doi;
  const journalRef = text("journal-ref");
  if (journalRef) extras.journalRef = journalRef;
  const reportNo = text("report-no");
  if (reportNo) extras.reportNo = reportNo;
  const license = text("license");
  if (license) extras.license = license;
  const msc = text("msc-class");
  if (msc) extras.mscClass = msc;
  const acm = text("acm-class");
  if (acm) extras.acmClass = acm;
}

function idOf(meta: XmlNode, ns: string, header: OaiHeader) {
  const raw = childText(meta, ns, "id");
  return raw ? arxivRefOf(raw, "<id>") : arxivRefOf(header.identifier, "<identifier>");
}

function categoriesOf(meta: XmlNode, ns: string): string[] {
  return [...new Set((childText(meta, ns, "categories") ?? "").split(/\s+/).filter((c) => c !== ""))];
}

function fromArxiv(meta: XmlNode, header: OaiHeader, source: string): Parsed {
  const ref = idOf(meta, ARXIV_OAI_NS, header);
  const authors: string[] = [];
  const list = child(meta, ARXIV_OAI_NS, "authors");
  for (const a of list ? childrenNamed(list, ARXIV_OAI_NS, "author") : []) {
    // "Forenames Keyname Suffix": no comma, so a joined author list can never split a name.
    const name = ["forenames", "keyname", "suffix"].map((k) => collapse(childText(a, ARXIV_OAI_NS, k) ?? "")).filter((s) => s !== "").join(" ");
    if (name) authors.push(name);
  }
  const paper = newPaper(
    ref.id,
    collapse(childText(meta, ARXIV_OAI_NS, "title") ?? ""),
    collapse(childText(meta, ARXIV_OAI_NS, "abstract") ?? ""),
    authors,
    categoriesOf(meta, ARXIV_OAI_NS),
    source,
  );
  if (ref.version !== undefined) paper.version = ref.version;
  const published = dateField(childText(meta, ARXIV_OAI_NS, "created"), "<created>");
  const updated = dateField(childText(meta, ARXIV_OAI_NS, "updated"), "<updated>");
  if (published) paper.published = published;
  if (updated) paper.updated = updated;
  const extras: Parsed["extras"] = {};
  commonArxivFields(meta, ARXIV_OAI_NS, paper, extras);
  return { paper, extras };
}

function fromArxivRaw(meta: XmlNode, header: OaiHeader, source: string): Parsed {
  const ref = idOf(meta, ARXIV_RAW_NS, header);
  const paper = newPaper(
    ref.id,
    collapse(childText(meta, ARXIV_RAW_NS, "title") ?? ""),
    collapse(childText(meta, ARXIV_RAW_NS, "abstract") ?? ""),
    splitAuthors(collapse(childText(meta, ARXIV_RAW_NS, "authors") ?? "")),
    categoriesOf(meta, ARXIV_RAW_NS),
    source,
  );
  const versions = childrenNamed(meta, ARXIV_RAW_NS, "version").map((v) => {
    const label = v.attrs.version ?? "";
    const n = Number(label.replace(/^v/i, ""));
    if (!Number.isSafeInteger(n) || n < 1) recordProblem(`record ${ref.id}: <version version=${JSON.stringify(label)}> is not a version`);
    return { n, date: dateField(childText(v, ARXIV_RAW_NS, "date"), `<version ${label}> <date>`) };
  });
  versions.sort((a, b) => a.n - b.n);
  const last = versions[versions.length - 1];
  const version = Math.max(last?.n ?? 0, ref.version ?? 0);
  if (version > 0) paper.version = version;
  if (versions[0]?.date) paper.published = versions[0].date;
  if (last && versions.length > 1 && last.date) paper.updated = last.date;
  const extras: Parsed["extras"] = {};
  const submitter = childText(meta, ARXIV_RAW_NS, "submitter");
  if (submitter) extras.submitter = collapse(submitter);
  commonArxivFields(meta, ARXIV_RAW_NS, paper, extras);
  return { paper, extras };
}

function readHeader(record: XmlNode): { header: OaiHeader; deleted: boolean } {
  const h = child(record, OAI_NS, "header");
  if (!h) recordProblem("record without <header>");
  const identifier = childText(h, OAI_NS, "identifier");
  if (!identifier) recordProblem("record header without <identifier>");
  const header: OaiHeader = {
    identifier,
    setSpecs: childrenNamed(h, OAI_NS, "setSpec").map((s) => s.text.trim()).filter((s) => s !== ""),
  };
  const datestamp = childText(h, OAI_NS, "datestamp");
  if (datestamp) header.datestamp = normaliseDate(datestamp) ?? datestamp;
  return { header, deleted: h.attrs.status === "deleted" };
}

function recordToItem(record: XmlNode, source: string): OaiRecord | OaiDeletedRecord {
  const { header, deleted } = readHeader(record);
  if (deleted) {
    const out: OaiDeletedRecord = { kind: "deleted", line: record.line, header };
    try {
      out.id = arxivRefOf(header.identifier, "<identifier>").id;
    } catch {
      // Not an arXiv identifier: the header still names the record.
    }
    return out;
  }
  const metadata = child(record, OAI_NS, "metadata");
  const meta = metadata?.children[0];
  if (!meta) recordProblem(`record ${header.identifier} has no <metadata>`);
  let parsed: Parsed;
  let metadataFormat: OaiMetadataFormat;
  if (meta.uri === OAI_DC_NS && meta.local === "dc") {
    metadataFormat = "oai_dc";
    parsed = fromOaiDc(meta, header, source);
  } else if (meta.uri === ARXIV_OAI_NS && meta.local === "arXiv") {
    metadataFormat = "arXiv";
    parsed = fromArxiv(meta, header, source);
  } else if (meta.uri === ARXIV_RAW_NS && meta.local === "arXivRaw") {
    metadataFormat = "arXivRaw";
    parsed = fromArxivRaw(meta, header, source);
  } else {
    recordProblem(`record ${header.identifier}: unsupported metadata format <{${meta.uri}}${meta.local}> (expected oai_dc, arXiv or arXivRaw)`);
  }
  return { kind: "record", line: record.line, header, metadataFormat, paper: parsed.paper, ...parsed.extras };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Containers of the verbs this reader understands; their children are the records. */
const RECORD_CONTAINERS = new Set(["ListRecords", "GetRecord"]);
const OTHER_VERBS = new Set(["Identify", "ListSets", "ListMetadataFormats", "ListIdentifiers"]);

function nonNegativeInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s.trim())) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Incremental reader: `push` text chunks and get the items they completed; `finish` adds the end item. */
export class OaiPmhReader {
  private readonly xml: XmlElementStream;
  private readonly source: string;
  private readonly end: OaiEnd = { kind: "end", noRecordsMatch: false, records: 0, deleted: 0, invalid: 0 };
  private checkedRoot = false;
  private otherVerb: string | undefined;

  constructor(private readonly opts: OaiPmhOptions = {}) {
    this.source = opts.source ?? "oai";
    this.xml = new XmlElementStream(
      (_uri, local, ancestors) => {
        if (ancestors.length === 1) {
          if (RECORD_CONTAINERS.has(local)) return false;
          if (OTHER_VERBS.has(local)) {
            // Noted at its start tag, so a large ListIdentifiers response fails at once.
            this.otherVerb ??= local;
            return false;
          }
          return true;
        }
        return ancestors.length === 2 && RECORD_CONTAINERS.has(ancestors[1]!.local) && ancestors[1]!.uri === OAI_NS;
      },
      FORMAT,
      opts.file,
      opts.limits,
    );
  }

  push(chunk: string): OaiItem[] {
    return this.handle(this.xml.write(chunk));
  }

  /** Ends the input; the returned items end with the `end` item. */
  finish(): OaiItem[] {
    const items = this.handle(this.xml.close());
    items.push({ ...this.end });
    return items;
  }

  private checkRoot(): void {
    if (!this.checkedRoot && this.xml.root) {
      this.checkedRoot = true;
      const root = this.xml.root;
      if (root.uri !== OAI_NS || root.local !== "OAI-PMH") {
        const name = root.uri ? `{${root.uri}}${root.local}` : root.local;
        throw new SourceFormatError(`not an OAI-PMH response: the root element is <${name}>, expected <OAI-PMH>`, FORMAT, this.opts.file, 1);
      }
    }
    if (this.otherVerb) {
      throw new SourceFormatError(`an OAI-PMH ${this.otherVerb} response has no records (expected ListRecords or GetRecord)`, FORMAT, this.opts.file);
    }
  }

  private handle(nodes: XmlNode[]): OaiItem[] {
    this.checkRoot();
    const items: OaiItem[] = [];
    for (const node of nodes) {
      if (node.oversize && !(node.uri === OAI_NS && node.local === "record")) {
        throw new SourceFormatError(oversizeMessage(`<${node.local}>`, this.xml.limits), FORMAT, this.opts.file, node.line);
      }
      if (node.uri !== OAI_NS) continue;
      switch (node.local) {
        case "record":
          items.push(this.record(node));
          break;
        case "resumptionToken": {
          const t: OaiResumptionToken = { token: node.text.trim() };
          const size = nonNegativeInt(node.attrs.completeListSize);
          const cursor = nonNegativeInt(node.attrs.cursor);
          const expires = node.attrs.expirationDate ?? node.attrs.expires;
          if (size !== undefined) t.completeListSize = size;
          if (cursor !== undefined) t.cursor = cursor;
          if (expires) t.expirationDate = expires;
          this.end.resumptionToken = t;
          break;
        }
        case "error": {
          const code = node.attrs.code ?? "unknown";
          if (code === "noRecordsMatch") this.end.noRecordsMatch = true;
          else throw new OaiPmhError(code, collapse(node.text), this.opts.file);
          break;
        }
        case "responseDate":
          this.end.responseDate = node.text.trim();
          break;
        case "request": {
          const r: OaiRequest = { url: node.text.trim() };
          for (const k of ["verb", "metadataPrefix", "set", "from", "until", "resumptionToken"] as const) {
            if (node.attrs[k] !== undefined) r[k] = node.attrs[k];
          }
          this.end.request = r;
          break;
        }
      }
    }
    return items;
  }

  private record(node: XmlNode): OaiItem {
    try {
      if (node.oversize) recordProblem(oversizeMessage("record", this.xml.limits));
      const item = recordToItem(node, this.source);
      if (item.kind === "record") this.end.records++;
      else this.end.deleted++;
      return item;
    } catch (err) {
      if (!(err instanceof RecordProblem)) throw err;
      this.end.invalid++;
      const identifier = childText(child(node, OAI_NS, "header") ?? node, OAI_NS, "identifier");
      const out: OaiInvalidRecord = { kind: "invalid", line: node.line, message: err.message };
      if (identifier) out.identifier = identifier;
      return out;
    }
  }
}

/**
 * Streams an OAI-PMH response (a Readable, or any async iterable of bytes or text): records,
 * deleted markers and invalid records as they are read, then one `end` item. Throws
 * `OaiPmhError` for OAI errors other than noRecordsMatch and `SourceFormatError` for input that is
 * not an OAI-PMH ListRecords/GetRecord response.
 */
export async function* readOaiPmh(input: AsyncIterable<string | Buffer | Uint8Array>, opts: OaiPmhOptions = {}): AsyncGenerator<OaiItem> {
  const reader = new OaiPmhReader(opts);
  for await (const chunk of decodeUtf8(input)) yield* reader.push(chunk);
  yield* reader.finish();
}

/** `readOaiPmh` over a file (gzipped or not); file problems throw `PaperFileError`. */
export function readOaiPmhFile(file: string, opts: OaiPmhOptions = {}): AsyncGenerator<OaiItem> {
  return readOaiPmh(fileTextChunks(file), { ...opts, file: opts.file ?? file });
}

export interface OaiPage extends Omit<OaiEnd, "kind"> {
  papers: OaiRecord[];
  deletedRecords: OaiDeletedRecord[];
  invalidRecords: OaiInvalidRecord[];
}

/** Parses a whole response held in a string (for one fetched page). */
export function parseOaiPmh(xml: string, opts: OaiPmhOptions = {}): OaiPage {
  const reader = new OaiPmhReader(opts);
  const items = [...reader.push(xml), ...reader.finish()];
  const page: OaiPage = { noRecordsMatch: false, records: 0, deleted: 0, invalid: 0, papers: [], deletedRecords: [], invalidRecords: [] };
  for (const it of items) {
    if (it.kind === "record") page.papers.push(it);
    else if (it.kind === "deleted") page.deletedRecords.push(it);
    else if (it.kind === "invalid") page.invalidRecords.push(it);
    else {
      const { kind: _kind, ...end } = it;
      Object.assign(page, end);
    }
  }
  return page;
}
