/**
 * LaTeX accents and commands as Unicode ("Bal\'azs" → "Balázs", "J{\"o}rg" → "Jörg"), as arXiv's
 * metadata and the Kaggle snapshot write author names, so names read right and `--author balazs`
 * finds them. Decoded by Citation.js's BibTeX value parser (what library import reads BibTeX with),
 * loaded on the first name that needs it; text it cannot parse stays as it is.
 */
import { createRequire } from "node:module";

type ValueParser = (text: string, field: string) => unknown;

let parseValue: ValueParser | undefined;

export function latexToUnicode(text: string): string {
  if (!/[\\{}]/.test(text)) return text;
  parseValue ??= (createRequire(import.meta.url)("@citation-js/plugin-bibtex/lib/input/value.js") as { parse: ValueParser }).parse;
  try {
    const out = parseValue(text, "title");
    return typeof out === "string" && out.trim() !== "" ? out.replace(/\s+/g, " ").trim() : text;
  } catch {
    return text;
  }
}
