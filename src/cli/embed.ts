/** `paperhound embed`: embeds texts with the configured model and prints the vectors. */
import { createInterface } from "node:readline";
import { Option } from "commander";
import { DEVICE_SETTINGS, embedderSettings } from "../config.js";

/** Texts handed to the embedder per call; it sorts them by length and batches them itself. */
const TEXTS_PER_CALL = 256;
import type { DeviceSetting, EmbedKind, EmbedResult, Embedder } from "../embed/types.js";
import { InputError, type AppContext } from "../app/context.js";
import { type RegisterCommand } from "./context.js";

interface EmbedOptions {
  json?: boolean;
  kind: EmbedKind;
  model?: string;
  device?: DeviceSetting;
}

export const registerEmbed: RegisterCommand = (program, ctx) => {
  program
    .command("embed")
    .description('embed texts and print their vectors ("-" reads texts from stdin, one per line)')
    .argument("<text...>", 'texts to embed, or "-" for stdin')
    .option("--json", "print one JSON object per text")
    .addOption(new Option("--kind <kind>", "embed as a search query or a passage").choices(["query", "passage"]).default("query"))
    .option("--model <model>", "model: paperhound-sci-1 or use-lite (built in), a local directory or a Hugging Face id (default: $EMBED_MODEL)")
    .addOption(new Option("--device <device>", "device (default: $EMBED_DEVICE)").choices(DEVICE_SETTINGS))
    .action(async (args: string[], opts: EmbedOptions) => {
      const config = ctx.config();
      const texts = await collectTexts(args, ctx.stdin);
      const logger = ctx.logger();
      // Loaded here, not at start-up: the model runner pulls in onnxruntime and transformers.js.
      const { loadEmbedder } = await import("../embed/load.js");
      const embedder = await loadEmbedder({
        ...embedderSettings(config),
        ...(opts.model !== undefined ? { model: opts.model } : {}),
        ...(opts.device !== undefined ? { device: opts.device } : {}),
        logger,
      });
      try {
        // Chunks of many texts: the embedder sorts each chunk by length and batches it itself.
        for (let i = 0; i < texts.length; i += TEXTS_PER_CALL) {
          const batch = texts.slice(i, i + TEXTS_PER_CALL);
          const results = await embedder.embedDetailed(batch, opts.kind);
          results.forEach((r, j) => printResult(ctx, embedder, r, i + j, texts.length, opts.json === true));
        }
      } finally {
        await embedder.dispose();
      }
    });
};

/** The texts to embed: the arguments, with "-" replaced by the non-blank lines of stdin. */
async function collectTexts(args: readonly string[], stdin: NodeJS.ReadableStream): Promise<string[]> {
  if (args.filter((a) => a === "-").length > 1) throw new InputError('"-" (read stdin) may be given only once');
  const texts: string[] = [];
  for (const [i, arg] of args.entries()) {
    if (arg === "-") {
      for await (const line of createInterface({ input: stdin, crlfDelay: Infinity })) {
        if (line.trim() !== "") texts.push(line);
      }
    } else if (arg.trim() === "") {
      throw new InputError(`text ${i + 1} is empty; give some words to embed`);
    } else {
      texts.push(arg);
    }
  }
  if (texts.length === 0) throw new InputError("no text to embed: stdin had no non-blank lines");
  return texts;
}

function printResult(ctx: AppContext, embedder: Embedder, r: EmbedResult, index: number, count: number, json: boolean): void {
  if (json) {
    const record = {
      model: embedder.modelId,
      dim: embedder.dim,
      device: embedder.device,
      tokens: r.tokens,
      truncated: r.truncated,
      vector: Array.from(r.vector),
    };
    ctx.stdout.write(`${JSON.stringify(record)}\n`);
    return;
  }
  let sumSq = 0;
  for (const v of r.vector) sumSq += v * v;
  const first = Array.from(r.vector.subarray(0, 8), (v) => v.toFixed(4)).join(", ");
  const lines = [
    ...(index === 0 ? [`model ${embedder.modelId}, dim ${embedder.dim}, device ${embedder.device}`] : []),
    `${count > 1 ? `text ${index + 1}: ` : ""}${r.tokens} tokens${r.truncated ? ` (truncated to ${embedder.maxTokens})` : ""}, norm ${Math.sqrt(sumSq).toFixed(4)}`,
    `  first 8: [${first}${embedder.dim > 8 ? ", ..." : ""}]`,
  ];
  ctx.stdout.write(`${lines.join("\n")}\n`);
}
