/**
 * Runs a transformers.js-layout model directory with onnxruntime-node:
 *
 *   <dir>/config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx (or onnx/model_quantized.onnx)
 *
 * transformers.js is used for its tokenizer only; the ONNX session is ours, so we control threads,
 * batching and the execution provider. For throughput, all texts of a call are tokenised first,
 * sorted by length and run in batches padded to each batch's longest text; results come back in
 * input order.
 *
 * Input hygiene (applied identically by `embed`, `embedDetailed` and `countTokens`):
 *  - every element must be a string: anything else is an `EmbedInputError` naming index and type;
 *  - lone UTF-16 surrogates (half of a pair, e.g. from a string cut mid-emoji) are replaced with
 *    U+FFFD REPLACEMENT CHARACTER, so such text has a defined, stable embedding;
 *  - control characters other than \t \n \r (C0, DEL, C1) are replaced with a space;
 *  - leading and trailing whitespace is trimmed; a text that is then empty is an `EmbedInputError`;
 *  - long texts are not tokenised in full just to keep the first `maxTokens` tokens. The text is
 *    first cut (at a word boundary) to `maxTokens * FAST_CHARS_PER_TOKEN` characters; if that part
 *    already overflows `maxTokens`, its tokens are what we embed (the same first tokens a full
 *    tokenisation gives, since the cut is at whitespace and beyond the kept tokens). Otherwise the
 *    text is re-cut to `maxTokens * CHARS_PER_TOKEN_BUDGET` characters (the hard ceiling: a 100k or
 *    1 MB text is never tokenised whole). A cut text is always reported `truncated: true`, and its
 *    `tokens` is the count for the part tokenised: a lower bound (> maxTokens) rather than the full
 *    count. Pass `exactTokenCounts: true` to skip the first, fast cut (exact counts up to the hard
 *    ceiling, at ~10% of throughput for abstract-length texts with the default model).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { UseLiteTokenizer } from "./use-tokenizer.js";
import * as ort from "onnxruntime-node";
import { createSession, stderrJsonLogger, type Logger } from "./device.js";
import { INT8_MODEL_FILE, PRECISION_SETTINGS, type Precision, type PrecisionSetting } from "./precision.js";
import { resolveModelSpec } from "./model-table.js";
import type { Device, DeviceSetting, EmbedKind, EmbedResult, Embedder, ModelSpec } from "./types.js";
import { PaperhoundError } from "../errors.js";
import { sha256OfFile } from "../file-hash.js";
import { findModelFile } from "./model-files.js";
export { findModelFile, MODEL_FILE_CANDIDATES } from "./model-files.js";

/** Texts per inference batch when none is given: measured fastest on CPU; GPUs want large batches. */
export const DEFAULT_BATCH_SIZE: Record<Device, number> = { cpu: 16, cuda: 128 };
export const MAX_BATCH_SIZE = 1024;
/** Hard ceiling: characters tokenised per allowed token; real text averages 3-6 characters a token. */
export const CHARS_PER_TOKEN_BUDGET = 16;
/** First, cheap cut: characters per allowed token (English averages ~4 with our tokenizers). */
export const FAST_CHARS_PER_TOKEN = 6;


/** A caller passed something that cannot be embedded. `index` is the offending text's position. */
export class EmbedInputError extends PaperhoundError {
  readonly identifier = "embed_input";
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = "EmbedInputError";
  }
}

/** The model produced an unusable vector (NaN, infinite, or all zeros) for the text at `index`. */
export class EmbedOutputError extends PaperhoundError {
  readonly identifier = "embed_output";
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = "EmbedOutputError";
  }
}

