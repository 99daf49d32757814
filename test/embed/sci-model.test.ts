/**
 * The shipped default model, paperhound-sci-1: built offline from the committed float16 weights,
 * it reproduces the reference outputs that training/export.py computed in PyTorch (cosine ≥ 0.9999),
 * from the very ids the product's tokenizer gives (the ids training used). Damaged or missing weight
 * files fail with a message naming the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildBuiltinModel,
  halfToFloat,
  isBuiltinModelBuilt,
  ModelWeightsError,
  NETWORK_WEIGHTS,
  readShippedWeights,
  shippedWeightsDir,
} from "../../src/embed/builtin-models.js";
import { OnnxEmbedder } from "../../src/embed/onnx-embedder.js";
import { cosine } from "../helpers/cosine.js";

const quiet = { info: () => undefined, warn: () => undefined };
const weightsDir = shippedWeightsDir("paperhound-sci-1");
const reference = JSON.parse(readFileSync(path.join(weightsDir, "reference.json"), "utf8")) as {
  model: string;
  texts: string[];
  ids: number[][];
  embeddings: number[][];
};

let tmp: string;
let dir: string;
let embedder: OnnxEmbedder;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-sci-"));
  dir = path.join(tmp, "paperhound-sci-1");
  await buildBuiltinModel("paperhound-sci-1", dir);
  embedder = await OnnxEmbedder.load(dir, { modelId: "paperhound-sci-1", device: "cpu", precision: "float32", logger: quiet });
}, 60_000);

afterAll(async () => {
  await embedder?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe("paperhound-sci-1 built from the shipped weights", () => {
  it("is a complete, current build whose float32 file is byte for byte the one every index was built with", () => {
    expect(isBuiltinModelBuilt("paperhound-sci-1", dir)).toBe(true);
    // Its sha256 is the model checksum in every index's fingerprint: a change (even the order of the
    // initializers) makes every user's index ask for `reindex --yes`. Change it only with a new model id.
    expect(embedder.checksum).toBe("870e9873acd22304feb2c07e68bbf56977858fc77a85ab7642571a6e59818dc9");
    expect(embedder.dim).toBe(512);
    expect(embedder.modelId).toBe("paperhound-sci-1");
  });

  it("tokenizes every reference text to the ids training and export used", () => {
    expect(reference.model).toBe("paperhound-sci-1");
    expect(reference.texts.length).toBeGreaterThanOrEqual(15);
    reference.texts.forEach((text, i) => expect(embedder.tokenIds(text, "passage"), text).toEqual(reference.ids[i]));
  });

  it("its int8 version (what runs on CPU by default) stays within cosine 0.99 of the reference; int8 is refused for a model without one", async () => {
    const int8 = await OnnxEmbedder.load(dir, { modelId: "paperhound-sci-1", device: "cpu", logger: quiet });
    try {
      expect(int8.precision).toBe("int8");
      expect(int8.checksum).toBe(embedder.checksum);
      const vectors = await int8.embed(reference.texts, "passage");
      expect(Math.min(...vectors.map((v, i) => cosine(v, reference.embeddings[i]!)))).toBeGreaterThanOrEqual(0.99);
    } finally {
      await int8.dispose();
    }
    const plain = path.join(tmp, "float-only");
    mkdirSync(path.join(plain, "onnx"), { recursive: true });
    for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]) copyFileSync(path.join(dir, f), path.join(plain, f));
    await expect(OnnxEmbedder.load(plain, { modelId: "paperhound-sci-1", device: "cpu", precision: "int8", logger: quiet })).rejects.toThrow(/has no int8 version .*model_int8\.onnx/);
    const auto = await OnnxEmbedder.load(plain, { modelId: "paperhound-sci-1", device: "cpu", logger: quiet });
    expect(auto.precision).toBe("float32");
    await auto.dispose();
  });

  it("reproduces the PyTorch reference embeddings (cosine ≥ 0.9999)", async () => {
    const vectors = await embedder.embed(reference.texts, "passage");
    const cosines = vectors.map((v, i) => cosine(v, reference.embeddings[i]!));
    expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.9999);
  });

  it("is not use-lite: the fine-tuned weights moved the embeddings", async () => {
    const { weights } = await readShippedWeights(weightsDir, "paperhound-sci-1");
    expect([...weights.keys()]).toEqual(NETWORK_WEIGHTS.map(([name]) => name));
    const useLite = await OnnxEmbedder.load(await buildBuiltinModel("use-lite", path.join(tmp, "use-lite")).then((r) => r.dir), {
      modelId: "use-lite",
      device: "cpu",
      logger: quiet,
    });
    try {
      const [a] = await useLite.embed([reference.texts[0]!], "passage");
      const [b] = await embedder.embed([reference.texts[0]!], "passage");
      expect(cosine(a!, b!)).toBeLessThan(0.99);
    } finally {
      await useLite.dispose();
    }
  });
});

describe("float16 decoding", () => {
  it("decodes normal, subnormal, zero, negative and special values", () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x0000)).toBe(0);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
  });
});

describe("damaged or missing weight files", () => {
  function copyWeights(): string {
    const d = path.join(mkdtempSync(path.join(tmp, "w-")), "paperhound-sci-1");
    mkdirSync(d);
    for (const f of ["weights.json", "weights.bin"]) copyFileSync(path.join(weightsDir, f), path.join(d, f));
    return d;
  }

  it("a missing weights.bin names the file and the way out", async () => {
    const d = copyWeights();
    rmSync(path.join(d, "weights.bin"));
    const err = await readShippedWeights(d, "paperhound-sci-1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelWeightsError);
    expect((err as Error).message).toContain(path.join(d, "weights.bin"));
    expect((err as Error).message).toMatch(/is missing.*EMBED_MODEL=use-lite/);
  });

  it("a truncated or altered weights.bin (e.g. a Git LFS pointer) is refused as damaged", async () => {
    const d = copyWeights();
    writeFileSync(path.join(d, "weights.bin"), "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n");
    await expect(readShippedWeights(d, "paperhound-sci-1")).rejects.toThrow(/weights\.bin is damaged/);
    const flipped = readFileSync(path.join(weightsDir, "weights.bin"));
    flipped[1000] = flipped[1000]! ^ 0xff;
    writeFileSync(path.join(d, "weights.bin"), flipped);
    await expect(readShippedWeights(d, "paperhound-sci-1")).rejects.toThrow(/weights\.bin is damaged/);
  });

  it("a broken or foreign manifest is refused", async () => {
    const d = copyWeights();
    writeFileSync(path.join(d, "weights.json"), "{ not json");
    await expect(readShippedWeights(d, "paperhound-sci-1")).rejects.toThrow(/weights\.json is not readable JSON/);
    writeFileSync(path.join(d, "weights.json"), JSON.stringify({ model: "other", format: 1, dtype: "float16", weights: [] }));
    await expect(readShippedWeights(d, "paperhound-sci-1")).rejects.toThrow(/not a format-1 float16 manifest of paperhound-sci-1/);
  });
});
