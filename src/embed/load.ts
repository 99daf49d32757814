/**
 * Turns the EMBED_MODEL setting into a running `Embedder`:
 *  - a built-in model ("paperhound-sci-1", the default, or "use-lite"): built on first use by `ensureBuiltinModel`;
 *  - a local directory in transformers.js layout (absolute, or relative to the working directory);
 *  - a Hugging Face id ("Xenova/all-MiniLM-L6-v2"): looked up in `<modelsDir>/<id>/`, then in
 *    transformers.js's file cache (`env.cacheDir/<id>/`); downloaded into `<modelsDir>/<id>/` only
 *    when `allowRemote` (EMBED_ALLOW_DOWNLOAD=1) is set.
 * The tokenizer is always read from local files; transformers.js never goes to the network itself.
 */
import { createWriteStream, existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { modelsDir as defaultModelsDir } from "../paths.js";
import { DEFAULT_MODEL_ID, ensureBuiltinModel, isBuiltinModel } from "./builtin-models.js";
import type { Logger } from "./device.js";
import { findModelFile, MODEL_FILE_CANDIDATES } from "./model-files.js";
import { resolveModelSpec } from "./model-table.js";
import { sha256OfFile } from "../file-hash.js";
import type { PrecisionSetting } from "./precision.js";
import type { DeviceSetting, Embedder } from "./types.js";
import { replaceDirAtomic } from "../atomic-write.js";
import { PaperhoundError } from "../errors.js";
import { makeDir } from "../make-dir.js";

/** JSON lines on stderr (device.js's logger), imported only when no logger is given. */
async function defaultLogger(): Promise<Logger> {
  return (await import("./device.js")).stderrJsonLogger;
}

/** transformers.js's settings, imported on demand: the import costs ~1.7 s and the built-in models never need it. */
async function transformersEnv(): Promise<typeof import("@huggingface/transformers").env> {
  return (await import("@huggingface/transformers")).env;
}

export const DEFAULT_MODEL = DEFAULT_MODEL_ID;

/** Files a model directory needs; the ONNX file may also be onnx/model_quantized.onnx. */
export const MODEL_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"] as const;
/** Of those, the ones we cannot run without (besides an ONNX file). */
const REQUIRED_FILES = ["tokenizer.json", "tokenizer_config.json"] as const;

export interface LoadEmbedderOptions {
  /** A built-in model ("paperhound-sci-1", "use-lite"), a model directory, or a Hugging Face id. */
  model: string;
  /** Default "auto". */
  device?: DeviceSetting;
  /** Which ONNX file runs (precision.ts); default "auto". */
  precision?: PrecisionSetting;
  threads?: number;
  batchSize?: number;
  /** Allow downloading a Hugging Face model that is not on disk (EMBED_ALLOW_DOWNLOAD=1). Default false. */
  allowRemote?: boolean;
  logger?: Logger;
  /** Where models live; default `modelsDir()` (PAPERHOUND_MODELS_DIR or <project>/models). */
  modelsDir?: string;
  /** Exact pre-truncation token counts for long texts (slower); see OnnxEmbedderOptions. Default false. */
  exactTokenCounts?: boolean;
  /** Hub base URL for downloads; default transformers.js `env.remoteHost` (https://huggingface.co/). */
  remoteHost?: string;
}

/** The model named in the settings cannot be found (and may not be downloaded). */
export class ModelNotFoundError extends PaperhoundError {
  readonly identifier = "model_not_found";
  constructor(message: string) {
    super(message);
    this.name = "ModelNotFoundError";
  }
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$|^[A-Za-z0-9][\w.-]*$/;

/** True for strings shaped like a Hub id ("org/name" or "name") that are not path-like. */
/** A value that says from its start that it is a path: ./, ../, /, ~/. */
function isExplicitPath(model: string): boolean {
  return model.startsWith(".") || path.isAbsolute(model) || model.startsWith("~");
}

export function isHubId(model: string): boolean {
  if (isExplicitPath(model)) return false;
  return HUB_ID.test(model) && !model.includes("..") && !model.includes("--");
}

/** Files of MODEL_FILES that `dir` lacks (the ONNX file counts as present when either candidate exists). */
export function missingModelFiles(dir: string): string[] {
  const missing: string[] = REQUIRED_FILES.filter((f) => !existsSync(path.join(dir, f)));
  if (!MODEL_FILE_CANDIDATES.some((f) => existsSync(path.join(dir, f)))) missing.push(MODEL_FILE_CANDIDATES.join(" or "));
  return missing;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const FILE_LIST = `${MODEL_FILES.slice(0, 3).join(", ")}, and onnx/model.onnx (or onnx/model_quantized.onnx)`;

/**
 * Where the model's files are (downloading them if allowed) and the id to look its spec up by.
 */
export async function resolveModelDir(opts: LoadEmbedderOptions): Promise<{ dir: string; id?: string }> {
  const model = opts.model.trim();
  if (model.length === 0) throw new ModelNotFoundError(`EMBED_MODEL is empty: use "${DEFAULT_MODEL}" or "use-lite" (built in), a model directory, or a Hugging Face id`);
  const root = path.resolve(opts.modelsDir ?? defaultModelsDir());
  const logger = opts.logger ?? (await defaultLogger());

  if (isBuiltinModel(model)) {
    return { dir: await ensureBuiltinModel(model, path.join(root, model)), id: model };
  }

  // "Xenova/../../../etc" looks like a Hub id but would walk out of where it seems to point: a path
  // that climbs with ".." must say so from its start (./, ../, / or ~/), or it is refused.
  if (!isExplicitPath(model) && model.split(/[\\/]/).includes("..")) {
    throw new ModelNotFoundError(
      `EMBED_MODEL=${model} is neither a Hugging Face id (org/name, no "..") nor a plain model directory: write a path that climbs with ".." starting with ./ or ../, or an absolute path`,
    );
  }
  const asPath = path.resolve(model.startsWith("~/") ? path.join(process.env.HOME ?? "~", model.slice(2)) : model);
  if (!isHubId(model) || isDir(asPath)) {
    if (!isDir(asPath)) throw new ModelNotFoundError(`EMBED_MODEL=${model}: model directory ${asPath} does not exist`);
    const missing = missingModelFiles(asPath);
    if (missing.length > 0) {
      throw new ModelNotFoundError(`EMBED_MODEL=${model}: model directory ${asPath} is missing ${missing.join(", ")} (a model directory holds ${FILE_LIST})`);
    }
    return { dir: asPath };
  }

  // A Hub id.
  const target = path.join(root, ...model.split("/"));
  const cacheDir = (await transformersEnv()).cacheDir;
  const candidates = [target, ...(cacheDir ? [path.join(cacheDir, ...model.split("/"))] : [])];
  for (const dir of candidates) {
    if (isDir(dir) && missingModelFiles(dir).length === 0) return { dir, id: model };
  }
  if (!opts.allowRemote) {
    const partial = isDir(target) ? ` (${target} exists but lacks ${missingModelFiles(target).join(", ")})` : "";
    throw new ModelNotFoundError(
      `EMBED_MODEL=${model} is not on disk${partial} and downloads are off. ` +
        `Set EMBED_ALLOW_DOWNLOAD=1 to fetch it from the Hugging Face Hub, or put its files in ${target}${path.sep}: ${FILE_LIST}. ` +
        `Or set EMBED_MODEL=${DEFAULT_MODEL} (or use-lite) for a built-in model.`,
    );
  }
  await downloadHubModel(model, target, { remoteHost: opts.remoteHost ?? (await transformersEnv()).remoteHost, logger });
  return { dir: target, id: model };
}

/**
 * Downloads a transformers.js-layout model from the Hub into `dest` (atomically: files land in a
 * sibling temp dir that is renamed into place). onnx/model.onnx is preferred; when the repo has none,
 * onnx/model_quantized.onnx is fetched instead. config.json is optional.
 */
export async function downloadHubModel(id: string, dest: string, opts: { remoteHost: string; logger?: Logger }): Promise<string> {
  const logger = opts.logger ?? (await defaultLogger());
  const base = opts.remoteHost.replace(/\/+$/, "");
  const template = (await transformersEnv()).remotePathTemplate ?? "{model}/resolve/{revision}/";
  const prefix = `${base}/${template.replaceAll("{model}", id).replaceAll("{revision}", "main").replace(/^\/+/, "")}`;
  const url = (file: string): string => `${prefix.replace(/\/+$/, "")}/${file}`;

  await makeDir(path.dirname(dest));
  const tmp = await mkdtemp(path.join(path.dirname(dest), `.${path.basename(dest)}.download-`));
  try {
    logger.info("downloading model", { model: id, from: prefix, to: dest });
    for (const file of REQUIRED_FILES) await fetchTo(url(file), path.join(tmp, file), true);
    await fetchTo(url("config.json"), path.join(tmp, "config.json"), false);
    let got: string | undefined;
    for (const file of MODEL_FILE_CANDIDATES) {
      if (await fetchTo(url(file), path.join(tmp, file), false)) {
        got = file;
        break;
      }
    }
    if (!got) throw new Error(`${id} has no ${MODEL_FILE_CANDIDATES.join(" or ")} on the Hub (is it a transformers.js / ONNX repo?)`);
    await replaceDirAtomic(tmp, dest);
    logger.info("model downloaded", { model: id, dir: dest, onnx: got });
    return dest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`downloading ${id} failed: ${(err as Error).message}`);
  }
}

/** Fetches `url` to `file`. Returns false on 404 when not `required`. */
async function fetchTo(url: string, file: string, required: boolean): Promise<boolean> {
  const res = await fetch(url, { redirect: "follow" });
  if (res.status === 404 && !required) {
    await res.body?.cancel();
    return false;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  await makeDir(path.dirname(file));
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
  return true;
}

/** Resolves, downloads if allowed, and opens the configured model. */
export async function loadEmbedder(opts: LoadEmbedderOptions): Promise<Embedder> {
  const root = path.resolve(opts.modelsDir ?? defaultModelsDir());
  if (!isBuiltinModel(opts.model)) {
    // Tokenizers are only ever read from directories we resolved; keep transformers.js off the network.
    const env = await transformersEnv();
    env.allowRemoteModels = false;
    env.localModelPath = root + path.sep;
  }
  const { dir, id } = await resolveModelDir(opts);
  // The spec comes from the table (by id, else by directory name) or the unknown-model defaults.
  // Imported here, not above: modelIdentity's callers need no onnxruntime.
  const { OnnxEmbedder } = await import("./onnx-embedder.js");
  return OnnxEmbedder.load(dir, {
    ...(id !== undefined ? { modelId: id } : {}),
    device: opts.device ?? "auto",
    ...(opts.precision !== undefined ? { precision: opts.precision } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.exactTokenCounts !== undefined ? { exactTokenCounts: opts.exactTokenCounts } : {}),
  });
}

/**
 * The configured model's id, weights checksum and input limit, as `loadEmbedder` would report them,
 * read from its files without starting an inference session or loading its tokenizer: for a thread
 * that checks an index against the model but leaves embedding to others (a bot's main thread).
 */
export async function modelIdentity(opts: LoadEmbedderOptions): Promise<{ modelId: string; checksum: string; maxTokens: number }> {
  const { dir, id } = await resolveModelDir(opts);
  const spec = await resolveModelSpec(dir, id);
  return { modelId: spec.id, checksum: await sha256OfFile(findModelFile(dir)), maxTokens: spec.maxTokens };
}
