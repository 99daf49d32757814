import os from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Model builds and ONNX sessions are slow on small machines (CI has 2 cores).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Native addons (onnxruntime) are safer in child processes than in worker threads.
    pool: "forks",
    // One test file per core, not vitest's cores − 1: many tests wait on the paperhound processes
    // they start, so a core would often sit idle (2 cores: 677 s → 562 s for the whole suite).
    maxWorkers: os.availableParallelism(),
    // A developer's .env must not leak into the CLI processes tests start (they inherit this).
    env: { PAPERHOUND_ENV_FILE: "" },
  },
});
