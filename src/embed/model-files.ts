/**
 * Where a model directory keeps its ONNX file. Apart from the inference code, so that what only
 * reads a model's files (its identity: load.ts) does not load onnxruntime.
 */
import { existsSync } from "node:fs";
import path from "node:path";

/** ONNX files we accept, in order of preference, relative to the model directory. */
export const MODEL_FILE_CANDIDATES = ["onnx/model.onnx", "onnx/model_quantized.onnx"] as const;

/** The ONNX file of a model directory, or an error listing what was expected. */
export function findModelFile(modelDir: string): string {
  for (const rel of MODEL_FILE_CANDIDATES) {
    const file = path.join(modelDir, rel);
    if (existsSync(file)) return file;
  }
  throw new Error(`no ONNX model in ${modelDir}: expected ${MODEL_FILE_CANDIDATES.join(" or ")}`);
}
