/** Lines of a text stream, bounded: a line longer than the limit is skipped unread, not held in memory. */

export interface TextLine {
  /** 1-based. */
  line: number;
  /** The line without its line end; "" when `oversize`. */
  text: string;
  /** The line was longer than `maxChars`: its text was dropped as it streamed by. */
  oversize?: true;
}

/** Lines of a text stream without their line ends, numbered from 1 (JSON Lines, archives of days). */
export async function* textLines(chunks: AsyncIterable<string>, maxChars = Number.POSITIVE_INFINITY): AsyncGenerator<TextLine> {
  // Pieces of the current line are kept apart and joined once: appending each chunk to a string and
  // searching it again would re-scan a long line (an 80 KB day of daily papers) once per chunk.
  let pieces: string[] = [];
  let size = 0;
  let oversize = false;
  let line = 0;
  const emit = (last: string): TextLine => {
    line++;
    const over = oversize || size + last.length > maxChars + 1; // + 1: a CR before the newline
    let text = over ? "" : pieces.length === 0 ? last : pieces.join("") + last;
    pieces = [];
    size = 0;
    oversize = false;
    if (over) return { line, text, oversize: true };
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    return { line, text };
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf("\n"); nl >= 0; nl = chunk.indexOf("\n", start)) {
      yield emit(chunk.slice(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length && !oversize) {
      const rest = start === 0 ? chunk : chunk.slice(start);
      size += rest.length;
      if (size > maxChars + 1) {
        oversize = true;
        pieces = [];
      } else pieces.push(rest);
    }
  }
  if (pieces.length > 0 || oversize) yield emit("");
}
