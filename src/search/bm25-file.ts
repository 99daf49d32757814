/**
 * The BM25 index saved beside the paper store (`bm25.bin`), so that a process opening the index
 * reads it in one pass instead of decoding every paper's term data (140k papers: see
 * docs/benchmarks.md). It is a cache of what `paper_terms` holds: the header says which store
 * (`store_id`) and which change of its term data (`seq`, paper-store.ts) it covers, a reader merges
 * the papers changed since (Bm25Index.withChanges), and a file that is missing, damaged, from
 * another store or older than its weights is ignored (the index is rebuilt from the store).
 *
 * Layout (little-endian): "PHBM25\0\1", a uint32 header length, the header (JSON), zero padding to
 * a multiple of 8, then the arrays of Bm25Parts one after another: rowidOfSlot, docLength (int32 ×
 * docs), termStart (int32 × terms + 1), postingSlot (int32 × postings), postingTf (float32 × postings).
 * Written whole to a temp file and renamed over the old one (atomic-write.ts), so a reader sees the
 * old file or the new one, never a part.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../atomic-write.js";
import { Bm25Index, type Bm25Parts } from "./bm25-index.js";

export const BM25_FILE = "bm25.bin";
const MAGIC = Buffer.from("PHBM25\0\x01", "latin1");
/** Bytes before the header: the magic and the header's length. */
const PREFIX = MAGIC.length + 4;
/** A header is a few hundred bytes; more is not a file of ours. */
const MAX_HEADER = 64 * 1024;

const headerSchema = z.object({
  format: z.literal(1),
  storeId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  k1: z.number().finite(),
  b: z.number().finite(),
  titleWeight: z.number().finite(),
  abstractWeight: z.number().finite(),
  docs: z.number().int().nonnegative(),
  terms: z.number().int().nonnegative(),
  postings: z.number().int().nonnegative(),
});
export type Bm25FileHeader = z.infer<typeof headerSchema>;

/** What the file covers: the store it was made from and the last change of term data it holds. */
export interface Bm25FileCover {
  storeId: string;
  seq: number;
}

/** Why a file could not be used (the caller rebuilds the index from the store). */
export class Bm25FileError extends Error {
  override readonly name = "Bm25FileError";
}

function headerBytes(header: Bm25FileHeader): { json: Buffer; dataStart: number } {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  return { json, dataStart: Math.ceil((PREFIX + json.length) / 8) * 8 };
}

/** The file's bytes for `index` covering `cover`. */
export function encodeBm25File(index: Bm25Index, cover: Bm25FileCover): Uint8Array {
  const p = index.parts();
  const header: Bm25FileHeader = {
    format: 1,
    storeId: cover.storeId,
    seq: cover.seq,
    k1: p.k1,
    b: p.b,
    titleWeight: p.wTitle,
    abstractWeight: p.wAbstract,
    docs: p.rowidOfSlot.length,
    terms: p.termStart.length - 1,
    postings: p.postingSlot.length,
  };
  const { json, dataStart } = headerBytes(header);
  const arrays = [p.rowidOfSlot, p.docLength, p.termStart, p.postingSlot, p.postingTf];
  const out = Buffer.alloc(dataStart + arrays.reduce((n, a) => n + a.byteLength, 0));
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, PREFIX);
  let at = dataStart;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

/** Saves `index` as `file`, atomically. */
export async function writeBm25File(file: string, index: Bm25Index, cover: Bm25FileCover): Promise<void> {
  await writeFileAtomic(file, encodeBm25File(index, cover));
}

