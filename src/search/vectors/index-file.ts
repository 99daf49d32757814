/**
 * The files of a vector index directory: immutable generations `vectors-<g>.hnsw`, the pointer
 * `vectors.json` naming the current one, stale temp files; and a reader of hnswlib's file layout
 * that checks a generation (size, labels, deleted marks) and hashes it in one pass.
 */
import { createHash } from "node:crypto";
import { closeSync } from "node:fs";
import { open, readdir, readFile, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { decodeFloat16, encodeFloat16 } from "./float16.js";
import { INDEX_ERRORS, type IndexErrorCode } from "../../index-errors.js";
import type { ModelFingerprint } from "../types.js";
import { PaperhoundError } from "../../errors.js";

/** Version of the `vectors.json` pointer format. */
export const INDEX_FORMAT_VERSION = 1;
export const POINTER_FILE = "vectors.json";
/** Labels are uint32. */
export const MAX_LABEL = 0xffff_ffff;

/**
 * hnswlib's space of a file: unit vectors compared by inner product, stored as float32 ("cosine")
 * or as half floats ("cosine-f16", the x86-64-v3 build's; scripts/hnswlib-float16.cc). The graph
 * (links, labels, deleted marks) is laid out the same in both; only each vector's bytes differ.
 */
export type VectorSpace = "cosine" | "cosine-f16";
export const VECTOR_SPACES: readonly VectorSpace[] = ["cosine", "cosine-f16"];
/** Bytes per stored vector component. */
export const COMPONENT_BYTES: Record<VectorSpace, number> = { cosine: 4, "cosine-f16": 2 };
/** How a space stores each vector component. */
export type VectorStorage = "float32" | "float16";
export const STORAGE_OF: Record<VectorSpace, VectorStorage> = { cosine: "float32", "cosine-f16": "float16" };
export const SPACE_OF: Record<VectorStorage, VectorSpace> = { float32: "cosine", float16: "cosine-f16" };

/** A file of the index is missing, truncated, or does not match its recorded hash. It is left as is. */
export class IndexCorruptError extends PaperhoundError {
  readonly identifier = "vector_file_unusable" satisfies IndexErrorCode;
  override readonly name = "IndexCorruptError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(INDEX_ERRORS.vector_file_unusable({ file, reason, dir: path.dirname(file), indexArg: "" }));
  }
}

/** The pointer file: which generation is current, with what it must hash to and the model that built it. */
export interface IndexPointer {
  format: number;
  generation: number;
  /** `vectors-<generation>.hnsw`, in the same directory. */
  file: string;
  sha256: string;
  bytes: number;
  /** Absent in no file: "cosine" in every file saved before half floats existed. */
  space: VectorSpace;
  dim: number;
  fingerprint: ModelFingerprint;
  M: number;
  efConstruction: number;
  /** Live vectors. */
  count: number;
  /** Deleted (marked) vectors still occupying slots in the file. */
  deletedCount: number;
  savedAt: string;
  /**
   * Names the line of saves this generation descends from: every save of one in-memory index (built
   * here, or loaded and added to) carries the same lineage, and within a lineage a label, once saved,
   * keeps its vector (it can only be deleted). So a reader holding an older generation of the same
   * lineage can add the new labels and delete the gone ones instead of loading the whole file.
   * Absent in files saved before it existed (a reader then loads the whole file).
   */
  lineage?: string;
}

export const GENERATION_RE = /^vectors-(\d+)\.hnsw$/;
export const TEMP_RE = /^(vectors-\d+\.hnsw|vectors\.json)\.tmp-/;
export const generationFile = (g: number): string => `vectors-${g}.hnsw`;

export interface DirState {
  /** The current pointer, when readable. */
  pointer?: IndexPointer;
  generations: { file: string; generation: number }[];
  temps: string[];
}

export async function scanDir(dir: string): Promise<DirState> {
  const names = await readdir(dir);
  const state: DirState = { generations: [], temps: [] };
  for (const name of names) {
    const m = GENERATION_RE.exec(name);
    if (m) state.generations.push({ file: name, generation: Number(m[1]) });
    else if (TEMP_RE.test(name)) state.temps.push(name);
  }
  if (names.includes(POINTER_FILE)) {
    try {
      state.pointer = parsePointer(await readFile(path.join(dir, POINTER_FILE), "utf8"), POINTER_FILE);
    } catch {
      // unreadable pointer: keep every generation file
    }
  }
  return state;
}

