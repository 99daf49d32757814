import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, REDACTED, SETTINGS, describeConfig, loadConfig, type Config } from "../src/config.js";
import { projectRoot } from "../src/paths.js";

describe("loadConfig", () => {
  it("gives documented defaults for an empty environment", () => {
    const c = loadConfig({}, { stderrIsTTY: false });
    expect(c).toEqual({
      embedModel: "paperhound-sci-1",
      embedDevice: "auto",
      embedPrecision: "auto",
      embedThreads: os.availableParallelism(),
      embedBatchSize: "auto",
      embedAllowDownload: false,
      searchThreads: 1,
      vectorSimd: "auto",
      indexRefreshSeconds: 60,
      indexLockWaitSeconds: 600,
      digestIngest: true,
      ingestCategories: [],
      ingestHfDaily: false,
      modelsDir: path.join(projectRoot, "models"),
      indexPath: path.join(projectRoot, "index", "default"),
      maxRecordBytes: 16_777_216,
      maxAbstractChars: 100_000,
      logLevel: "info",
      logFormat: "json",
      logQueries: false,
      contactEmail: undefined,
      arxivApiUrl: "https://export.arxiv.org/api/query",
      arxivRssUrl: "https://rss.arxiv.org/rss/",
      arxivOaiUrl: "https://oaipmh.arxiv.org/oai",
      hfApiUrl: "https://huggingface.co/api",
      arxivMinIntervalMs: 3000,
      hfMinIntervalMs: 1000,
      healthHost: "127.0.0.1",
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("defaults LOG_FORMAT to pretty on a terminal", () => {
    expect(loadConfig({}, { stderrIsTTY: true }).logFormat).toBe("pretty");
    expect(loadConfig({ LOG_FORMAT: "json" }, { stderrIsTTY: true }).logFormat).toBe("json");
  });

  it("parses every setting from the environment", () => {
    const c = loadConfig({
      EMBED_MODEL: "Xenova/bge-small-en-v1.5",
      EMBED_DEVICE: "CUDA",
      EMBED_THREADS: "3",
      EMBED_BATCH_SIZE: "1024",
      EMBED_ALLOW_DOWNLOAD: "true",
      SEARCH_THREADS: "0",
      PAPERHOUND_MODELS_DIR: "/tmp/models",
      PAPERHOUND_INDEX: "rel/index",
      LOG_LEVEL: "debug",
      LOG_FORMAT: "pretty",
    });
    expect(c.embedModel).toBe("Xenova/bge-small-en-v1.5");
    expect(c.embedDevice).toBe("cuda");
    expect(c.embedThreads).toBe(3);
    expect(c.embedBatchSize).toBe(1024);
    expect(c.embedAllowDownload).toBe(true);
    expect(c.searchThreads).toBe(0);
    expect(c.modelsDir).toBe("/tmp/models");
    expect(c.indexPath).toBe(path.resolve("rel/index"));
    expect(c.logLevel).toBe("debug");
    expect(c.logFormat).toBe("pretty");
  });

  it("INGEST_CATEGORIES: a list in arXiv's spelling, each once; not a category is refused naming the setting", () => {
    const c = loadConfig({ INGEST_CATEGORIES: "cs.lg, CS.CL+stat.ML cs.LG", INGEST_HF_DAILY: "true" });
    expect(c.ingestCategories).toEqual(["cs.LG", "cs.CL", "stat.ML"]);
    expect(c.ingestHfDaily).toBe(true);
    expect(loadConfig({}).ingestCategories).toEqual([]);
    expect(() => loadConfig({ INGEST_CATEGORIES: "machine learning!" })).toThrow(/INGEST_CATEGORIES="machine learning!" is not allowed \(expected arXiv categories such as cs.LG,cs.CL\)/);
  });

  it("reads the remote-source settings", () => {
    const c = loadConfig({
      PAPERHOUND_CONTACT_EMAIL: "team@example.org",
      ARXIV_API_URL: "http://127.0.0.1:8080/api/query",
      ARXIV_RSS_URL: "http://127.0.0.1:8080/rss/",
      ARXIV_OAI_URL: "http://127.0.0.1:8080/oai",
      HF_API_URL: "http://127.0.0.1:8080/hf",
      ARXIV_MIN_INTERVAL_MS: "50",
      HF_MIN_INTERVAL_MS: "0",
    });
    expect(c).toMatchObject({
      contactEmail: "team@example.org",
      arxivApiUrl: "http://127.0.0.1:8080/api/query",
      arxivRssUrl: "http://127.0.0.1:8080/rss/",
      arxivOaiUrl: "http://127.0.0.1:8080/oai",
      hfApiUrl: "http://127.0.0.1:8080/hf",
      arxivMinIntervalMs: 50,
      hfMinIntervalMs: 0,
    });
  });

  it.each([
    ["0", false],
    ["1", true],
    ["FALSE", false],
    ["True", true],
  ])("reads EMBED_ALLOW_DOWNLOAD=%s as %s", (raw, want) => {
    expect(loadConfig({ EMBED_ALLOW_DOWNLOAD: raw }).embedAllowDownload).toBe(want);
  });

  it("treats an empty or blank value as unset", () => {
    expect(loadConfig({ EMBED_DEVICE: "", EMBED_BATCH_SIZE: "  " })).toMatchObject({ embedDevice: "auto", embedBatchSize: "auto" });
  });

  it.each([
    ["EMBED_DEVICE", "gpu", "auto, cpu, cuda"],
    ["EMBED_THREADS", "0", "positive integer"],
    ["EMBED_THREADS", "2.5", "positive integer"],
    ["EMBED_THREADS", "four", "positive integer"],
    ["EMBED_BATCH_SIZE", "0", "auto or an integer from 1 to 1024"],
    ["EMBED_BATCH_SIZE", "1025", "auto or an integer from 1 to 1024"],
    ["EMBED_BATCH_SIZE", "-5", "auto or an integer from 1 to 1024"],
    ["EMBED_ALLOW_DOWNLOAD", "yes", "0, 1, true, false"],
    ["SEARCH_THREADS", "17", "an integer from 0 to 16"],
    ["SEARCH_THREADS", "-1", "an integer from 0 to 16"],
    ["SEARCH_THREADS", "one", "an integer from 0 to 16"],
    ["LOG_LEVEL", "verbose", "debug, info, warn, error"],
    ["LOG_FORMAT", "xml", "json, pretty"],
    ["PAPERHOUND_CONTACT_EMAIL", "Jane Doe <jane@example.org>", "an e-mail address"],
    ["PAPERHOUND_CONTACT_EMAIL", "jane", "an e-mail address"],
    ["ARXIV_API_URL", "export.arxiv.org/api/query", "an http(s) URL"],
    ["HF_API_URL", "ftp://huggingface.co/api", "an http(s) URL"],
    ["ARXIV_MIN_INTERVAL_MS", "-1", "an integer from 0 to 600000"],
    ["HF_MIN_INTERVAL_MS", "1s", "an integer from 0 to 600000"],
  ])("rejects %s=%s and says what is allowed", (name, value, allowed) => {
    const err = catchConfigError({ [name]: value });
    expect(err.problems).toEqual([expect.objectContaining({ name, value })]);
    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
    expect(err.message).toContain(allowed);
  });

  it("reports every bad setting in one error", () => {
    const err = catchConfigError({ EMBED_DEVICE: "tpu", EMBED_BATCH_SIZE: "big", LOG_LEVEL: "loud", EMBED_MODEL: "fine" });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.name).toBe("ConfigError");
    expect(err.problems.map((p) => p.name)).toEqual(["EMBED_DEVICE", "EMBED_BATCH_SIZE", "LOG_LEVEL"]);
    for (const s of ["EMBED_DEVICE", '"tpu"', "EMBED_BATCH_SIZE", '"big"', "LOG_LEVEL", '"loud"']) expect(err.message).toContain(s);
    expect(err.message).not.toContain("\n");
  });
});

describe("describeConfig", () => {
  it("lists every setting by environment variable, in declaration order", () => {
    const rows = describeConfig(loadConfig({ EMBED_BATCH_SIZE: "8" }));
    expect(rows.map((r) => r.env)).toEqual(Object.values(SETTINGS).map((s) => s.env));
    expect(rows.find((r) => r.env === "EMBED_BATCH_SIZE")?.value).toBe("8");
    expect(rows.every((r) => r.description.length > 0)).toBe(true);
  });

  it("redacts settings marked secret", () => {
    // No secret settings exist yet (bot tokens come later); check the mechanism on a marked copy.
    const original = SETTINGS.embedModel as { secret?: boolean };
    original.secret = true;
    try {
      const config: Config = loadConfig({ EMBED_MODEL: "hunter2" });
      const row = describeConfig(config).find((r) => r.env === "EMBED_MODEL");
      expect(row).toMatchObject({ value: REDACTED, secret: true });
      expect(JSON.stringify(describeConfig(config))).not.toContain("hunter2");
    } finally {
      delete original.secret;
    }
  });

  it("never puts a secret value in a ConfigError", () => {
    const spec = SETTINGS.embedDevice as { secret?: boolean };
    spec.secret = true;
    try {
      const err = catchConfigError({ EMBED_DEVICE: "s3cr3t-value" });
      expect(err.message).not.toContain("s3cr3t-value");
      expect(err.message).toContain("EMBED_DEVICE");
    } finally {
      delete spec.secret;
    }
  });
});

function catchConfigError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe(".env.example", () => {
  it("lists every setting, generated from SETTINGS (run `npm run env-example` after adding one)", async () => {
    const { envExample } = await import("../scripts/write-env-example.js");
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(path.join(projectRoot, ".env.example"), "utf8");
    expect(text).toBe(envExample());
    for (const s of Object.values(SETTINGS)) expect(text).toMatch(new RegExp(`^# ${s.env}=`, "m"));
  });
});
