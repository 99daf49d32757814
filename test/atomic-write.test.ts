/** The one way files and directories are replaced (src/atomic-write.ts). */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replaceDirAtomic, writeFileAtomic } from "../src/atomic-write.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-atomic-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  it("creates the directory, replaces the file, and leaves no temp file beside it", async () => {
    const file = path.join(tmp, "a", "state.json");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    expect(readdirSync(path.dirname(file))).toEqual(["state.json"]);
  });

  it("a failed rename keeps the old file and removes the temp", async () => {
    const dir = path.join(tmp, "b");
    mkdirSync(path.join(dir, "taken"), { recursive: true });
    writeFileSync(path.join(dir, "taken", "x"), "inside");
    // Renaming a file over a non-empty directory fails.
    await expect(writeFileAtomic(path.join(dir, "taken"), "new")).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
    expect(readFileSync(path.join(dir, "taken", "x"), "utf8")).toBe("inside");
  });
});

describe("replaceDirAtomic", () => {
  it("moves a finished directory into place, replacing an old one, with nothing left aside", async () => {
    const to = path.join(tmp, "model");
    mkdirSync(to);
    writeFileSync(path.join(to, "old.txt"), "old");
    const from = path.join(tmp, ".model.tmp");
    mkdirSync(path.join(from, "onnx"), { recursive: true });
    writeFileSync(path.join(from, "onnx", "model.onnx"), "new");
    await replaceDirAtomic(from, to);
    expect(readdirSync(to)).toEqual(["onnx"]);
    expect(readFileSync(path.join(to, "onnx", "model.onnx"), "utf8")).toBe("new");
    expect(readdirSync(tmp).filter((n) => n.startsWith("model.old") || n === ".model.tmp")).toEqual([]);
  });

  it("into a new place too", async () => {
    const from = path.join(tmp, ".fresh.tmp");
    mkdirSync(from);
    writeFileSync(path.join(from, "f"), "x");
    await replaceDirAtomic(from, path.join(tmp, "fresh"));
    expect(readFileSync(path.join(tmp, "fresh", "f"), "utf8")).toBe("x");
  });
});
