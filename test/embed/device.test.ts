import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import os from "node:os";
import path from "node:path";
import { createSession, cudaProviderMissingReason, DeviceError, stderrJsonLogger } from "../../src/embed/device.js";
import { recordingLogger, tempDir, writeTinyModel } from "./tiny-model.js";

// This machine has no GPU and onnxruntime-node's CUDA libraries are not installed (.npmrc skips them).
const noCuda = cudaProviderMissingReason() !== undefined;

describe("createSession", () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let modelFile: string;

  beforeAll(async () => {
    tmp = await tempDir();
    const dir = await writeTinyModel(path.join(tmp.dir, "tiny"));
    modelFile = path.join(dir, "onnx", "model.onnx");
  });
  afterAll(async () => tmp?.cleanup());

  it.runIf(noCuda)("auto falls back to CPU and logs why", async () => {
    const logger = recordingLogger();
    const { session, device } = await createSession(modelFile, { device: "auto", logger });
    try {
      expect(device).toBe("cpu");
      expect(session.inputNames).toEqual(["input_ids", "attention_mask"]);
      const fallback = logger.events.find((e) => /falling back/.test(e.msg));
      expect(fallback?.msg).toMatch(/CUDA unavailable, falling back to CPU/);
      // The expected path on a machine without a GPU: a debug line, not news on every command (issue 18).
      expect(fallback?.level).toBe("debug");
      expect(fallback?.fields.reason).toMatch(/CUDA provider library .* not installed/);
      expect(fallback?.fields.requested).toBe("auto");
      const ready = logger.events.find((e) => e.msg === "inference session ready");
      expect(ready).toMatchObject({ msg: "inference session ready", fields: { device: "cpu", threads: os.availableParallelism() } });
    } finally {
      await session.release();
    }
  });

  it.runIf(noCuda)("cuda that cannot start throws a DeviceError that says why and how to install it", async () => {
    const logger = recordingLogger();
    const err = await createSession(modelFile, { device: "cuda", logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/CUDA is unavailable/);
    expect(msg).toMatch(/libonnxruntime_providers_cuda/);
    expect(msg).toContain("npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12");
    expect(msg).toMatch(/EMBED_DEVICE=cpu/);
    expect(logger.events.some((e) => e.msg === "inference session ready")).toBe(false);
  });

  it("cpu opens a CPU session without trying CUDA, with the requested threads", async () => {
    const logger = recordingLogger();
    const { session, device } = await createSession(modelFile, { device: "cpu", threads: 1, logger });
    try {
      expect(device).toBe("cpu");
      expect(logger.events).toHaveLength(1);
      expect(logger.events[0]).toMatchObject({ level: "info", fields: { device: "cpu", requested: "cpu", threads: 1 } });
    } finally {
      await session.release();
    }
  });

  it("rejects bad threads, unknown devices and missing files", async () => {
    const logger = recordingLogger();
    await expect(createSession(modelFile, { device: "cpu", threads: 0, logger })).rejects.toThrow(RangeError);
    await expect(createSession(modelFile, { device: "cpu", threads: 1.5, logger })).rejects.toThrow(/threads/);
    await expect(createSession(modelFile, { device: "gpu" as never, logger })).rejects.toThrow(/unknown device "gpu"/);
    await expect(createSession(path.join(tmp.dir, "missing.onnx"), { device: "cpu", logger })).rejects.toThrow(/model file not found/);
  });

  it("the default logger writes one JSON line per event to stderr", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      stderrJsonLogger.warn("CUDA unavailable", { reason: "no GPU" });
      stderrJsonLogger.info("ready");
      expect(write).toHaveBeenCalledTimes(2);
      const lines = write.mock.calls.map((c) => String(c[0]));
      expect(lines.every((l) => l.endsWith("\n") && l.indexOf("\n") === l.length - 1)).toBe(true);
      expect(JSON.parse(lines[0]!)).toEqual({ time: expect.any(String), level: "warn", msg: "CUDA unavailable", reason: "no GPU" });
      expect(JSON.parse(lines[1]!)).toEqual({ time: expect.any(String), level: "info", msg: "ready" });
    } finally {
      write.mockRestore();
    }
  });
});
