/**
 * How a paper is shown wherever people read it (chat views, digests, the terminal): its link, short
 * author list, abstract snippet, date, word wrapping for fixed-width text, and the one policy for
 * characters outside text must not bring to a reader's screen (every renderer applies it).
 */
import { splitSentences } from "../embed/passages.js";
import type { StoredPaper } from "../search/types.js";
import { arxivAbsUrl, isArxivId } from "./arxiv-id.js";

/** Terminal width the CLI and the console wrap to. */
export const WIDTH = 80;

/** The paper's page: arXiv abs page for arXiv ids, else its own links, else a DOI link. */
export function paperUrl(p: StoredPaper): string | undefined {
  if (isArxivId(p.id)) return arxivAbsUrl(p.id);
  return p.links.abs ?? p.links.pdf ?? p.links.project ?? p.links.code ?? (p.doi ? `https://doi.org/${p.doi}` : undefined);
}

const PARTICLES = new Set(["van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "ten", "dos", "das", "bin", "al"]);

/** "Alice B. Smith" → "A. B. Smith"; "Jean-Pierre Dupont" → "J.-P. Dupont"; one-word names as they are. */
export function shortName(name: string): string {
  const words = name.trim().split(/\s+/);
  if (words.length < 2) return name.trim();
  let surnameStart = words.length - 1;
  while (surnameStart > 1 && PARTICLES.has(words[surnameStart - 1]!.toLowerCase())) surnameStart--;
  const initials = words.slice(0, surnameStart).map((w) =>
    w
      .split("-")
      .map((part) => {
        const first = [...part][0];
        return first && /\p{L}/u.test(first) ? `${first.toUpperCase()}.` : part;
      })
      .join("-"),
  );
  return [...initials, ...words.slice(surnameStart)].join(" ");
}

/** Up to three authors shortened; more: the first two and "et al.". */
export function shortAuthors(authors: readonly string[]): string {
  if (authors.length === 0) return "";
  if (authors.length <= 3) return authors.map(shortName).join(", ");
  return `${authors.slice(0, 2).map(shortName).join(", ")} et al.`;
}

/** The first sentence, or the first ~160 characters cut at a word, with an ellipsis when cut. */
export function abstractSnippet(abstract: string, max = 160): string {
  const text = abstract.replace(/\s+/g, " ").trim();
  const sentence = splitSentences(abstract)[0];
  if (sentence && sentence.length <= max) return sentence;
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, "")}…`;
}

/**
 * Greedy word wrap; every line starts with `indent`. Words are never split: a word longer than the
 * line (a long URL or id) gets a line of its own, so it stays whole and clickable.
 */
export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const room = Math.max(20, width - indent.length);
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (!line) line = word;
    else if ([...line].length + 1 + [...word].length <= room) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l);
}

/** The date shown for a paper: published, else last updated. */
export function paperDate(p: StoredPaper): string | undefined {
  return p.published ?? p.updated;
}

/**
 * Control characters (C0 except tab and newline, DEL, C1) and bidirectional overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069). ESC starts terminal sequences (clear the screen, OSC 52 writes the
 * clipboard, OSC 8 makes links); an override makes text read otherwise than it is stored.
 */
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Outside text (papers, feeds, users) made safe to show anywhere: each unsafe character (above) becomes a space. */
export function withoutControls(text: string): string {
  return text.replace(UNSAFE_CHARS, " ");
}