export async function removeFiles(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    await unlink(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

export function parsePointer(text: string, file: string): IndexPointer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new IndexCorruptError(file, "it is not valid JSON");
  }
  const p = raw as Partial<IndexPointer> | null;
  const bad = (what: string): never => {
    throw new IndexCorruptError(file, what);
  };
  if (typeof p !== "object" || p === null) return bad("it is not a JSON object");
  if (typeof p.format !== "number") return bad("it has no format version");
  if (p.format > INDEX_FORMAT_VERSION) return bad(`its format ${p.format} is newer than this paperhound understands (${INDEX_FORMAT_VERSION})`);
  if (p.format !== INDEX_FORMAT_VERSION) return bad(`unknown format ${p.format}`);
  const isUint = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (!isUint(p.generation) || p.generation < 1) return bad("bad generation");
  if (p.file !== generationFile(p.generation)) return bad(`it names file ${JSON.stringify(p.file)}, expected ${generationFile(p.generation)}`);
  if (typeof p.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(p.sha256)) return bad("bad sha256");
  if (!isUint(p.bytes)) return bad("bad byte size");
  if (!VECTOR_SPACES.includes(p.space as VectorSpace)) return bad(`unsupported space ${JSON.stringify(p.space)}`);
  if (!isUint(p.dim) || p.dim < 1) return bad("bad dim");
  const f = p.fingerprint;
  if (typeof f !== "object" || f === null || typeof f.modelId !== "string" || typeof f.checksum !== "string" || !isUint(f.dim)) {
    return bad("bad model fingerprint");
  }
  if (f.dim !== p.dim) return bad(`fingerprint dim ${f.dim} differs from index dim ${p.dim}`);
  if (!isUint(p.M) || p.M < 2 || !isUint(p.efConstruction) || p.efConstruction < 1) return bad("bad M or efConstruction");
  if (!isUint(p.count) || !isUint(p.deletedCount)) return bad("bad counts");
  if (p.lineage !== undefined && (typeof p.lineage !== "string" || !/^[0-9a-f]{16,64}$/.test(p.lineage))) return bad("bad lineage");
  return p as IndexPointer;
}

export interface IndexFileInfo {
  sha256: string;
  bytes: number;
  live: number[];
  deleted: number[];
  /** File offset of each live label's vector. */
  vectorOffsets: Map<number, number>;
}

/** Closes the file of a loaded index nobody closed (a refresh replaced it) when it is collected. */
export const fileCloser = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

/**
 * Reads an hnswlib index file once: its sha256, and a walk of its structure (header, level-0
 * records, upper-layer link lists) that checks it against dim and M, finds every label and its
 * deleted mark, and requires the file to end exactly where the structure does. Never trusts header
 * values before checking them (a flipped byte there would make hnswlib allocate or read wildly).
 */
export async function inspectIndexFile(file: string, dim: number, M: number, space: VectorSpace): Promise<IndexFileInfo> {
  const corrupt = corrupter(file);
  const fh = await openIndexFile(file, corrupt);
  try {
    const r = new HashingReader(fh);
    const { count, sizePerElement, labelOffset, offsetData, maxLevel, maxM, maxM0 } = parseHeader(await r.take(HEADER_BYTES, corrupt), dim, M, space, corrupt);
    const live: number[] = [];
    const deleted: number[] = [];
    const vectorOffsets = new Map<number, number>();
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const rec = await r.take(sizePerElement, corrupt);
      if (rec.readUInt16LE(0) > maxM0) corrupt(`element ${i} has too many links`);
      const labelBig = rec.readBigUInt64LE(labelOffset);
      if (labelBig > BigInt(MAX_LABEL)) corrupt(`element ${i} has label ${labelBig}, beyond uint32`);
      const label = Number(labelBig);
      if (seen.has(label)) corrupt(`label ${label} appears twice`);
      seen.add(label);
      if ((rec[2]! & 1) === 1) deleted.push(label);
      else {
        live.push(label);
        vectorOffsets.set(label, HEADER_BYTES + i * sizePerElement + offsetData);
      }
    }
    const linksPerElement = maxM * 4 + 4;
    for (let i = 0; i < count; i++) {
      const size = (await r.take(4, corrupt)).readUInt32LE(0);
      if (size % linksPerElement !== 0 || size / linksPerElement > maxLevel) corrupt(`element ${i} has a bad link list size ${size}`);
      await r.skip(size, corrupt);
    }
    if (!(await r.atEnd())) corrupt("it has trailing bytes after the index structure");
    return { sha256: r.digest(), bytes: r.position, live, deleted, vectorOffsets };
  } finally {
    await fh.close();
  }
}

