/**
 * Builds a tiny transformers.js-layout model directory for tests: a WordLevel tokenizer with a
 * `[CLS] $A [SEP]` template and an ONNX graph with known weights
 *   input_ids [b, s] → Gather(embedding [V, 8]) → MatMul(W [8, 8]) → last_hidden_state [b, s, 8]
 * so tests can compute exact pooled values in plain JS (see `tokenVector`).
 * attention_mask (and optionally token_type_ids) are declared and consumed as `+ 0 * x`, so the
 * graph requires them without changing values: padding positions keep a non-zero vector, which
 * makes a pooling that ignores the mask visible.
 */
import { mkdtemp, mkdir, writeFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { OnnxGraphBuilder } from "../../src/embed/onnx-writer.js";

export const HIDDEN = 8;

/** id → token. 0..3 are specials; the rest are words (lower-case; the tokenizer lower-cases). */
export const VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "hello",
  "world",
  "paper",
  "dog",
  "cat",
  "graph",
  "neural",
  "network",
  "search",
  "represent",
  "this",
  "sentence",
  "for",
  "searching",
  "relevant",
  "passages",
  ":",
  ".",
  "boom", // its embedding row is NaN: feeding it makes the model output non-finite values
  "the",
  "a",
  "of",
  "model",
  "we",
  "results",
  "show",
] as const;

export const PAD = 0;
export const UNK = 1;
export const CLS = 2;
export const SEP = 3;

export function tokenId(word: string): number {
  const i = (VOCAB as readonly string[]).indexOf(word.toLowerCase());
  return i < 0 ? UNK : i;
}

/** Embedding row of token `id`: distinct, non-zero values (and NaN for "boom"). */
export function embeddingRow(id: number): number[] {
  if (VOCAB[id] === "boom") return Array.from({ length: HIDDEN }, () => Number.NaN);
  return Array.from({ length: HIDDEN }, (_, j) => ((id * 7 + j * 3) % 11) - 5 + (j === id % HIDDEN ? 2 : 0) + 0.25);
}

/** Mixing matrix W [8, 8] (row-major, x @ W). */
export function mixMatrix(): number[] {
  return Array.from({ length: HIDDEN * HIDDEN }, (_, k) => {
    const i = Math.floor(k / HIDDEN);
    const j = k % HIDDEN;
    return i === j ? 1 : ((i + 2 * j) % 5) * 0.1 - 0.2;
  });
}

/** The hidden state the graph produces for token `id` (embedding row @ W). */
export function tokenVector(id: number): number[] {
  const e = embeddingRow(id);
  const w = mixMatrix();
  return Array.from({ length: HIDDEN }, (_, j) => e.reduce((acc, v, i) => acc + v * w[i * HIDDEN + j]!, 0));
}

/** Token ids the tiny tokenizer produces for `text` (lower-case words and "." ":" split off), with specials. */
export function idsFor(text: string): number[] {
  const words = text.toLowerCase().match(/\w+|[^\w\s]+/g) ?? [];
  return [CLS, ...words.map(tokenId), SEP];
}

export function meanOf(ids: number[]): number[] {
  const out = new Array<number>(HIDDEN).fill(0);
  for (const id of ids) tokenVector(id).forEach((v, j) => (out[j]! += v));
  return out.map((v) => v / ids.length);
}

export function l2(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
}

export interface TinyModelOptions {
  /** Declare a token_type_ids input. Default false. */
  tokenTypeIds?: boolean;
  /** Also expose `sentence_embedding` [b, 8] = hidden state of the first token (for pooling "none"). */
  pooledOutput?: boolean;
  /** tokenizer_config model_max_length. Default 16. */
  modelMaxLength?: number;
  /** Write onnx/model_quantized.onnx instead of onnx/model.onnx. */
  quantizedName?: boolean;
  /** Extra fields for config.json. */
  config?: Record<string, unknown>;
}

export function tokenizerJson(): object {
  const vocab: Record<string, number> = {};
  VOCAB.forEach((t, i) => (vocab[t] = i));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [PAD, UNK, CLS, SEP].map((id) => ({
      id,
      content: VOCAB[id],
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [CLS], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [SEP], tokens: ["[SEP]"] },
      },
    },
    decoder: null,
    model: { type: "WordLevel", vocab, unk_token: "[UNK]" },
  };
}

export function tinyGraph(opts: TinyModelOptions = {}): Uint8Array {
  const g = new OnnxGraphBuilder("tiny");
  const ids = g.input("input_ids", "int64", ["batch", "seq"]);
  const mask = g.input("attention_mask", "int64", ["batch", "seq"]);
  const emb = g.floatTensor("embedding", [VOCAB.length, HIDDEN], VOCAB.flatMap((_, i) => embeddingRow(i)));
  const w = g.floatTensor("mix", [HIDDEN, HIDDEN], mixMatrix());
  const gathered = g.op1("Gather", [emb, ids], { axis: 0 });
  let hidden = g.op1("MatMul", [gathered, w]);
  // + 0 * mask (and token types), broadcast over the hidden axis: consumes the inputs, keeps the values.
  const zero = g.floats(0, "zero");
  const extras = [mask];
  if (opts.tokenTypeIds) extras.push(g.input("token_type_ids", "int64", ["batch", "seq"]));
  for (const x of extras) {
    const f = g.op1("Cast", [x], { to: 1 });
    const z = g.op1("Mul", [f, zero]);
    const u = g.op1("Unsqueeze", [z, g.ints([2])]);
    hidden = g.op1("Add", [hidden, u]);
  }
  g.expose(hidden, "last_hidden_state", "float32", ["batch", "seq", HIDDEN]);
  if (opts.pooledOutput) {
    const first = g.op1("Gather", [hidden, g.ints(0)], { axis: 1 });
    g.expose(first, "sentence_embedding", "float32", ["batch", HIDDEN]);
  }
  return g.toBytes({ producer: "paperhound-tests" });
}

/** Writes the tiny model into `dir` (created). Returns `dir`. */
export async function writeTinyModel(dir: string, opts: TinyModelOptions = {}): Promise<string> {
  await mkdir(path.join(dir, "onnx"), { recursive: true });
  await writeFile(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson()));
  await writeFile(
    path.join(dir, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "PreTrainedTokenizerFast",
      model_max_length: opts.modelMaxLength ?? 16,
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      clean_up_tokenization_spaces: false,
    }),
  );
  await writeFile(path.join(dir, "config.json"), JSON.stringify({ model_type: "tiny", hidden_size: HIDDEN, ...opts.config }));
  await writeFile(path.join(dir, "onnx", opts.quantizedName ? "model_quantized.onnx" : "model.onnx"), tinyGraph(opts));
  return dir;
}

/** A fresh temp directory; `cleanup` removes it. */
export async function tempDir(prefix = "paperhound-embed-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A logger that records events, for asserting on what was logged. */
export function recordingLogger(): {
  events: { level: "debug" | "info" | "warn"; msg: string; fields: Record<string, unknown> }[];
  debug: (msg: string, fields?: Record<string, unknown>) => void;
  info: (msg: string, fields?: Record<string, unknown>) => void;
  warn: (msg: string, fields?: Record<string, unknown>) => void;
} {
  const events: { level: "debug" | "info" | "warn"; msg: string; fields: Record<string, unknown> }[] = [];
  return {
    events,
    debug: (msg, fields) => events.push({ level: "debug", msg, fields: fields ?? {} }),
    info: (msg, fields) => events.push({ level: "info", msg, fields: fields ?? {} }),
    warn: (msg, fields) => events.push({ level: "warn", msg, fields: fields ?? {} }),
  };
}