export interface OnnxEmbedderOptions {
  /** Model facts; default: `resolveModelSpec(modelDir, modelId)`. */
  spec?: ModelSpec;
  /** Id used to look the model up in the table (e.g. the Hugging Face id it was downloaded as). */
  modelId?: string;
  /** Default "auto". */
  device?: DeviceSetting;
  /** intra-op threads; default os.availableParallelism(). */
  threads?: number;
  /** Texts per inference batch, 1..1024; default by device (DEFAULT_BATCH_SIZE). */
  batchSize?: number;
  logger?: Logger;
  /** Tokenise long texts up to the hard character ceiling so `tokens` is exact below it. Default false. */
  exactTokenCounts?: boolean;
  /** Which ONNX file runs (precision.ts); default "auto". */
  precision?: PrecisionSetting;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0 controls except \t (09) \n (0A) \r (0D), DEL, and C1 controls.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Validates and cleans one text (see the module comment). Throws `EmbedInputError` for non-strings
 * and, unless `allowEmpty`, for texts that are empty after cleaning.
 */
export function cleanText(value: unknown, index: number, allowEmpty = false): string {
  if (typeof value !== "string") {
    throw new EmbedInputError(`text ${index} is ${describeType(value)}, expected a string`, index);
  }
  const cleaned = value.replace(LONE_SURROGATE, "\uFFFD").replace(CONTROL, " ").trim();
  if (!allowEmpty && cleaned.length === 0) throw new EmbedInputError(`text ${index} is empty`, index);
  return cleaned;
}

/**
 * Cuts to at most `max` UTF-16 units, at the last whitespace in the final fifth when there is one
 * (so no word is cut in half), never splitting a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const floor = Math.floor(max * 0.8);
  for (let i = max; i > floor; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) return text.slice(0, i);
  }
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

interface Prepared {
  ids: number[];
  tokens: number;
  truncated: boolean;
}

/** What the runner needs of a tokenizer; transformers.js tokenizers and UseLiteTokenizer both fit. */
export interface TextTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  readonly pad_token_id?: number | null;
}

