/**
 * Per-model facts the runner needs beyond what a transformers.js model directory says: how to pool,
 * whether to normalise, instruction prefixes, the token limit and which graph output to read.
 * Models not listed here get mean pooling + L2 normalisation, the usual sentence-transformers recipe.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ModelSpec, Pooling } from "./types.js";

/** Hard ceiling on the token limit of models we do not know (BERT-style position tables end at 512). */
export const UNKNOWN_MODEL_MAX_TOKENS = 512;

/**
 * The built-in models' graph (src/embed/builtin-models.ts): it pools, projects and L2-normalises
 * itself. transformers.js breaks equal-score tokenizer ties the other way ("IEEE"); the weights
 * expect the original tokenizer.
 */
const USE_LITE_GRAPH = {
  pooling: "none",
  normalize: false,
  queryPrefix: "",
  passagePrefix: "",
  maxTokens: 128,
  output: "sentence_embedding",
  tokenizer: "use-lite-exact",
} as const satisfies Omit<ModelSpec, "id">;

export const MODEL_TABLE: readonly ModelSpec[] = Object.freeze([
  // Our default: use-lite's network fine-tuned on arXiv (training/).
  { id: "paperhound-sci-1", ...USE_LITE_GRAPH },
  { id: "use-lite", ...USE_LITE_GRAPH },
  {
    id: "Xenova/all-MiniLM-L6-v2",
    pooling: "mean",
    normalize: true,
    queryPrefix: "",
    passagePrefix: "",
    maxTokens: 256,
    output: "last_hidden_state",
  },
  {
    id: "Xenova/bge-small-en-v1.5",
    pooling: "cls",
    normalize: true,
    queryPrefix: "Represent this sentence for searching relevant passages: ",
    passagePrefix: "",
    maxTokens: 512,
    output: "last_hidden_state",
  },
] satisfies ModelSpec[]);

/**
 * Finds a known model by Hugging Face id (`Xenova/all-MiniLM-L6-v2`), by a directory path that ends
 * in `<org>/<name>` or `<name>`, or by the bare name (`all-MiniLM-L6-v2`). Case-insensitive.
 * Returns a copy, so callers may adjust it.
 */
export function lookupModelSpec(idOrDir: string): ModelSpec | undefined {
  const norm = idOrDir.replace(/\\/g, "/").replace(/\/+$/, "");
  const parts = norm.split("/").filter((p) => p.length > 0);
  const candidates = [norm, parts.slice(-2).join("/"), parts[parts.length - 1] ?? ""]
    .filter((c) => c.length > 0)
    .map((c) => c.toLowerCase());
  for (const cand of candidates) {
    const hit = MODEL_TABLE.find((m) => m.id.toLowerCase() === cand || baseName(m.id).toLowerCase() === cand);
    if (hit) return { ...hit };
  }
  return undefined;
}

/**
 * The spec for a model directory: the table entry if the model is known (by `id`, else by the
 * directory's name), otherwise defaults for an unknown model: mean pooling, L2 normalisation, no
 * prefixes, output `last_hidden_state`, and `model_max_length` from tokenizer_config.json capped at
 * 512. A `paperhound` object in config.json (`{ pooling, normalize, output, maxTokens, queryPrefix,
 * passagePrefix }`) overrides those defaults for unknown models.
 */
export async function resolveModelSpec(modelDir: string, id?: string): Promise<ModelSpec> {
  const known = (id !== undefined ? lookupModelSpec(id) : undefined) ?? lookupModelSpec(modelDir);
  if (known) return known;

  const tokenizerConfig = await readJson(path.join(modelDir, "tokenizer_config.json"));
  const config = await readJson(path.join(modelDir, "config.json"));
  const spec: ModelSpec = {
    id: id ?? path.basename(path.resolve(modelDir)),
    pooling: "mean",
    normalize: true,
    queryPrefix: "",
    passagePrefix: "",
    maxTokens: maxTokensFromConfig(tokenizerConfig?.model_max_length),
    output: "last_hidden_state",
  };
  const ours = config?.paperhound;
  if (ours && typeof ours === "object") applyOverrides(spec, ours as Record<string, unknown>);
  return spec;
}

/** `model_max_length` capped at 512; absent or silly values (transformers uses 1e30 for "none") → 512. */
export function maxTokensFromConfig(modelMaxLength: unknown): number {
  if (typeof modelMaxLength !== "number" || !Number.isFinite(modelMaxLength) || modelMaxLength < 1) {
    return UNKNOWN_MODEL_MAX_TOKENS;
  }
  return Math.min(Math.floor(modelMaxLength), UNKNOWN_MODEL_MAX_TOKENS);
}

function applyOverrides(spec: ModelSpec, o: Record<string, unknown>): void {
  const poolings: Pooling[] = ["mean", "cls", "none"];
  if (typeof o.pooling === "string" && (poolings as string[]).includes(o.pooling)) spec.pooling = o.pooling as Pooling;
  if (typeof o.normalize === "boolean") spec.normalize = o.normalize;
  if (typeof o.output === "string" && o.output.length > 0) spec.output = o.output;
  if (typeof o.queryPrefix === "string") spec.queryPrefix = o.queryPrefix;
  if (typeof o.passagePrefix === "string") spec.passagePrefix = o.passagePrefix;
  if (typeof o.maxTokens === "number" && Number.isInteger(o.maxTokens) && o.maxTokens > 0) spec.maxTokens = o.maxTokens;
}

function baseName(id: string): string {
  const i = id.lastIndexOf("/");
  return i < 0 ? id : id.slice(i + 1);
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}
