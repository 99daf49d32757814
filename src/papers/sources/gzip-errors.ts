/** What went wrong in a gzip stream, in words a user can act on (zlib's own messages are terse). */

/** The reason for a gunzip failure met while streaming a file, or undefined when `err` is not one. */
export function describeGzipStreamError(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  const message = e?.message ?? "";
  if (!(e?.code?.startsWith("Z_") || /unexpected end of file|incorrect|invalid|unknown compression/i.test(message))) return undefined;
  if (/unexpected end of file/i.test(message)) return "the gzip file is cut short (it ends inside its compressed data)";
  if (isChecksumError(err)) return `the gzip checksum does not match its content: the file is damaged (zlib: ${message})`;
  if (/header|compression method|flags/i.test(message)) return `the gzip header is damaged (zlib: ${message})`;
  return `the compressed data is damaged (zlib: ${message})`;
}

/** zlib's complaint about the trailer's CRC or length: the data before it decoded. */
export function isChecksumError(err: unknown): boolean {
  return /incorrect (data|length) check/i.test((err as Error)?.message ?? "");
}
