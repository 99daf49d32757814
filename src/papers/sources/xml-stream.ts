/**
 * Streaming XML for the feed parsers, on the saxes SAX parser (namespace-aware, strict).
 *
 * A feed is one big root holding many small records (`<entry>`, `<item>`, `<record>`). Instead of
 * a DOM of the whole document, `XmlElementStream` builds a small tree only for the elements a
 * selector picks (records and the few header elements next to them) and hands each one over as
 * soon as it closes; everything else is skipped. Memory therefore stays at one record, whatever
 * the file size.
 *
 * Elements are matched by namespace URI and local name, never by prefix: the 2016 arXiv API
 * declares `opensearch:` on each element and the current one on the root, and both read the same.
 *
 * Limits (src/papers/limits.ts), so that no input costs more than linear time or one record of memory:
 *   - maxXmlDepth: an element opening deeper than this stops the whole document with
 *     `SourceFormatError` (feeds nest 4-6 deep). saxes resolves namespaces by walking the open-tag
 *     stack, so every element costs its depth: unbounded nesting would take quadratic time. The check
 *     runs at the start tag's name, before saxes does that walk.
 *   - maxRecordBytes: a captured element larger than this in the document (from its `<` to its end
 *     tag, in characters: UTF-16 code units, markup included) stops growing: its text and later
 *     descendants are dropped and the node comes out with `oversize: true`, for the parser to report
 *     as a bad record while reading goes on. Markup counts so that a record of millions of empty
 *     elements is bounded as well as one long text. (saxes itself still holds one text run, up to
 *     its next tag, while reading it.)
 * After any error the stream is dead: saxes stopped mid-chunk, so every later call throws it again.
 */
import { SaxesParser, type SaxesTagNS } from "saxes";
import { DEFAULT_LIMITS, limitNote, type InputLimits } from "../limits.js";
import { SourceFormatError } from "./source-common.js";

export interface XmlNode {
  /** Namespace URI ("" when none). */
  readonly uri: string;
  readonly local: string;
  /** Attribute values by local name (namespace declarations left out). */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlNode[];
  /** This element's own character data (CDATA included), not its children's. */
  text: string;
  /** 1-based line of the start tag. */
  readonly line: number;
  /**
   * Set on a captured (top-level) element larger than maxRecordBytes: it holds only what was read
   * before the limit (children already closed then, attributes), never its full content.
   */
  oversize?: true;
}

/** The limits the stream applies; the rest of `InputLimits` is not its business. */
export type XmlLimits = Pick<InputLimits, "maxXmlDepth" | "maxRecordBytes">;

export interface XmlElementName {
  readonly uri: string;
  readonly local: string;
}

/**
 * Whether to capture an element. `ancestors` runs from the root to the parent; only elements
 * outside captured subtrees are asked (a captured element keeps all its descendants).
 */
export type XmlSelector = (uri: string, local: string, ancestors: readonly XmlElementName[]) => boolean;

/** The first child with this namespace and local name. */
export function child(node: XmlNode, uri: string, local: string): XmlNode | undefined {
  for (const c of node.children) if (c.local === local && c.uri === uri) return c;
  return undefined;
}

/** All children with this namespace and local name, in order. */
export function childrenNamed(node: XmlNode, uri: string, local: string): XmlNode[] {
  return node.children.filter((c) => c.local === local && c.uri === uri);
}

/** Text of the first such child, trimmed; undefined when absent or blank. */
export function childText(node: XmlNode, uri: string, local: string): string | undefined {
  const c = child(node, uri, local);
  if (!c) return undefined;
  const t = c.text.trim();
  return t === "" ? undefined : t;
}

/** A captured element still open: its node, its depth (number of ancestors) and its text so far. */
interface OpenElement {
  readonly node: XmlNode;
  readonly depth: number;
  textParts: string[];
}

/**
 * The per-record problem for an oversize node, e.g. "entry 2401.00631 is too large to read (the
 * limit is 16,777,216 characters; MAX_RECORD_BYTES raises it)". `what` names the record.
 */
export function oversizeMessage(what: string, limits: XmlLimits): string {
  return `${what} is too large to read ${limitNote("maxRecordBytes", { ...DEFAULT_LIMITS, ...limits }, "characters")}`;
}

/**
 * Push parser: `write` text chunks, get back the captured elements that closed in them.
 * Malformed XML, or nesting deeper than `maxXmlDepth`, throws `SourceFormatError` with the line.
 */
export class XmlElementStream {
  /** The root element, once its start tag has been read. */
  root: (XmlElementName & { readonly namespaces: Readonly<Record<string, string>> }) | undefined;
  readonly limits: Readonly<XmlLimits>;
  private readonly parser: SaxesParser<{ xmlns: true; position: true }>;
  private readonly ancestors: XmlElementName[] = [];
  /** Captured elements still open, outermost first. */
  private readonly open: OpenElement[] = [];
  /** Document offset of the `<` of the start tag being read, and of the open top-level capture's. */
  private tagStart = 0;
  private recordStart = 0;
  private done: XmlNode[] = [];
  private closed = false;
  private failure: unknown;

