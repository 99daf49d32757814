/**
 * Which of a model's ONNX files runs: float32 (`onnx/model.onnx`), or the int8 version built beside
 * it for the built-in models (`onnx/model_int8.onnx`: dense layers with int8 weights, about twice as
 * fast on CPU at cosine ≥ 0.99 to float32). "auto" takes int8 on CPU when the model has it, float32
 * on CUDA (onnxruntime's int8 matrix multiplication runs on the CPU only).
 *
 * int8 activations are quantized per batch, so a text's int8 vector depends a little on the texts
 * batched with it (cosine ≥ 0.997 to the same text alone, measured); float32 is batch-independent.
 *
 * An index's model fingerprint is the float32 file's hash whichever runs, so an index built at one
 * precision is searched at the other without a reindex: the vectors differ by less than the
 * measured cosine 0.99 (docs/benchmarks.md).
 */
export const PRECISION_SETTINGS = ["auto", "float32", "int8"] as const;
export type PrecisionSetting = (typeof PRECISION_SETTINGS)[number];
export type Precision = Exclude<PrecisionSetting, "auto">;

export const INT8_MODEL_FILE = "onnx/model_int8.onnx";
