/**
 * Reading source files: gzipped or not (told by the magic bytes, not the name), decoded as UTF-8,
 * in chunks so memory stays flat in the file size. Every failure (missing, unreadable, empty,
 * corrupt gzip data) is a `PaperFileError` naming the file, as in jsonl.ts.
 */
import { constants as fsConstants, type Stats } from "node:fs";
import { access, stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { pipeline, type Readable } from "node:stream";
import zlib from "node:zlib";
import { describeGzipStreamError, isChecksumError } from "./gzip-errors.js";
import { openForReading, readError } from "./jsonl.js";

/**
 * A file given as input, checked before anything is read or written: its stats when it is a
 * readable regular file, else what is wrong with it. A FIFO without a writer would block for ever
 * (and input files may be read twice: their format, then their papers).
 */
export async function checkInputFile(file: string): Promise<Stats | string> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) return `${file} is a directory`;
    if (!st.isFile()) return `${file} is ${st.isFIFO() ? "a pipe (FIFO)" : st.isSocket() ? "a socket" : "a device"}, not a regular file: save the stream to a file first`;
    await access(file, fsConstants.R_OK);
    return st;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `${file} does not exist` : code === "EACCES" ? `${file} is not readable (permission denied)` : `cannot read ${file}: ${(err as Error).message}`;
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * The first `bytes` bytes of the file's content: gunzipped when the file is gzipped (as much as
 * the compressed head yields), raw otherwise.
 */
export async function readFileHead(file: string, bytes = 64 * 1024): Promise<Buffer> {
  const handle = await openForReading(file);
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Gunzips as much of a (possibly cut) gzip head as it holds; the head itself when not gzipped. */
export function decodeHead(head: Buffer): Buffer {
  if (!isGzip(head)) return head;
  const decoded = gunzipHead(head);
  return decoded instanceof Error ? Buffer.alloc(0) : decoded;
}

/** The decoded head, or zlib's error. A wrong checksum in the trailer still lets the content be told. */
function gunzipHead(head: Buffer): Buffer | Error {
  // Z_SYNC_FLUSH: return what the partial stream decodes to instead of failing on its end.
  const gunzip = (b: Buffer) => zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  try {
    return gunzip(head);
  } catch (err) {
    if (isChecksumError(err) && head.length > 18) {
      try {
        return gunzip(head.subarray(0, head.length - 8));
      } catch {
        // the first error says more
      }
    }
    return err as Error;
  }
}

/** A whole file decoded strictly, so that one cut inside its compressed data says so; a bad checksum as gunzipHead. */
function gunzipWhole(file: Buffer): Buffer | Error {
  try {
    return zlib.gunzipSync(file);
  } catch (err) {
    return isChecksumError(err) ? gunzipHead(file) : (err as Error);
  }
}

/**
 * Why a gzipped file's head tells no format, in words: cut short, a damaged header, damaged
 * compressed data, nothing inside, or content of no known kind. `wholeFile`: the head is all of it.
 */
export function explainGzipHead(head: Buffer, wholeFile: boolean): string {
  if (wholeFile && head.length < 18) return `the gzip file is cut short (${head.length} bytes: not even a gzip header and trailer)`;
  const decoded = wholeFile ? gunzipWhole(head) : gunzipHead(head);
  if (!(decoded instanceof Error)) {
    if (decoded.length === 0) return wholeFile ? "the gzip file holds nothing (it decompresses to 0 bytes)" : "the start of the gzip data decompresses to nothing";
    return "it decompresses, but to content that is not JSON, JSON Lines, an arXiv Atom/RSS feed, an OAI-PMH response or text";
  }
  return describeGzipStreamError(decoded) ?? `the gzip data is damaged (${decoded.message})`;
}

/** Decoded UTF-8 text chunks of the file (gunzipped if needed, byte-order mark dropped). Stopping early closes it. */
export async function* fileTextChunks(file: string, highWaterMark = 1 << 16): AsyncGenerator<string> {
  const handle = await openForReading(file);
  const head = Buffer.alloc(2);
  let gzip = false;
  try {
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    gzip = isGzip(head.subarray(0, bytesRead));
  } catch (err) {
    await handle.close();
    throw readError(file, false, err);
  }
  const raw = handle.createReadStream({ start: 0, highWaterMark });
  let stream: Readable = raw;
  // 64 KB output chunks: the default 16 KB makes gunzipping a large archive a third slower.
  if (gzip) stream = pipeline(raw, zlib.createGunzip({ chunkSize: 1 << 16 }), () => {});
  try {
    yield* decodeUtf8(stream as AsyncIterable<Buffer>);
  } catch (err) {
    throw readError(file, gzip, err);
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

/**
 * Strings from a byte (or string) stream, decoded as UTF-8 without splitting characters across
 * chunks; a leading byte-order mark is dropped.
 */
export async function* decodeUtf8(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let first = true;
  for await (const chunk of input) {
    let s = typeof chunk === "string" ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    if (first && s.length > 0) {
      first = false;
      s = s.replace(/^\uFEFF/, "");
    }
    if (s.length > 0) yield s;
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

/** The whole file as text (gunzipped if needed). For formats whose files are small (one API response). */
export async function readFileText(file: string): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of fileTextChunks(file)) parts.push(chunk);
  return parts.join("");
}
