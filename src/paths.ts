/** Where paperhound keeps files on disk, resolved from the project root, not the working directory. */
import { fileURLToPath } from "node:url";
import path from "node:path";

/** The checkout (or installed package) root: the folder holding package.json. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Generated model directories (git-ignored). `PAPERHOUND_MODELS_DIR` overrides. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PAPERHOUND_MODELS_DIR ? path.resolve(env.PAPERHOUND_MODELS_DIR) : path.join(projectRoot, "models");
}

/** Where a built-in model ("paperhound-sci-1", "use-lite") is built, in transformers.js directory layout. */
export function builtinModelDir(id: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(modelsDir(env), id);
}
