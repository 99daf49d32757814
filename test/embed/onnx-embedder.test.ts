import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { cutText, EmbedInputError, EmbedOutputError, OnnxEmbedder } from "../../src/embed/onnx-embedder.js";
import type { ModelSpec } from "../../src/embed/types.js";
import { CLS, HIDDEN, SEP, idsFor, l2, meanOf, recordingLogger, tempDir, tokenId, tokenVector, writeTinyModel } from "./tiny-model.js";

const quiet = recordingLogger();

function expectVector(actual: Float32Array, expected: number[]): void {
  expect(actual).toBeInstanceOf(Float32Array);
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5));
}

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

describe("cutText", () => {
  it("cuts at the last whitespace near the limit, else hard, never inside a surrogate pair", () => {
    expect(cutText("short", 10)).toBe("short");
    expect(cutText("alpha beta gamma", 12)).toBe("alpha beta");
    expect(cutText("abcdefghijklmnop", 10)).toBe("abcdefghij");
    expect(cutText("abcdefghi\u{1F600}xyz", 10)).toBe("abcdefghi");
  });
});

describe("OnnxEmbedder on a tiny model", () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let plainDir: string;
  let typedDir: string;
  let embedder: OnnxEmbedder;

  beforeAll(async () => {
    tmp = await tempDir();
    plainDir = await writeTinyModel(path.join(tmp.dir, "tiny"));
    typedDir = await writeTinyModel(path.join(tmp.dir, "tiny-typed"), { tokenTypeIds: true, pooledOutput: true });
    embedder = await OnnxEmbedder.load(plainDir, { device: "cpu", threads: 1, logger: quiet });
  });

  afterAll(async () => {
    await embedder?.dispose();
    await tmp?.cleanup();
  });

  it("reports its facts: unknown model → id from the directory, mean + normalise, maxTokens from tokenizer_config", () => {
    expect(embedder.modelId).toBe("tiny");
    expect(embedder.dim).toBe(HIDDEN);
    expect(embedder.maxTokens).toBe(16);
    expect(embedder.device).toBe("cpu");
    expect(embedder.batchSize).toBe(16); // the CPU default
    expect(embedder.spec).toMatchObject({ pooling: "mean", normalize: true, output: "last_hidden_state", queryPrefix: "", passagePrefix: "" });
  });

  it("mean-pools over the real tokens and L2-normalises, exactly", async () => {
    const [v] = await embedder.embed(["Hello world"], "passage");
    expectVector(v!, l2(meanOf([CLS, tokenId("hello"), tokenId("world"), SEP])));
    expect(norm(v!)).toBeCloseTo(1, 6);
  });

  it("ignores padding: a short text batched with a long one equals it embedded alone", async () => {
    const short = "dog";
    const long = "the neural network model of the graph search results show we a paper";
    const [alone] = await embedder.embed([short], "passage");
    const [s, l] = await embedder.embed([short, long], "passage");
    expectVector(s!, Array.from(alone!));
    expectVector(s!, l2(meanOf(idsFor(short))));
    expectVector(l!, l2(meanOf(idsFor(long))));
    // The padding row is not zero, so pooling that counted it would give a different vector.
    const withPads = l2(meanOf([...idsFor(short), ...new Array<number>(idsFor(long).length - idsFor(short).length).fill(0)]));
    expect(Math.abs(s![0]! - withPads[0]!) + Math.abs(s![1]! - withPads[1]!)).toBeGreaterThan(1e-3);
  });

  it("returns results in input order although it sorts by length internally", async () => {
    const texts = ["cat", "the neural network model of the graph", "hello world", "a", "paper search results show we", "dog dog"];
    const res = await embedder.embedDetailed(texts, "passage");
    expect(res).toHaveLength(texts.length);
    res.forEach((r, i) => {
      expectVector(r.vector, l2(meanOf(idsFor(texts[i]!))));
      expect(r.tokens).toBe(idsFor(texts[i]!).length);
      expect(r.truncated).toBe(false);
    });
  });

  it("gives the same vectors for every batch size, across batch boundaries", async () => {
    const texts = Array.from({ length: 7 }, (_, i) => ["hello", "world", "paper", "dog", "cat", "graph", "neural"].slice(0, i + 1).join(" "));
    const reference = await embedder.embed(texts, "passage");
    for (const batchSize of [1, 2, 3, 7]) {
      const e = await OnnxEmbedder.load(plainDir, { device: "cpu", threads: 1, batchSize, logger: quiet });
      try {
        expect(e.batchSize).toBe(batchSize);
        const got = await e.embed(texts, "passage");
        got.forEach((v, i) => expectVector(v, Array.from(reference[i]!)));
      } finally {
        await e.dispose();
      }
    }
  });

  it("rejects bad batch sizes", async () => {
    for (const batchSize of [0, -1, 1.5, 5000]) {
      await expect(OnnxEmbedder.load(plainDir, { device: "cpu", batchSize, logger: quiet })).rejects.toThrow(/batchSize/);
    }
  });

  it("truncates to maxTokens keeping the closing special token, and reports it", async () => {
    const words = Array.from({ length: 20 }, (_, i) => ["hello", "world", "paper", "dog", "cat"][i % 5]!);
    const text = words.join(" "); // 103 characters, 22 tokens
    const [r] = await embedder.embedDetailed([text], "passage");
    expect(r!.truncated).toBe(true);
    // Only the first maxTokens * 6 = 96 characters (cut at a space: 18 words) were tokenised.
    expect(r!.tokens).toBe(20);
    expectVector(r!.vector, l2(meanOf([CLS, ...words.slice(0, 14).map(tokenId), SEP])));

    const exact = await OnnxEmbedder.load(plainDir, { device: "cpu", exactTokenCounts: true, logger: quiet });
    try {
      const [x] = await exact.embedDetailed([text], "passage");
      expect(x).toMatchObject({ tokens: 22, truncated: true });
      expectVector(x!.vector, Array.from(r!.vector));
    } finally {
      await exact.dispose();
    }

    const fits = words.slice(0, 14).join(" "); // 14 words + [CLS] + [SEP] = 16 = maxTokens
    const [e] = await embedder.embedDetailed([fits], "passage");
    expect(e).toMatchObject({ tokens: 16, truncated: false });
  });

  it("applies query and passage prefixes, counting their tokens", async () => {
    const spec: ModelSpec = {
      id: "tiny-prefixed",
      pooling: "mean",
      normalize: true,
      queryPrefix: "Represent this sentence for searching relevant passages: ",
      passagePrefix: "passages: ",
      maxTokens: 16,
      output: "last_hidden_state",
    };
    const e = await OnnxEmbedder.load(plainDir, { device: "cpu", spec, logger: quiet });
    try {
      const [q] = await e.embedDetailed(["neural search"], "query");
      expectVector(q!.vector, l2(meanOf(idsFor("represent this sentence for searching relevant passages: neural search"))));
      expect(q!.tokens).toBe(12); // 8 prefix tokens (":" is one) + 2 words + [CLS] [SEP]
      const [p] = await e.embedDetailed(["neural search"], "passage");
      expectVector(p!.vector, l2(meanOf(idsFor("passages: neural search"))));
      expect(p!.tokens).toBe(6);
      expect(e.countTokens("neural search")).toBe(6);
      expect(e.modelId).toBe("tiny-prefixed");
    } finally {
      await e.dispose();
    }
  });

  it("supports cls pooling and unnormalised output", async () => {
    const base = { id: "tiny", queryPrefix: "", passagePrefix: "", maxTokens: 16, output: "last_hidden_state" };
    const cls = await OnnxEmbedder.load(plainDir, { device: "cpu", spec: { ...base, pooling: "cls", normalize: true }, logger: quiet });
    const raw = await OnnxEmbedder.load(plainDir, { device: "cpu", spec: { ...base, pooling: "mean", normalize: false }, logger: quiet });
    try {
      const [c] = await cls.embed(["hello world paper"], "passage");
      expectVector(c!, l2(tokenVector(CLS)));
      const [m] = await raw.embed(["hello world paper"], "passage");
      expectVector(m!, meanOf(idsFor("hello world paper")));
    } finally {
      await cls.dispose();
      await raw.dispose();
    }
  });

  it("reads an already pooled output with pooling none, and feeds token_type_ids when the graph declares them", async () => {
    const spec: ModelSpec = { id: "tiny-pooled", pooling: "none", normalize: false, queryPrefix: "", passagePrefix: "", maxTokens: 16, output: "sentence_embedding" };
    const e = await OnnxEmbedder.load(typedDir, { device: "cpu", spec, logger: quiet });
    try {
      expect(e.dim).toBe(HIDDEN);
      const [v] = await e.embed(["dog cat"], "query");
      expectVector(v!, tokenVector(CLS)); // the graph's "pooling" takes position 0, unnormalised
    } finally {
      await e.dispose();
    }
    // Same graph through last_hidden_state with mean pooling: token_type_ids is fed and ignored.
    const m = await OnnxEmbedder.load(typedDir, { device: "cpu", logger: quiet });
    try {
      const [v] = await m.embed(["dog cat"], "query");
      expectVector(v!, l2(meanOf(idsFor("dog cat"))));
    } finally {
      await m.dispose();
    }
  });

  it("accepts onnx/model_quantized.onnx when onnx/model.onnx is absent", async () => {
    const dir = await writeTinyModel(path.join(tmp.dir, "tiny-q"), { quantizedName: true });
    const e = await OnnxEmbedder.load(dir, { device: "cpu", logger: quiet });
    try {
      expect(e.modelFile).toBe(path.join(dir, "onnx", "model_quantized.onnx"));
      const [v] = await e.embed(["hello"], "passage");
      expectVector(v!, l2(meanOf(idsFor("hello"))));
    } finally {
      await e.dispose();
    }
  });

  it("fails clearly when the directory has no ONNX file or the spec names a missing output", async () => {
    await expect(OnnxEmbedder.load(path.join(tmp.dir, "nowhere"), { device: "cpu", logger: quiet })).rejects.toThrow(/no ONNX model .*onnx\/model\.onnx/);
    const spec: ModelSpec = { id: "x", pooling: "mean", normalize: true, queryPrefix: "", passagePrefix: "", maxTokens: 16, output: "pooler_output" };
    await expect(OnnxEmbedder.load(plainDir, { device: "cpu", spec, logger: quiet })).rejects.toThrow(/no output "pooler_output".*last_hidden_state/);
  });

  it("countTokens matches what embedDetailed reports, special tokens included", async () => {
    const text = "we show results of the model";
    expect(embedder.countTokens(text)).toBe(8);
    const [r] = await embedder.embedDetailed([text], "passage");
    expect(r!.tokens).toBe(embedder.countTokens(text));
    expect(embedder.countTokens("")).toBe(2);
    expect(() => embedder.countTokens(42 as unknown as string)).toThrow(EmbedInputError);
  });

  it("returns [] for no texts and serves concurrent calls correctly", async () => {
    expect(await embedder.embed([], "query")).toEqual([]);
    const [a, b] = await Promise.all([embedder.embed(["hello", "dog cat"], "passage"), embedder.embed(["graph neural network"], "query")]);
    expectVector(a![1]!, l2(meanOf(idsFor("dog cat"))));
    expectVector(b![0]!, l2(meanOf(idsFor("graph neural network"))));
  });

  it("rejects an unknown kind", async () => {
    await expect(embedder.embed(["hello"], "document" as never)).rejects.toThrow(TypeError);
  });

  describe("bad input", () => {
    it.each([
      [42, "number"],
      [null, "null"],
      [undefined, "undefined"],
      [{ text: "hello" }, "object"],
      [["hello"], "array"],
      [true, "boolean"],
    ])("refuses %j with an EmbedInputError naming the index and type", async (bad, type) => {
      const err = await embedder.embed(["hello", bad as unknown as string], "passage").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbedInputError);
      expect((err as EmbedInputError).index).toBe(1);
      expect((err as Error).message).toBe(`text 1 is ${type}, expected a string`);
    });

    it("refuses a non-array", async () => {
      await expect(embedder.embed("hello" as unknown as string[], "passage")).rejects.toThrow(EmbedInputError);
    });

    it.each(["", "   ", " \n\t\r ", "\u0000\u0001"])("refuses empty or whitespace-only text %j", async (bad) => {
      const err = await embedder.embed(["hello", "world", bad], "query").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbedInputError);
      expect((err as Error).message).toBe("text 2 is empty");
    });

    it("replaces lone surrogates with U+FFFD (defined, stable result) and keeps valid pairs", async () => {
      const [a, b, c, d] = await embedder.embedDetailed(
        ["hello \uD800 world", "hello \uFFFD world", "hello \uDC00 world", "hello \uD83D\uDE00 world"],
        "passage",
      );
      expectVector(a!.vector, Array.from(b!.vector));
      expectVector(c!.vector, Array.from(b!.vector));
      expect(a!.tokens).toBe(5);
      expect(d!.tokens).toBe(5); // the emoji is one (unknown) word
      for (const r of [a, b, c, d]) expect(r!.vector.every(Number.isFinite)).toBe(true);
    });

    it("replaces control characters (but not tab/newline/CR) with a space", async () => {
      const [a, b, c] = await embedder.embedDetailed(["hello\u0000world\u007fpaper\u0085dog", "hello world paper dog", "hello\tworld\npaper\r\ndog"], "passage");
      expectVector(a!.vector, Array.from(b!.vector));
      expectVector(c!.vector, Array.from(b!.vector));
      expect(a!.tokens).toBe(6);
    });

    it("handles a 100k-character text: cut before tokenising, reported as truncated", async () => {
      const huge = "hello world ".repeat(8500); // 102,000 characters, 17,000 words
      expect(huge.length).toBeGreaterThan(100_000);
      const [r, small] = await embedder.embedDetailed([huge, "dog"], "passage");
      expect(r!.truncated).toBe(true);
      // Only the first maxTokens * 16 = 256 characters were tokenised: ~43 words, not 17,000.
      expect(r!.tokens).toBeGreaterThan(embedder.maxTokens);
      expect(r!.tokens).toBeLessThan(60);
      const first14 = Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? "hello" : "world"));
      expectVector(r!.vector, l2(meanOf([CLS, ...first14.map(tokenId), SEP])));
      expect(small).toMatchObject({ tokens: 3, truncated: false });
    });

    it("never returns a non-finite vector: the model's NaN becomes an error naming the text", async () => {
      const err = await embedder.embed(["hello", "dog", "boom cat"], "passage").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbedOutputError);
      expect((err as EmbedOutputError).index).toBe(2);
      expect((err as Error).message).toMatch(/non-finite value .* text 2/);
      // The embedder stays usable.
      const [v] = await embedder.embed(["hello"], "passage");
      expect(v!.every(Number.isFinite)).toBe(true);
    });
  });

  it("refuses to embed after dispose", async () => {
    const e = await OnnxEmbedder.load(plainDir, { device: "cpu", logger: quiet });
    await e.dispose();
    await e.dispose(); // idempotent
    await expect(e.embed(["hello"], "passage")).rejects.toThrow(/disposed/);
  });
});