/**
 * Checks an hnswlib index file's header only (the first 96 bytes): what hnswlib sizes its memory by.
 * Enough to hand the file to hnswlib (which checks its link lists against the file size itself
 * before allocating them) while `inspectIndexFile` checks the rest.
 */
export async function checkIndexHeader(file: string, dim: number, M: number, space: VectorSpace): Promise<void> {
  const corrupt = corrupter(file);
  const fh = await openIndexFile(file, corrupt);
  try {
    const h = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(h, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES) corrupt("it ends inside the header");
    parseHeader(h, dim, M, space, corrupt);
  } finally {
    await fh.close();
  }
}

function corrupter(file: string): (reason: string) => never {
  return (reason) => {
    throw new IndexCorruptError(file, reason);
  };
}

async function openIndexFile(file: string, corrupt: (reason: string) => never): Promise<FileHandle> {
  try {
    return await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return corrupt("it is missing");
    throw err;
  }
}

/** The header's fields, each checked against dim, M, the space and the others. */
function parseHeader(h: Buffer, dim: number, M: number, space: VectorSpace, corrupt: (reason: string) => never) {
  const u64 = (off: number): number => {
    const v = h.readBigUInt64LE(off);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? corrupt(`header field at byte ${off} is out of range`) : Number(v);
  };
  const offsetLevel0 = u64(0);
  const maxElements = u64(8);
  const count = u64(16);
  const sizePerElement = u64(24);
  const labelOffset = u64(32);
  const offsetData = u64(40);
  const maxLevel = h.readInt32LE(48);
  const enterPoint = h.readUInt32LE(52);
  const maxM = u64(56);
  const maxM0 = u64(64);
  const fileM = u64(72);
  const efc = u64(88);
  const linksLevel0 = maxM0 * 4 + 4;
  if (offsetLevel0 !== 0 || fileM !== M || maxM !== M || maxM0 !== 2 * M) corrupt(`header says M=${fileM}, maxM=${maxM}, maxM0=${maxM0}; expected M=${M}`);
  if (offsetData !== linksLevel0 || labelOffset !== linksLevel0 + dim * COMPONENT_BYTES[space] || sizePerElement !== labelOffset + 8) {
    corrupt(`header element layout does not match dim ${dim} stored as ${STORAGE_OF[space]}`);
  }
  if (count > maxElements || count > MAX_LABEL || efc < 1) corrupt("header counts are inconsistent");
  if (count > 0 && (enterPoint >= count || maxLevel < 0 || maxLevel > 64)) corrupt("header entry point is invalid");
  return { count, sizePerElement, labelOffset, offsetData, maxLevel, maxM, maxM0 };
}

/**
 * Writes `to`, a copy of the index file `from` (its header checked here against dim, M and
 * `fromSpace`; the rest is the caller's to have checked, as `VectorIndex.load` does) with every vector
 * stored as `toSpace` stores them; the graph is copied unchanged, so no vector is inserted again.
 * Returns the copy's sha256 and size. `to` must not exist. Not fsynced: `VectorIndex.load` reads the
 * copy once and deletes it (a save of what it read is what makes the conversion durable).
 */
