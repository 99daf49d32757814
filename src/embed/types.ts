/**
 * The embedding engine's public contract. Everything above src/embed/ (search, indexing, the CLI)
 * talks to an `Embedder` and nothing else, so models can change without touching callers.
 */

/** Queries and passages may be embedded differently (e.g. bge's query instruction). */
export type EmbedKind = "query" | "passage";

/** Where inference runs. `auto` tries CUDA and falls back to CPU, saying so in the log. */
export type DeviceSetting = "auto" | "cpu" | "cuda";

/** The device that actually runs, once a session is open. */
export type Device = "cpu" | "cuda";

/** How token vectors become one text vector; `none` means the ONNX graph already pools. */
export type Pooling = "mean" | "cls" | "none";

export interface Embedder {
  /** Short stable id of the model, recorded in every index it builds (e.g. "use-lite"). */
  readonly modelId: string;
  /** Output dimension. */
  readonly dim: number;
  /** sha256 of the model's weights file: an index built with other weights must not be searched with these. */
  readonly checksum: string;
  /** Longest input in tokens; longer texts are truncated and reported (see `embedDetailed`). */
  readonly maxTokens: number;
  /** Device that actually runs inference. */
  readonly device: Device;
  /** Texts per inference batch; callers should still pass many texts per call (they are sorted by length). */
  readonly batchSize: number;
  /** Embeds texts; each vector is L2-normalised and has `dim` finite numbers. */
  embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]>;
  /** Like `embed`, and also says per text how many tokens it had and whether it was cut. */
  embedDetailed(texts: readonly string[], kind: EmbedKind): Promise<EmbedResult[]>;
  /** Token count of a text as the model sees it (before truncation). */
  countTokens(text: string): number;
  /** Releases the inference session. */
  dispose(): Promise<void>;
}

export interface EmbedResult {
  vector: Float32Array;
  /**
   * Tokens the text produced before truncation. For a long text this counts the tokens of the part
   * that was tokenised (a generous prefix cut at a word boundary), so it is a lower bound when
   * `truncated` is true; the runner's `exactTokenCounts` option counts the whole text instead.
   */
  tokens: number;
  /** True when the text had more than `maxTokens` tokens and only the first ones were embedded. */
  truncated: boolean;
}

/** Per-model facts that the runner needs beyond what config.json says. */
export interface ModelSpec {
  /** Hugging Face id or a name of ours ("use-lite"). */
  id: string;
  pooling: Pooling;
  /** L2-normalise the pooled vector (skipped when the graph already did it). */
  normalize: boolean;
  /** Prepended to queries / passages before tokenising. */
  queryPrefix: string;
  passagePrefix: string;
  /** Token limit to apply; includes special tokens the tokenizer adds. */
  maxTokens: number;
  /** Name of the graph output to read. */
  output: string;
  /**
   * Which tokenizer reads the directory's tokenizer.json: transformers.js (default), or our exact
   * re-implementation of the Universal Sentence Encoder's own segmentation (see use-tokenizer.ts).
   */
  tokenizer?: "transformers.js" | "use-lite-exact";
}
