/**
 * Splits long texts (abstracts, full-text sections) into passages that each fit the model's token
 * limit, along sentence boundaries where possible. Deterministic: the same text and options always
 * give the same passages.
 *
 * Sentence ends are `.`, `!` or `?` (plus closing quotes/brackets) followed by whitespace and a
 * capital letter, digit or opening quote/bracket, and blank lines. A period does not end a sentence
 * after common abbreviations ("e.g.", "i.e.", "et al.", "Fig. 3", "Eq.", "cf.", "vs.", …) or a single
 * capital initial ("J. Smith"); decimals (0.5) and versions (v1.2.3) never match since no space follows.
 */

export interface SplitOptions {
  /** Token limit per passage (as counted by `countTokens`, special tokens included). */
  maxTokens: number;
  /** Token counter of the model the passages are for (e.g. `embedder.countTokens`). */
  countTokens: (text: string) => number;
  /** Sentences per window; default 2. Windows that do not fit get fewer sentences. */
  windowSentences?: number;
  /**
   * Sentences to advance between windows; default `windowSentences` (no overlap). Use a smaller
   * value for overlapping windows. Never advances past the end of the window just emitted.
   */
  stride?: number;
}

/** Lower-cased words (without the final period) after which a period does not end a sentence. */
const ABBREVIATIONS = new Set([
  "e.g", "i.e", "al", "fig", "figs", "eq", "eqs", "eqn", "eqns", "ref", "refs", "sec", "secs", "sect",
  "cf", "vs", "approx", "resp", "dr", "mr", "mrs", "prof", "no", "nos", "vol", "vols", "pp", "p", "ca", "tab",
  "tabs", "ch", "chap", "appx", "suppl", "viz", "st", "jr", "sr", "inc", "ltd", "co", "corp", "dept", "univ",
  "op", "cit", "ed", "eds", "n.b", "a.k.a", "u.s", "u.k", "e.u", "ph.d",
]);

const SENTENCE_END = /([.!?]+)["'”’)\]]*\s+/g;

/** Splits text into sentences (whitespace-normalised, in order). */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const flat = para.replace(/\s+/g, " ").trim();
    if (flat.length === 0) continue;
    let start = 0;
    SENTENCE_END.lastIndex = 0;
    for (let m = SENTENCE_END.exec(flat); m !== null; m = SENTENCE_END.exec(flat)) {
      const end = m.index + m[0].length;
      if (end >= flat.length) break;
      if (!isBoundary(flat, m.index, m[1]!, flat[end]!)) continue;
      sentences.push(flat.slice(start, end).trim());
      start = end;
    }
    const rest = flat.slice(start).trim();
    if (rest.length > 0) sentences.push(rest);
  }
  return sentences;
}

function isBoundary(text: string, punctAt: number, punct: string, next: string): boolean {
  if (!/[\p{Lu}\p{N}"'“‘(\[]/u.test(next)) return false;
  if (punct !== ".") return true;
  // The word the period ends, e.g. "al", "e.g", "(Fig", "J".
  const before = text.slice(0, punctAt);
  const word = (before.match(/(\S+)$/)?.[1] ?? "").replace(/^[("'\[“‘]+/, "");
  if (word.length === 0) return true;
  if (/^\p{Lu}$/u.test(word)) return false; // initial: "J. Smith"
  const lower = word.toLowerCase();
  if (ABBREVIATIONS.has(lower)) return false;
  // Dotted abbreviations such as "U.S" or "e.g" not in the list: letters separated by periods.
  if (/^(\p{L}\.)+\p{L}$/u.test(word)) return false;
  return true;
}

/**
 * Splits `text` into passages that each fit `maxTokens`. A text that fits as a whole returns one
 * passage (whitespace-normalised); an empty text returns none. Longer texts become windows of up to
 * `windowSentences` sentences; a sentence that alone exceeds the limit is split at word boundaries
 * (and a single word longer than the limit at character boundaries).
 */
export function splitPassages(text: string, opts: SplitOptions): string[] {
  const { maxTokens, countTokens } = opts;
  const windowSentences = opts.windowSentences ?? 2;
  const stride = opts.stride ?? windowSentences;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  if (!Number.isInteger(windowSentences) || windowSentences < 1) {
    throw new RangeError(`windowSentences must be a positive integer, got ${windowSentences}`);
  }
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`stride must be a positive integer, got ${stride}`);

  const sentences = splitSentences(text);
  if (sentences.length === 0) return [];
  const whole = sentences.join(" ");
  const fits = (s: string): boolean => countTokens(s) <= maxTokens;
  if (fits(whole)) return [whole];

  const passages: string[] = [];
  let i = 0;
  while (i < sentences.length) {
    let k = Math.min(windowSentences, sentences.length - i);
    while (k > 1 && !fits(sentences.slice(i, i + k).join(" "))) k -= 1;
    const window = sentences.slice(i, i + k).join(" ");
    if (k === 1 && !fits(window)) passages.push(...splitLongSentence(window, maxTokens, countTokens));
    else passages.push(window);
    if (i + k >= sentences.length) break;
    i += Math.min(stride, k);
  }
  return passages;
}

/** Greedy chunks of whole words, each fitting `maxTokens`; found by galloping + binary search. */
function splitLongSentence(sentence: string, maxTokens: number, countTokens: (t: string) => number): string[] {
  const words = sentence.split(" ").filter((w) => w.length > 0);
  const chunks: string[] = [];
  let i = 0;
  while (i < words.length) {
    const fitsN = (n: number): boolean => countTokens(words.slice(i, i + n).join(" ")) <= maxTokens;
    const n = largestFitting(words.length - i, fitsN);
    if (n === 0) {
      chunks.push(...splitLongWord(words[i]!, maxTokens, countTokens));
      i += 1;
    } else {
      chunks.push(words.slice(i, i + n).join(" "));
      i += n;
    }
  }
  return chunks;
}

function splitLongWord(word: string, maxTokens: number, countTokens: (t: string) => number): string[] {
  const chars = Array.from(word); // code points: never split a surrogate pair
  const chunks: string[] = [];
  let i = 0;
  while (i < chars.length) {
    const fitsN = (n: number): boolean => countTokens(chars.slice(i, i + n).join("")) <= maxTokens;
    // A single character that does not fit means maxTokens cannot hold even special tokens + 1; take it anyway.
    const n = Math.max(1, largestFitting(chars.length - i, fitsN));
    chunks.push(chars.slice(i, i + n).join(""));
    i += n;
  }
  return chunks;
}

/** Largest n in [0, limit] with fits(n), assuming fits is monotone: gallop 1, 2, 4, … then bisect. */
function largestFitting(limit: number, fits: (n: number) => boolean): number {
  let lo = 0; // fits (vacuously)
  let hi = 1;
  while (hi <= limit && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  hi = Math.min(hi, limit + 1); // first known (or assumed) non-fitting size
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
