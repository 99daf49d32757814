/**
 * How large an input paperhound reads, in one place (SECURITY.md "Limits", docs/configuration.md). Each bound
 * keeps the work per record small whatever a file or a feed holds: a 50 MB abstract or a line
 * that never ends is refused with a message naming the limit, not read into gigabytes.
 * Two can be raised where a user could need more (settings MAX_RECORD_BYTES, MAX_ABSTRACT_CHARS).
 */

export interface InputLimits {
  /** A JSON Lines line, a JSON array element, an XML record (<entry>, <item>, <record>): bytes of text. */
  maxRecordBytes: number;
  /** A paper's abstract, in characters (arXiv caps abstracts at 1,920). */
  maxAbstractChars: number;
  /** A paper's title, in characters. */
  maxTitleChars: number;
  /** Elements open at once in an XML document (feeds nest 4-6 deep). */
  maxXmlDepth: number;
}

export const DEFAULT_LIMITS: Readonly<InputLimits> = {
  maxRecordBytes: 16 * 1024 * 1024,
  maxAbstractChars: 100_000,
  maxTitleChars: 2_000,
  maxXmlDepth: 256,
};

/** The setting that raises each adjustable limit, for messages. */
export const LIMIT_SETTINGS: Partial<Record<keyof InputLimits, string>> = {
  maxRecordBytes: "MAX_RECORD_BYTES",
  maxAbstractChars: "MAX_ABSTRACT_CHARS",
};

/** "(limit 100,000 characters; raise it with MAX_ABSTRACT_CHARS)" */
export function limitNote(limit: keyof InputLimits, limits: Readonly<InputLimits>, unit: string): string {
  const setting = LIMIT_SETTINGS[limit];
  return `(the limit is ${limits[limit].toLocaleString("en-US")} ${unit}${setting ? `; ${setting} raises it` : ""})`;
}

/** The limits with the configured values of the adjustable ones. */
export function limitsFrom(config: { readonly maxRecordBytes: number; readonly maxAbstractChars: number }): InputLimits {
  return { ...DEFAULT_LIMITS, maxRecordBytes: config.maxRecordBytes, maxAbstractChars: config.maxAbstractChars };
}

/** Why a paper is too large to keep (title or abstract over its limit), or undefined. */
export function paperSizeProblem(paper: { readonly title: string; readonly abstract: string }, limits: Readonly<InputLimits>): string | undefined {
  if (paper.title.length > limits.maxTitleChars) {
    return `the title has ${paper.title.length.toLocaleString("en-US")} characters ${limitNote("maxTitleChars", limits, "characters")}`;
  }
  if (paper.abstract.length > limits.maxAbstractChars) {
    return `the abstract has ${paper.abstract.length.toLocaleString("en-US")} characters ${limitNote("maxAbstractChars", limits, "characters")}`;
  }
  return undefined;
}

/** The message for a record over maxRecordBytes (its text was not kept). */
export function oversizeRecordMessage(limits: Readonly<InputLimits>): string {
  return `the record is larger than the limit for one record, skipped unread ${limitNote("maxRecordBytes", limits, "bytes")}`;
}