  constructor(
    private readonly select: XmlSelector,
    private readonly format: string,
    private readonly file?: string,
    limits: Partial<XmlLimits> = {},
  ) {
    const maxXmlDepth = limits.maxXmlDepth ?? DEFAULT_LIMITS.maxXmlDepth;
    const maxRecordBytes = limits.maxRecordBytes ?? DEFAULT_LIMITS.maxRecordBytes;
    // A NaN limit would compare false and silently turn the check off.
    if (!(maxXmlDepth >= 1 && maxRecordBytes >= 1)) throw new RangeError(`XmlElementStream: bad limits ${JSON.stringify(limits)}`);
    this.limits = { maxXmlDepth, maxRecordBytes };
    this.parser = new SaxesParser({ xmlns: true, position: true });
    this.parser.on("opentagstart", (tag) => this.onOpenStart(tag.name));
    this.parser.on("opentag", (tag) => this.onOpen(tag));
    this.parser.on("closetag", () => this.onClose());
    this.parser.on("text", (t) => this.onText(t));
    this.parser.on("cdata", (t) => this.onText(t));
    this.parser.on("error", (err) => {
      throw this.syntaxError(err.message);
    });
  }

  private syntaxError(message: string): SourceFormatError {
    // saxes prefixes "line:column: "; keep the line for our own prefix, drop the rest.
    const m = /^(?:[^:]*:)?(\d+):(\d+): (.*)$/s.exec(message);
    const line = m ? Number(m[1]) : this.parser.line;
    const detail = m ? m[3]! : message;
    return new SourceFormatError(`not well-formed XML: ${detail}`, this.format, this.file, line);
  }

  /** At the start tag's name: before saxes resolves its namespace, a walk as long as the depth. */
  private onOpenStart(name: string): void {
    if (this.ancestors.length >= this.limits.maxXmlDepth) {
      const max = this.limits.maxXmlDepth.toLocaleString("en-US");
      throw new SourceFormatError(
        `the document nests deeper than ${max} elements (feeds nest 4-6 deep); not read further`,
        this.format,
        this.file,
        this.parser.line,
      );
    }
    // saxes has read "<", the name and the character after it.
    this.tagStart = this.parser.position - name.length - 2;
  }

  private onOpen(tag: SaxesTagNS): void {
    const uri = tag.uri;
    const local = tag.local;
    if (this.root === undefined) this.root = { uri, local, namespaces: { ...tag.ns } };
    const parent = this.open[this.open.length - 1];
    if (parent ? !this.oversize() : this.select(uri, local, this.ancestors)) {
      if (!parent) this.recordStart = this.tagStart;
      // A start tag alone can pass the limit (megabytes of attributes): then its attributes go too.
      const big = !parent && this.parser.position - this.recordStart > this.limits.maxRecordBytes;
      const attrs: Record<string, string> = {};
      if (!big) {
        for (const key in tag.attributes) {
          const a = tag.attributes[key]!;
          if (a.prefix !== "xmlns" && a.name !== "xmlns") attrs[a.local] = a.value;
        }
      }
      const node: XmlNode = { uri, local, attrs, children: [], text: "", line: this.parser.line };
      if (big) node.oversize = true;
      if (parent) parent.node.children.push(node);
      this.open.push({ node, depth: this.ancestors.length, textParts: [] });
    }
    this.ancestors.push({ uri, local });
  }

  private onClose(): void {
    this.ancestors.pop();
    const top = this.open[this.open.length - 1];
    // Inside a captured subtree every element is captured (until it is oversize, then none is
    // added), so the innermost open one is closing unless it is a dropped descendant.
    if (!top || top.depth !== this.ancestors.length) return;
    if (this.open.length === 1) this.oversize();
    this.open.pop();
    top.node.text = top.textParts.length === 1 ? top.textParts[0]! : top.textParts.join("");
    if (this.open.length === 0) this.done.push(top.node);
  }

  private onText(t: string): void {
    const top = this.open[this.open.length - 1];
    if (top && !this.oversize()) top.textParts.push(t);
  }

  /**
   * Whether the open top-level capture has passed maxRecordBytes (read so far); the first time it
   * has, marks it and drops the text its open elements collected.
   */
  private oversize(): boolean {
    const record = this.open[0]!.node;
    if (record.oversize) return true;
    if (this.parser.position - this.recordStart <= this.limits.maxRecordBytes) return false;
    record.oversize = true;
    for (const o of this.open) o.textParts = [];
    return true;
  }

  /** Feeds a chunk; returns the captured elements that were completed by it. */
  write(chunk: string): XmlNode[] {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new Error("XmlElementStream: write after close");
    this.run(() => this.parser.write(chunk));
    return this.take();
  }

  /** Ends the input (a document cut short is an error); returns the last completed elements. */
  close(): XmlNode[] {
    if (this.failure !== undefined) throw this.failure;
    if (!this.closed) {
      this.closed = true;
      this.run(() => {
        if (this.root === undefined) throw new SourceFormatError("no XML element found (empty or not XML)", this.format, this.file, 1);
        this.parser.close();
      });
    }
    return this.take();
  }

  /** A throw from a handler leaves saxes mid-chunk: the first error is the answer from then on. */
  private run(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  private take(): XmlNode[] {
    const out = this.done;
    if (out.length > 0) this.done = [];
    return out;
  }
}
