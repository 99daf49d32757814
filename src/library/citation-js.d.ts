/** The part of Citation.js paperhound uses (its packages ship no type declarations before 0.9, which needs Node 22). */
declare module "@citation-js/core" {
  export class Cite {
    constructor(data: unknown);
    /** CSL-JSON items. */
    data: Record<string, unknown>[];
    format(format: string, options?: Record<string, unknown>): unknown;
  }
  export const plugins: {
    input: {
      /** Parses `data` through the input plugins up to the format `target` (e.g. "@biblatex/entries+list"). */
      chain(data: unknown, options: { target: string; generateGraph?: boolean }): unknown;
    };
  };
}

declare module "@citation-js/name" {
  /** "Ann van der Berg" → { given: "Ann", "non-dropping-particle": "van der", family: "Berg" }. */
  export function parse(name: string): { given?: string; family?: string; [part: string]: string | undefined };
}

declare module "@citation-js/plugin-bibtex";
declare module "@citation-js/plugin-ris";