export async function convertIndexFile(from: string, to: string, dim: number, M: number, fromSpace: VectorSpace, toSpace: VectorSpace): Promise<{ sha256: string; bytes: number }> {
  const corrupt = corrupter(from);
  const src = await openIndexFile(from, corrupt);
  let out: FileHandle | undefined;
  try {
    const r = new HashingReader(src, false); // the source was checked against its hash already
    const header = Buffer.from(await r.take(HEADER_BYTES, corrupt));
    const { count, sizePerElement, labelOffset, offsetData } = parseHeader(header, dim, M, fromSpace, corrupt);
    const newLabelOffset = offsetData + dim * COMPONENT_BYTES[toSpace];
    header.writeBigUInt64LE(BigInt(newLabelOffset + 8), 24);
    header.writeBigUInt64LE(BigInt(newLabelOffset), 32);
    out = await open(to, "wx");
    const w = new HashingWriter(out);
    await w.write(header);
    const f32 = new Float32Array(dim);
    const f16 = new Uint16Array(dim);
    const record = Buffer.alloc(newLabelOffset + 8);
    for (let i = 0; i < count; i++) {
      const rec = await r.take(sizePerElement, corrupt);
      rec.copy(record, 0, 0, offsetData);
      const vector = rec.subarray(offsetData, labelOffset);
      if (fromSpace === toSpace) vector.copy(record, offsetData);
      else if (toSpace === "cosine-f16") {
        for (let d = 0; d < dim; d++) f32[d] = vector.readFloatLE(d * 4);
        encodeFloat16(f32, f16);
        for (let d = 0; d < dim; d++) record.writeUInt16LE(f16[d]!, offsetData + d * 2);
      } else {
        for (let d = 0; d < dim; d++) f16[d] = vector.readUInt16LE(d * 2);
        decodeFloat16(f16, f32);
        for (let d = 0; d < dim; d++) record.writeFloatLE(f32[d]!, offsetData + d * 4);
      }
      rec.copy(record, newLabelOffset, labelOffset, labelOffset + 8);
      await w.write(record);
    }
    // The upper layers' link lists: copied as they are (hnswlib checks their sizes on read).
    for (;;) {
      const rest = await r.takeAvailable();
      if (rest.length === 0) break;
      await w.write(rest);
    }
    await w.flush();
    return { sha256: w.digest(), bytes: w.position };
  } finally {
    await src.close();
    await out?.close();
  }
}

/** Buffered sequential writer that hashes every byte it writes. */
class HashingWriter {
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly hash = createHash("sha256");
  position = 0;

  constructor(private readonly fh: FileHandle) {}

  async write(bytes: Buffer): Promise<void> {
    this.hash.update(bytes);
    this.position += bytes.length;
    if (this.used + bytes.length > this.buf.length) await this.flush();
    if (bytes.length > this.buf.length) {
      let off = 0;
      while (off < bytes.length) off += (await this.fh.write(bytes, off, bytes.length - off)).bytesWritten;
      return;
    }
    bytes.copy(this.buf, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    let off = 0;
    while (off < this.used) off += (await this.fh.write(this.buf, off, this.used - off)).bytesWritten;
    this.used = 0;
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

/** hnswlib's header: 6 size_t, int maxlevel, uint32 entry point, 3 size_t, double mult, size_t efC. */
const HEADER_BYTES = 96;
const CHUNK_BYTES = 4 << 20;

/** Sequential reader that hashes every byte it reads (unless told not to). */
class HashingReader {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private start = 0;
  private end = 0;
  private readonly hash;
  /** File offset of the next byte `take` would return. */
  position = 0;
  private filePos = 0;

  constructor(
    private readonly fh: FileHandle,
    hashing = true,
  ) {
    this.hash = hashing ? createHash("sha256") : undefined;
  }

  /** Reads more bytes; returns how many arrived (0 at end of file). */
  private async fill(): Promise<number> {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.filePos);
    if (bytesRead > 0) {
      this.hash?.update(this.buf.subarray(this.end, this.end + bytesRead));
      this.end += bytesRead;
      this.filePos += bytesRead;
    }
    return bytesRead;
  }

  async take(n: number, corrupt: (reason: string) => never): Promise<Buffer> {
    while (this.end - this.start < n) {
      if ((await this.fill()) === 0) corrupt(`it ends early, at byte ${this.filePos} (truncated)`);
    }
    const out = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.position += n;
    return out;
  }

  async skip(n: number, corrupt: (reason: string) => never): Promise<void> {
    while (n > 0) {
      if (this.end === this.start && (await this.fill()) === 0) corrupt(`it ends early, at byte ${this.filePos} (truncated)`);
      const s = Math.min(n, this.end - this.start);
      this.start += s;
      this.position += s;
      n -= s;
    }
  }

  /** Whatever is buffered, or the next chunk of the file; empty at its end. */
  async takeAvailable(): Promise<Buffer> {
    if (this.end === this.start && (await this.fill()) === 0) return Buffer.alloc(0);
    const out = this.buf.subarray(this.start, this.end);
    this.position += out.length;
    this.start = this.end;
    return out;
  }

  async atEnd(): Promise<boolean> {
    return this.end === this.start && (await this.fill()) === 0;
  }

  digest(): string {
    if (!this.hash) throw new Error("this reader does not hash what it reads");
    return this.hash.digest("hex");
  }
}
