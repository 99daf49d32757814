/** Public surface of the embedding engine. Callers outside src/embed/ import from here. */
export type { Device, DeviceSetting, EmbedKind, EmbedResult, Embedder, ModelSpec, Pooling } from "./types.js";
export { loadEmbedder, modelIdentity, resolveModelDir, downloadHubModel, isHubId, missingModelFiles, ModelNotFoundError, DEFAULT_MODEL, MODEL_FILES } from "./load.js";
export type { LoadEmbedderOptions } from "./load.js";
export {
  OnnxEmbedder,
  EmbedInputError,
  EmbedOutputError,
  cleanText,
  findModelFile,
  DEFAULT_BATCH_SIZE,
  MAX_BATCH_SIZE,
  CHARS_PER_TOKEN_BUDGET,
  FAST_CHARS_PER_TOKEN,
  cutText,
} from "./onnx-embedder.js";
export type { OnnxEmbedderOptions } from "./onnx-embedder.js";
export { createSession, cudaProviderMissingReason, stderrJsonLogger, DeviceError, CUDA_INSTALL_HINT } from "./device.js";
export type { Logger, CreateSessionOptions, OpenSession } from "./device.js";
export { MODEL_TABLE, lookupModelSpec, resolveModelSpec, maxTokensFromConfig, UNKNOWN_MODEL_MAX_TOKENS } from "./model-table.js";
export { splitPassages, splitSentences } from "./passages.js";
export type { SplitOptions } from "./passages.js";
