/**
 * Opens an onnxruntime-node inference session on the requested device.
 *
 * `auto` tries the CUDA execution provider and falls back to CPU, logging which one runs and why;
 * `cuda` insists and throws a `DeviceError` that says what is missing; `cpu` never touches CUDA.
 * onnxruntime-node ships CPU binaries only; its CUDA provider libraries are a separate download
 * (`npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`, which our .npmrc skips by default).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import type { Device, DeviceSetting } from "./types.js";
import { createLogger, type Logger as AppLogger } from "../log.js";
import { PaperhoundError } from "../errors.js";

/** The part of the application logger the engine uses; any object with these two methods will do. */
export type Logger = Pick<AppLogger, "info" | "warn"> & Partial<Pick<AppLogger, "debug">>;

/** Default logger when the caller passes none: one JSON line per event on stderr. */
export const stderrJsonLogger: Logger = createLogger({ level: "info", format: "json" });

/** How to install the CUDA provider libraries of onnxruntime-node (see its script/install.js). */
export const CUDA_INSTALL_HINT =
  "install onnxruntime-node's CUDA 12 provider libraries with `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` " +
  "(or ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node), and make sure the CUDA 12 runtime and cuDNN 9 libraries and an NVIDIA driver are present";

/** Raised when `device: "cuda"` was requested and CUDA cannot run. */
export class DeviceError extends PaperhoundError {
  readonly identifier = "device";
  constructor(message: string) {
    super(message);
    this.name = "DeviceError";
  }
}

export interface CreateSessionOptions {
  device: DeviceSetting;
  /** A file to run instead of `modelPath` when the session runs on the CPU (a model's int8 version). */
  cpuModelPath?: string;
  /** intra-op threads; defaults to os.availableParallelism(). */
  threads?: number;
  logger?: Logger;
}

export interface OpenSession {
  session: ort.InferenceSession;
  device: Device;
  /** The file the session runs. */
  modelPath: string;
}

/** Where onnxruntime-node keeps its native libraries for this platform. */
export function ortBinDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve("onnxruntime-node"); // .../onnxruntime-node/dist/index.js
  return path.join(path.dirname(main), "..", "bin", "napi-v6", process.platform, process.arch);
}

/**
 * Cheap pre-check before asking onnxruntime for CUDA: the provider libraries must be on disk.
 * Returns undefined when they are, else the reason they are not.
 */
export function cudaProviderMissingReason(): string | undefined {
  if (process.platform !== "linux" && process.platform !== "win32") {
    return `onnxruntime-node has no CUDA provider for ${process.platform}`;
  }
  if (process.arch !== "x64") return `onnxruntime-node has no CUDA provider for ${process.platform}/${process.arch}`;
  let dir: string;
  try {
    dir = ortBinDir();
  } catch (err) {
    return `cannot locate onnxruntime-node: ${(err as Error).message}`;
  }
  const lib = process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
  if (!existsSync(path.join(dir, lib))) return `onnxruntime-node's CUDA provider library (${lib}) is not installed in ${dir}`;
  return undefined;
}

function sessionOptions(threads: number, providers: string[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // Only errors from the runtime itself; we log device decisions ourselves.
    logSeverityLevel: 3,
  };
}

/** Opens `modelPath` (an .onnx file) on the requested device. */
export async function createSession(modelPath: string, opts: CreateSessionOptions): Promise<OpenSession> {
  const logger = opts.logger ?? stderrJsonLogger;
  const threads = opts.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be a positive integer, got ${String(opts.threads)}`);
  }
  const setting = opts.device;
  if (setting !== "auto" && setting !== "cpu" && setting !== "cuda") {
    throw new DeviceError(`unknown device "${String(setting)}": use auto, cpu or cuda`);
  }
  if (!existsSync(modelPath)) throw new Error(`model file not found: ${modelPath}`);

  if (setting === "cuda" || setting === "auto") {
    let reason = cudaProviderMissingReason();
    if (reason === undefined) {
      try {
        const session = await ort.InferenceSession.create(modelPath, sessionOptions(threads, ["cuda"]));
        logger.info("inference session ready", { device: "cuda", requested: setting, model: modelPath });
        return { session, device: "cuda", modelPath };
      } catch (err) {
        reason = `onnxruntime could not start the CUDA execution provider: ${(err as Error).message}`;
      }
    }
    if (setting === "cuda") {
      throw new DeviceError(`EMBED_DEVICE=cuda but CUDA is unavailable: ${reason}. To use the GPU, ${CUDA_INSTALL_HINT}; or set EMBED_DEVICE=cpu (or auto).`);
    }
    // On a machine without a GPU this is the expected path: a debug line (every CPU-only command
    // would print it otherwise); "inference session ready" below still says which device runs.
    logger.debug?.("CUDA unavailable, falling back to CPU", { device: "cpu", requested: setting, reason });
  }

  const cpuPath = opts.cpuModelPath ?? modelPath;
  const session = await ort.InferenceSession.create(cpuPath, sessionOptions(threads, ["cpu"]));
  logger.info("inference session ready", { device: "cpu", requested: setting, threads, model: cpuPath });
  return { session, device: "cpu", modelPath: cpuPath };
}
