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
 */
import { SaxesParser, type SaxesTagNS } from "saxes";
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
}

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
  readonly textParts: string[];
}

/**
 * Push parser: `write` text chunks, get back the captured elements that closed in them.
 * Malformed XML throws `SourceFormatError` with the line.
 */
export class XmlElementStream {
  /** The root element, once its start tag has been read. */
  root: (XmlElementName & { readonly namespaces: Readonly<Record<string, string>> }) | undefined;
  private readonly parser: SaxesParser<{ xmlns: true; position: true }>;
  private readonly ancestors: XmlElementName[] = [];
  /** Captured elements still open, outermost first. */
  private readonly open: OpenElement[] = [];
  private done: XmlNode[] = [];
  private closed = false;

  constructor(
    private readonly select: XmlSelector,
    private readonly format: string,
    private readonly file?: string,
  ) {
    this.parser = new SaxesParser({ xmlns: true, position: true });
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

  private onOpen(tag: SaxesTagNS): void {
    const uri = tag.uri;
    const local = tag.local;
    if (this.root === undefined) this.root = { uri, local, namespaces: { ...tag.ns } };
    const parent = this.open[this.open.length - 1];
    if (parent || this.select(uri, local, this.ancestors)) {
      const attrs: Record<string, string> = {};
      for (const key in tag.attributes) {
        const a = tag.attributes[key]!;
        if (a.prefix !== "xmlns" && a.name !== "xmlns") attrs[a.local] = a.value;
      }
      const node: XmlNode = { uri, local, attrs, children: [], text: "", line: this.parser.line };
      if (parent) parent.node.children.push(node);
      this.open.push({ node, depth: this.ancestors.length, textParts: [] });
    }
    this.ancestors.push({ uri, local });
  }

  private onClose(): void {
    this.ancestors.pop();
    const top = this.open[this.open.length - 1];
    // Inside a captured subtree every element is captured, so the innermost open one is closing.
    if (!top || top.depth !== this.ancestors.length) return;
    this.open.pop();
    top.node.text = top.textParts.length === 1 ? top.textParts[0]! : top.textParts.join("");
    if (this.open.length === 0) this.done.push(top.node);
  }

  private onText(t: string): void {
    const top = this.open[this.open.length - 1];
    if (top) top.textParts.push(t);
  }

  /** Feeds a chunk; returns the captured elements that were completed by it. */
  write(chunk: string): XmlNode[] {
    if (this.closed) throw new Error("XmlElementStream: write after close");
    this.parser.write(chunk);
    return this.take();
  }

  /** Ends the input (a document cut short is an error); returns the last completed elements. */
  close(): XmlNode[] {
    if (!this.closed) {
      this.closed = true;
      if (this.root === undefined) throw new SourceFormatError("no XML element found (empty or not XML)", this.format, this.file, 1);
      this.parser.close();
    }
    return this.take();
  }

  private take(): XmlNode[] {
    const out = this.done;
    if (out.length > 0) this.done = [];
    return out;
  }
}
