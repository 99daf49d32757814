/**
 * What every adapter does to text and links before they reach a chat platform, with the platform's
 * own escaping and limits passed in.
 */
import { truncateWords } from "../../commands/view.js";

/**
 * `text` cut on a word (before escaping) until its escaped form is at most `max` characters. When
 * even the shortest cut does not fit: `"cut"` cuts the escaped text hard, `"empty"` gives "".
 */
export function fitEscaped(text: string, max: number, escape: (s: string) => string, overflow: "cut" | "empty"): string {
  let limit = max;
  for (;;) {
    const out = escape(truncateWords(text, limit));
    if (out.length <= max) return out;
    if (limit <= 1) return overflow === "cut" ? out.slice(0, max) : "";
    limit -= Math.max(1, out.length - max);
  }
}

/**
 * An http(s) URL as a link target: the characters the platform's link syntax reserves (`reserved`,
 * a global character class) percent-encoded; undefined for other schemes, unparsable URLs, or one
 * longer than `maxLength` once encoded.
 */
export function linkTarget(url: string | undefined, reserved: RegExp, maxLength: number): string | undefined {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
  const s = u.toString().replace(reserved, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return s.length <= maxLength ? s : undefined;
}