function parseHeader(bytes: Uint8Array, file: string): { header: Bm25FileHeader; dataStart: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Bm25FileError(`${file} is not a paperhound BM25 file`);
  const length = buf.readUInt32LE(MAGIC.length);
  if (length > MAX_HEADER || PREFIX + length > buf.length) throw new Bm25FileError(`${file} has a damaged header`);
  let raw: unknown;
  try {
    raw = JSON.parse(buf.subarray(PREFIX, PREFIX + length).toString("utf8"));
  } catch {
    throw new Bm25FileError(`${file} has a damaged header`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) throw new Bm25FileError(`${file} has a header this paperhound does not understand`);
  return { header: parsed.data, dataStart: Math.ceil((PREFIX + length) / 8) * 8 };
}

/** The header alone (what the file covers), without reading the arrays; undefined when there is no file. */
export function readBm25FileHeader(file: string): Bm25FileHeader | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Bm25FileError(`${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    const head = Buffer.alloc(PREFIX + MAX_HEADER);
    let n: number;
    try {
      n = fs.readSync(fd, head, 0, head.length, 0);
    } catch (err) {
      throw new Bm25FileError(`${file} cannot be read: ${(err as Error).message}`); // a directory, an I/O error
    }
    return parseHeader(head.subarray(0, n), file).header;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads the file and checks it whole: the sizes its header declares, row ids ascending, posting
 * lists in bounds. Undefined when there is no file; Bm25FileError when it cannot be used.
 */
export function readBm25File(file: string): { header: Bm25FileHeader; index: Bm25Index } | undefined {
  if (os.endianness() !== "LE") return undefined; // written little-endian; rebuilding is always possible
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Bm25FileError(`${file} cannot be read: ${(err as Error).message}`);
  }
  const { header, dataStart } = parseHeader(bytes, file);
  const { docs, terms, postings } = header;
  const expected = dataStart + 4 * (2 * docs + terms + 1 + 2 * postings);
  if (bytes.length !== expected) throw new Bm25FileError(`${file} has ${bytes.length} bytes where its header declares ${expected}`);
  // Typed arrays need 4-byte alignment; a large file is its own allocation (offset 0), but be sure.
  const data = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
  let at = data.byteOffset + dataStart;
  const int32 = (n: number) => {
    const a = new Int32Array(data.buffer, at, n);
    at += 4 * n;
    return a;
  };
  const rowidOfSlot = int32(docs);
  const docLength = int32(docs);
  const termStart = int32(terms + 1);
  const postingSlot = int32(postings);
  const postingTf = new Float32Array(data.buffer, at, postings);
  const parts: Bm25Parts = { k1: header.k1, b: header.b, wTitle: header.titleWeight, wAbstract: header.abstractWeight, rowidOfSlot, docLength, termStart, postingSlot, postingTf };
  checkParts(parts, file);
  return { header, index: new Bm25Index(parts) };
}

function checkParts(p: Bm25Parts, file: string): void {
  const damaged = (what: string) => new Bm25FileError(`${file} is damaged: ${what}`);
  const n = p.rowidOfSlot.length;
  for (let slot = 0; slot < n; slot++) {
    if (slot > 0 && !(p.rowidOfSlot[slot]! > p.rowidOfSlot[slot - 1]!)) throw damaged("row ids out of order");
    if (p.docLength[slot]! < 0) throw damaged("a negative document length");
  }
  if (p.termStart[0] !== 0 || p.termStart[p.termStart.length - 1] !== p.postingSlot.length) throw damaged("posting lists out of bounds");
  for (let t = 1; t < p.termStart.length; t++) if (p.termStart[t]! < p.termStart[t - 1]!) throw damaged("posting lists out of order");
  for (let i = 0; i < p.postingSlot.length; i++) {
    const slot = p.postingSlot[i]!;
    if (!(slot >= 0 && slot < n)) throw damaged("a posting points outside the papers");
    if (!(p.postingTf[i]! >= 0)) throw damaged("a negative term frequency");
  }
}

/** Temp files a save killed before its rename left beside `file` (tempPathBeside's names). */
export function staleTempsOf(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => name.startsWith(prefix) && name.endsWith(".tmp")).map((name) => path.join(dir, name));
}
