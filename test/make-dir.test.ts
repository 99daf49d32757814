/** makeDir / makeDirSync: mkdir -p that answers where Node's recursive mkdir spins for ever (/proc/self/x). */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeDir, makeDirSync } from "../src/make-dir.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-makedir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("makeDir", () => {
  it("makes every missing level, and is a no-op on an existing directory", async () => {
    makeDirSync(path.join(dir, "a", "b", "c"));
    await makeDir(path.join(dir, "x", "y"));
    makeDirSync(path.join(dir, "a", "b", "c"));
    expect(existsSync(path.join(dir, "a", "b", "c"))).toBe(true);
    expect(existsSync(path.join(dir, "x", "y"))).toBe(true);
  });

  it("a file in the way is ENOTDIR", async () => {
    writeFileSync(path.join(dir, "file"), "");
    expect(() => makeDirSync(path.join(dir, "file", "sub"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
    await expect(makeDir(path.join(dir, "file", "sub"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it.runIf(process.platform === "linux")("under /proc/self it fails at once (Node's recursive mkdir never returns there)", async () => {
    expect(() => makeDirSync("/proc/self/paperhound-test")).toThrow(expect.objectContaining({ code: "ENOENT", syscall: "mkdir" }));
    await expect(makeDir("/proc/self/paperhound-test/a")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
