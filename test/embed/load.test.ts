import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { isHubId, loadEmbedder, modelIdentity, ModelNotFoundError } from "../../src/embed/load.js";
import { lookupModelSpec, maxTokensFromConfig, resolveModelSpec } from "../../src/embed/model-table.js";
import type { Embedder } from "../../src/embed/types.js";
import { idsFor, l2, meanOf, recordingLogger, tempDir, writeTinyModel } from "./tiny-model.js";

const quiet = recordingLogger();

async function withEmbedder<T>(p: Promise<Embedder>, fn: (e: Embedder) => Promise<T>): Promise<T> {
  const e = await p;
  try {
    return await fn(e);
  } finally {
    await e.dispose();
  }
}

describe("model table", () => {
  it("knows the built-in and the two Hub models", () => {
    expect(lookupModelSpec("use-lite")).toEqual({
      id: "use-lite",
      pooling: "none",
      normalize: false,
      queryPrefix: "",
      passagePrefix: "",
      maxTokens: 128,
      output: "sentence_embedding",
      tokenizer: "use-lite-exact",
    });
    expect(lookupModelSpec("Xenova/all-MiniLM-L6-v2")).toMatchObject({ pooling: "mean", normalize: true, maxTokens: 256, output: "last_hidden_state", queryPrefix: "" });
    expect(lookupModelSpec("Xenova/bge-small-en-v1.5")).toMatchObject({
      pooling: "cls",
      normalize: true,
      maxTokens: 512,
      queryPrefix: "Represent this sentence for searching relevant passages: ",
      passagePrefix: "",
    });
  });

  it("finds models by directory basename or path, and returns copies", () => {
    expect(lookupModelSpec("/srv/models/Xenova/bge-small-en-v1.5")?.id).toBe("Xenova/bge-small-en-v1.5");
    expect(lookupModelSpec("/opt/all-MiniLM-L6-v2/")?.id).toBe("Xenova/all-MiniLM-L6-v2");
    expect(lookupModelSpec("/home/me/models/use-lite")?.id).toBe("use-lite");
    expect(lookupModelSpec("sentence-transformers/all-MiniLM-L6-v2")?.id).toBe("Xenova/all-MiniLM-L6-v2");
    expect(lookupModelSpec("acme/unknown-model")).toBeUndefined();
    lookupModelSpec("use-lite")!.maxTokens = 1;
    expect(lookupModelSpec("use-lite")!.maxTokens).toBe(128);
  });

  it("gives unknown models mean + normalise with model_max_length capped at 512", async () => {
    expect(maxTokensFromConfig(128)).toBe(128);
    expect(maxTokensFromConfig(1e30)).toBe(512);
    expect(maxTokensFromConfig(undefined)).toBe(512);
    expect(maxTokensFromConfig(-3)).toBe(512);
    const tmp = await tempDir();
    try {
      const dir = await writeTinyModel(path.join(tmp.dir, "mystery"), { modelMaxLength: 1e30 });
      expect(await resolveModelSpec(dir)).toEqual({
        id: "mystery",
        pooling: "mean",
        normalize: true,
        queryPrefix: "",
        passagePrefix: "",
        maxTokens: 512,
        output: "last_hidden_state",
      });
      expect((await resolveModelSpec(dir, "acme/mystery")).id).toBe("acme/mystery");
      const custom = await writeTinyModel(path.join(tmp.dir, "custom"), {
        config: { paperhound: { pooling: "cls", normalize: false, output: "sentence_embedding", queryPrefix: "q: " } },
      });
      expect(await resolveModelSpec(custom)).toMatchObject({ pooling: "cls", normalize: false, output: "sentence_embedding", queryPrefix: "q: ", maxTokens: 16 });
    } finally {
      await tmp.cleanup();
    }
  });
});