export class OnnxEmbedder implements Embedder {
  readonly modelId: string;
  readonly maxTokens: number;
  readonly device: Device;
  readonly batchSize: number;
  readonly spec: Readonly<ModelSpec>;
  /** The model's float32 ONNX file (its checksum is the model's identity, whichever file runs). */
  readonly modelFile: string;
  /** The ONNX file that runs, and at which precision. */
  readonly runFile: string;
  readonly precision: Precision;
  readonly checksum: string;
  readonly exactTokenCounts: boolean;
  private dimension: number;
  private readonly feedTokenTypes: boolean;
  private readonly feedMask: boolean;
  private readonly padId: number;
  /** Special tokens the tokenizer appends (e.g. [SEP]); kept when truncating. */
  private readonly suffixIds: number[];
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly session: ort.InferenceSession,
    init: { spec: ModelSpec; device: Device; batchSize: number; modelFile: string; runFile: string; precision: Precision; checksum: string; dim: number; exactTokenCounts: boolean },
  ) {
    this.spec = Object.freeze({ ...init.spec });
    this.modelId = init.spec.id;
    this.maxTokens = init.spec.maxTokens;
    this.device = init.device;
    this.batchSize = init.batchSize;
    this.modelFile = init.modelFile;
    this.runFile = init.runFile;
    this.precision = init.precision;
    this.checksum = init.checksum;
    this.dimension = init.dim;
    this.exactTokenCounts = init.exactTokenCounts;
    this.feedTokenTypes = session.inputNames.includes("token_type_ids");
    this.feedMask = session.inputNames.includes("attention_mask");
    this.padId = typeof tokenizer.pad_token_id === "number" ? tokenizer.pad_token_id : 0;
    this.suffixIds = detectSuffix(tokenizer);
    if (this.suffixIds.length >= this.maxTokens) {
      throw new Error(`model ${this.modelId}: maxTokens ${this.maxTokens} leaves no room next to the special tokens`);
    }
  }

  get dim(): number {
    return this.dimension;
  }

  /** Opens the model directory: tokenizer, spec, and an inference session on the chosen device. */
  static async load(modelDir: string, opts: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    const dir = path.resolve(modelDir);
    if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1 || opts.batchSize > MAX_BATCH_SIZE)) {
      throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${String(opts.batchSize)}`);
    }
    const modelFile = findModelFile(dir);
    const spec = opts.spec ?? (await resolveModelSpec(dir, opts.modelId));
    if (!Number.isInteger(spec.maxTokens) || spec.maxTokens < 1) throw new RangeError(`model ${spec.id}: bad maxTokens ${spec.maxTokens}`);

    let tokenizer: TextTokenizer;
    try {
      tokenizer =
        spec.tokenizer === "use-lite-exact"
          ? UseLiteTokenizer.fromTokenizerJson(path.join(dir, "tokenizer.json"))
          : // An absolute path is never mistaken for a Hub id, and local_files_only keeps this offline.
            // Imported only here: loading transformers.js costs ~1.7 s, and use-lite does not need it.
            await (await import("@huggingface/transformers")).AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    } catch (err) {
      throw new Error(`cannot load the tokenizer from ${dir} (needs tokenizer.json and tokenizer_config.json): ${(err as Error).message}`);
    }

    const logger = opts.logger ?? stderrJsonLogger;
    const precision = opts.precision ?? "auto";
    if (!(PRECISION_SETTINGS as readonly string[]).includes(precision)) throw new RangeError(`unknown precision "${String(precision)}": use ${PRECISION_SETTINGS.join(", ")}`);
    const int8File = path.join(dir, INT8_MODEL_FILE);
    const hasInt8 = existsSync(int8File);
    if (precision === "int8" && !hasInt8) {
      throw new Error(`model ${spec.id} has no int8 version (${int8File}); only the built-in models have one: set EMBED_PRECISION=auto or float32`);
    }
    // int8 runs wherever it was asked for; "auto" takes it only on the CPU.
    const opened = await createSession(precision === "int8" ? int8File : modelFile, {
      device: opts.device ?? "auto",
      ...(precision === "auto" && hasInt8 ? { cpuModelPath: int8File } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      logger,
    });
    const { session, device } = opened;
    const running: Precision = opened.modelPath === int8File ? "int8" : "float32";
    try {
      checkGraph(session, spec);
      const meta = session.outputMetadata.find((m) => m.name === spec.output);
      const last = meta && meta.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
      const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE[device];
      const embedder = new OnnxEmbedder(tokenizer, session, {
        spec,
        device,
        batchSize,
        modelFile,
        runFile: opened.modelPath,
        precision: running,
        checksum: await sha256OfFile(modelFile),
        dim: typeof last === "number" && last > 0 ? last : 0,
        exactTokenCounts: opts.exactTokenCounts ?? false,
      });
      if (embedder.dimension === 0) {
        // Symbolic output width: find it by embedding one word.
        const [probe] = await embedder.embed(["hello"], "passage");
        embedder.dimension = probe!.length;
      }
      logger.info("embedder ready", {
        model: spec.id,
        dir,
        file: path.relative(dir, opened.modelPath),
        device,
        precision: running,
        dim: embedder.dimension,
        maxTokens: spec.maxTokens,
        pooling: spec.pooling,
        batchSize,
      });
      return embedder;
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  async embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    return (await this.embedDetailed(texts, kind)).map((r) => r.vector);
  }

  async embedDetailed(texts: readonly string[], kind: EmbedKind): Promise<EmbedResult[]> {
    if (this.disposed) throw new Error(`embedder ${this.modelId} has been disposed`);
    if (!Array.isArray(texts)) throw new EmbedInputError(`texts must be an array of strings, got ${describeType(texts)}`, -1);
    if (kind !== "query" && kind !== "passage") throw new TypeError(`kind must be "query" or "passage", got ${String(kind)}`);
    // Validate everything before any work, so a bad element fails fast and names itself.
    const cleaned = texts.map((t, i) => cleanText(t, i));
    if (cleaned.length === 0) return [];
    const prefix = kind === "query" ? this.spec.queryPrefix : this.spec.passagePrefix;
    const prepared = cleaned.map((t) => this.prepare(t, prefix));
    return this.exclusive(() => this.run(prepared));
  }

  /** The ids the model is fed for `text` (cleaned, prefixed, truncated): what training data and parity checks use. */
  tokenIds(text: string, kind: EmbedKind): number[] {
    return this.prepare(cleanText(text, 0), kind === "query" ? this.spec.queryPrefix : this.spec.passagePrefix).ids;
  }

  /** Token count as the model sees a passage: passage prefix and special tokens included, before truncation. */
  countTokens(text: string): number {
    const cleaned = cleanText(text, 0, true);
    return this.tokenizer.encode(this.spec.passagePrefix + cleaned).length;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.catch(() => undefined);
    await this.session.release();
  }

  private prepare(text: string, prefix: string): Prepared {
    const ceiling = this.maxTokens * CHARS_PER_TOKEN_BUDGET;
    let cut = cutText(text, this.exactTokenCounts ? ceiling : this.maxTokens * FAST_CHARS_PER_TOKEN);
    let full = this.tokenizer.encode(prefix + cut);
    if (cut.length < text.length && full.length <= this.maxTokens) {
      // The fast cut did not even fill the window: this text has long tokens; use the ceiling.
      cut = cutText(text, ceiling);
      full = this.tokenizer.encode(prefix + cut);
    }
    const truncated = cut.length < text.length || full.length > this.maxTokens;
    if (full.length <= this.maxTokens) return { ids: full, tokens: full.length, truncated };
    const suffix = this.suffixIds;
    const keepsSuffix = suffix.length > 0 && suffix.every((id, k) => full[full.length - suffix.length + k] === id);
    const ids = keepsSuffix ? [...full.slice(0, this.maxTokens - suffix.length), ...suffix] : full.slice(0, this.maxTokens);
    return { ids, tokens: full.length, truncated };
  }

  /** Runs `fn` after every earlier call finished: one batch at a time uses the cores best. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => undefined).then(fn);
    this.queue = next;
    return next;
  }

  private async run(prepared: Prepared[]): Promise<EmbedResult[]> {
    if (this.disposed) throw new Error(`embedder ${this.modelId} has been disposed`);
    const order = prepared.map((_, i) => i).sort((a, b) => prepared[b]!.ids.length - prepared[a]!.ids.length || a - b);
    const results = new Array<EmbedResult>(prepared.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const batch = order.slice(start, start + this.batchSize);
      const vectors = await this.runBatch(batch.map((i) => prepared[i]!.ids), batch);
      batch.forEach((i, k) => {
        const p = prepared[i]!;
        results[i] = { vector: vectors[k]!, tokens: p.tokens, truncated: p.truncated };
      });
    }
    return results;
  }

  /** One padded batch through the graph; `indices` are the callers' text positions, for errors. */
  private async runBatch(seqs: number[][], indices: number[]): Promise<Float32Array[]> {
    const b = seqs.length;
    const seqLen = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(b * seqLen);
    const mask = new BigInt64Array(b * seqLen);
    const pad = BigInt(this.padId);
    seqs.forEach((seq, r) => {
      const row = r * seqLen;
      for (let t = 0; t < seqLen; t++) {
        if (t < seq.length) {
          ids[row + t] = BigInt(seq[t]!);
          mask[row + t] = 1n;
        } else {
          ids[row + t] = pad;
        }
      }
    });
    const dims = [b, seqLen];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor("int64", ids, dims) };
    if (this.feedMask) feeds.attention_mask = new ort.Tensor("int64", mask, dims);
    if (this.feedTokenTypes) feeds.token_type_ids = new ort.Tensor("int64", new BigInt64Array(b * seqLen), dims);

    const out = (await this.session.run(feeds, [this.spec.output]))[this.spec.output];
    if (!out || !(out instanceof ort.Tensor) || out.type !== "float32") {
      throw new Error(`model ${this.modelId}: output ${this.spec.output} is not a float32 tensor`);
    }
    const data = out.data as Float32Array;
    const vectors = this.pool(data, out.dims, mask, b, seqLen);
    vectors.forEach((v, k) => this.finish(v, indices[k]!));
    return vectors;
  }

  private pool(data: Float32Array, dims: readonly number[], mask: BigInt64Array, b: number, seqLen: number): Float32Array[] {
    const pooling = this.spec.pooling;
    const out: Float32Array[] = [];
    if (pooling === "none") {
      if (dims.length !== 2 || dims[0] !== b) {
        throw new Error(`model ${this.modelId}: pooling "none" needs output ${this.spec.output} shaped [batch, dim], got [${dims.join(", ")}]`);
      }
      const h = dims[1]!;
      for (let r = 0; r < b; r++) out.push(data.slice(r * h, (r + 1) * h));
      return out;
    }
    if (dims.length !== 3 || dims[0] !== b || dims[1] !== seqLen) {
      throw new Error(`model ${this.modelId}: pooling "${pooling}" needs output ${this.spec.output} shaped [batch, seq, dim], got [${dims.join(", ")}]`);
    }
    const h = dims[2]!;
    for (let r = 0; r < b; r++) {
      const base = r * seqLen * h;
      if (pooling === "cls") {
        out.push(data.slice(base, base + h));
        continue;
      }
      const acc = new Float64Array(h);
      let count = 0;
      for (let t = 0; t < seqLen; t++) {
        if (mask[r * seqLen + t] === 0n) continue;
        count += 1;
        const off = base + t * h;
        for (let j = 0; j < h; j++) acc[j]! += data[off + j]!;
      }
      const v = new Float32Array(h);
      for (let j = 0; j < h; j++) v[j] = acc[j]! / Math.max(count, 1);
      out.push(v);
    }
    return out;
  }

  /** Normalises (when the spec says so) and refuses non-finite or zero vectors. */
  private finish(v: Float32Array, index: number): void {
    let sq = 0;
    for (let j = 0; j < v.length; j++) {
      const x = v[j]!;
      if (!Number.isFinite(x)) {
        throw new EmbedOutputError(`model ${this.modelId} produced a non-finite value (${x}) for text ${index}`, index);
      }
      sq += x * x;
    }
    if (!this.spec.normalize) return;
    const norm = Math.sqrt(sq);
    if (!(norm > 0) || !Number.isFinite(norm)) {
      throw new EmbedOutputError(`model ${this.modelId} produced a zero vector for text ${index}; it cannot be normalised`, index);
    }
    for (let j = 0; j < v.length; j++) v[j] = v[j]! / norm;
  }
}

/** Checks that the graph takes only inputs we can feed and has the output the spec names. */
function checkGraph(session: ort.InferenceSession, spec: ModelSpec): void {
  const feedable = new Set(["input_ids", "attention_mask", "token_type_ids"]);
  if (!session.inputNames.includes("input_ids")) {
    throw new Error(`model ${spec.id}: the graph has no input_ids input (inputs: ${session.inputNames.join(", ")})`);
  }
  const unknown = session.inputNames.filter((n) => !feedable.has(n));
  if (unknown.length > 0) throw new Error(`model ${spec.id}: the graph needs inputs we do not provide: ${unknown.join(", ")}`);
  if (!session.outputNames.includes(spec.output)) {
    throw new Error(`model ${spec.id}: the graph has no output "${spec.output}" (outputs: ${session.outputNames.join(", ")})`);
  }
}

/**
 * The special tokens the tokenizer's post-processor appends after the text (e.g. BERT's [SEP]),
 * found by encoding a probe word with and without special tokens. Empty when there are none or the
 * probe is inconclusive (truncation then simply keeps the first maxTokens ids).
 */
function detectSuffix(tokenizer: TextTokenizer): number[] {
  for (const probe of ["a", "the", "hello", "x"]) {
    const inner = tokenizer.encode(probe, { add_special_tokens: false });
    const outer = tokenizer.encode(probe, { add_special_tokens: true });
    if (inner.length === 0) continue;
    for (let at = 0; at + inner.length <= outer.length; at++) {
      if (inner.every((id, k) => outer[at + k] === id)) return outer.slice(at + inner.length);
    }
  }
  return [];
}