describe("loadEmbedder", () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let models: string;
  let localDir: string;

  beforeAll(async () => {
    tmp = await tempDir();
    models = path.join(tmp.dir, "models");
    localDir = await writeTinyModel(path.join(tmp.dir, "local", "tiny-local"));
  });
  afterAll(async () => tmp?.cleanup());

  it("tells Hub ids from paths", () => {
    expect(isHubId("Xenova/all-MiniLM-L6-v2")).toBe(true);
    expect(isHubId("bert-base-uncased")).toBe(true);
    expect(isHubId("./models/x")).toBe(false);
    expect(isHubId("/abs/dir")).toBe(false);
    expect(isHubId("a/b/c")).toBe(false);
    expect(isHubId("../x")).toBe(false);
  });

  it("reads a model's identity (id, weights checksum, input limit) as loading it reports, without loading it", async () => {
    for (const model of [localDir, "use-lite", "paperhound-sci-1"]) {
      const identity = await modelIdentity({ model, logger: quiet, modelsDir: models });
      await withEmbedder(loadEmbedder({ model, device: "cpu", threads: 1, logger: quiet, modelsDir: models }), async (e) => {
        expect(identity).toEqual({ modelId: e.modelId, checksum: e.checksum, maxTokens: e.maxTokens });
      });
    }
    await expect(modelIdentity({ model: path.join(tmp.dir, "no-such-model"), logger: quiet, modelsDir: models })).rejects.toThrow(ModelNotFoundError);
  });

  it("loads a local directory, absolute or relative", async () => {
    await withEmbedder(loadEmbedder({ model: localDir, device: "cpu", threads: 1, batchSize: 4, logger: quiet, modelsDir: models }), async (e) => {
      expect(e.modelId).toBe("tiny-local");
      expect(e.device).toBe("cpu");
      const [v] = await e.embed(["hello world"], "passage");
      Array.from(v!).forEach((x, j) => expect(x).toBeCloseTo(l2(meanOf(idsFor("hello world")))[j]!, 5));
    });
    const rel = path.relative(process.cwd(), localDir);
    await withEmbedder(loadEmbedder({ model: rel, device: "cpu", logger: quiet, modelsDir: models }), async (e) => {
      expect(e.modelId).toBe("tiny-local");
    });
  });

  it("refuses an id-looking value that climbs out with .. (Xenova/../../etc) instead of opening the directory it reaches", async () => {
    const climbing = `Xenova/${"../".repeat(40)}etc`; // resolves to /etc from any working directory
    await expect(loadEmbedder({ model: climbing, device: "cpu", logger: quiet, modelsDir: models })).rejects.toThrow(
      /is neither a Hugging Face id \(org\/name, no "\.\."\) nor a plain model directory/,
    );
  });

  it("explains a missing or incomplete local directory", async () => {
    const missing = path.join(tmp.dir, "does-not-exist");
    await expect(loadEmbedder({ model: missing, device: "cpu", logger: quiet, modelsDir: models })).rejects.toThrow(ModelNotFoundError);
    await expect(loadEmbedder({ model: missing, device: "cpu", logger: quiet, modelsDir: models })).rejects.toThrow(/does not exist/);
    const partial = path.join(tmp.dir, "partial");
    await writeTinyModel(partial);
    const { rm } = await import("node:fs/promises");
    await rm(path.join(partial, "onnx"), { recursive: true });
    await rm(path.join(partial, "tokenizer.json"));
    await expect(loadEmbedder({ model: partial, device: "cpu", logger: quiet, modelsDir: models })).rejects.toThrow(
      /missing tokenizer\.json, onnx\/model\.onnx or onnx\/model_quantized\.onnx/,
    );
  });

  it("refuses a Hub id that is not on disk when downloads are off, saying what to set and where to put files", async () => {
    const err = await loadEmbedder({ model: "Xenova/bge-small-en-v1.5", device: "cpu", logger: quiet, modelsDir: models }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    const msg = (err as Error).message;
    expect(msg).toContain("EMBED_MODEL=Xenova/bge-small-en-v1.5");
    expect(msg).toContain("EMBED_ALLOW_DOWNLOAD=1");
    expect(msg).toContain(path.join(models, "Xenova", "bge-small-en-v1.5") + path.sep);
    for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]) expect(msg).toContain(f);
    expect(existsSync(path.join(models, "Xenova"))).toBe(false);
  });

  it("finds a Hub model in <modelsDir>/<org>/<name> and applies its table entry", async () => {
    await writeTinyModel(path.join(models, "Xenova", "all-MiniLM-L6-v2"));
    await withEmbedder(loadEmbedder({ model: "Xenova/all-MiniLM-L6-v2", device: "cpu", logger: quiet, modelsDir: models }), async (e) => {
      expect(e.modelId).toBe("Xenova/all-MiniLM-L6-v2");
      expect(e.maxTokens).toBe(256);
      expect(e.dim).toBe(8);
    });
    await writeTinyModel(path.join(models, "acme", "tiny"));
    await withEmbedder(loadEmbedder({ model: "acme/tiny", device: "cpu", logger: quiet, modelsDir: models }), async (e) => {
      expect(e.modelId).toBe("acme/tiny");
      expect(e.maxTokens).toBe(16);
    });
  });

  describe("with downloads allowed", () => {
    let server: http.Server;
    let host: string;
    const requests: string[] = [];
    let source: string;

    beforeAll(async () => {
      // A stand-in for the Hub: serves a tiny model that only has onnx/model_quantized.onnx.
      source = await writeTinyModel(path.join(tmp.dir, "hub-source"), { quantizedName: true });
      server = http.createServer((req, res) => {
        const url = req.url ?? "";
        requests.push(url);
        const m = /^\/(acme\/[\w.-]+)\/resolve\/main\/(.+)$/.exec(url);
        if (!m || m[1] === "acme/broken") {
          res.writeHead(m ? 500 : 404).end();
          return;
        }
        readFile(path.join(source, m[2]!)).then(
          (body) => res.writeHead(200, { "content-type": "application/octet-stream" }).end(body),
          () => res.writeHead(404).end(),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

    it("downloads into <modelsDir>/<org>/<name>, falling back to model_quantized.onnx", async () => {
      const logger = recordingLogger();
      await withEmbedder(
        loadEmbedder({ model: "acme/remote-tiny", device: "cpu", allowRemote: true, remoteHost: host, logger, modelsDir: models }),
        async (e) => {
          expect(e.modelId).toBe("acme/remote-tiny");
          const [v] = await e.embed(["dog"], "query");
          expect(v!.length).toBe(8);
        },
      );
      const dest = path.join(models, "acme", "remote-tiny");
      expect(readdirSync(dest).sort()).toEqual(["config.json", "onnx", "tokenizer.json", "tokenizer_config.json"]);
      expect(readdirSync(path.join(dest, "onnx"))).toEqual(["model_quantized.onnx"]);
      expect(requests).toContain("/acme/remote-tiny/resolve/main/onnx/model.onnx");
      expect(logger.events.some((ev) => ev.msg === "model downloaded")).toBe(true);

      // Second load is from disk: no new requests.
      const before = requests.length;
      await withEmbedder(loadEmbedder({ model: "acme/remote-tiny", device: "cpu", allowRemote: true, remoteHost: host, logger: quiet, modelsDir: models }), async () => {});
      expect(requests.length).toBe(before);
    });

    it("reports a failed download and leaves no partial directory behind", async () => {
      await expect(
        loadEmbedder({ model: "acme/broken", device: "cpu", allowRemote: true, remoteHost: host, logger: quiet, modelsDir: models }),
      ).rejects.toThrow(/downloading acme\/broken failed: GET .*tokenizer\.json: HTTP 500/);
      expect(readdirSync(path.join(models, "acme")).filter((n) => n.includes("broken"))).toEqual([]);
    });
  });
});
