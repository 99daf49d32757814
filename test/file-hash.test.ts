import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256OfFile } from "../src/file-hash.js";
import { seededRandom } from "../src/random.js";

describe("sha256OfFile", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ph-hash-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hashes every byte, across and at the edges of its 1 MiB reads", async () => {
    const rand = seededRandom(9);
    for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2.5 * (1 << 20)]) {
      const file = path.join(dir, `f${size}`);
      writeFileSync(file, Buffer.from(Array.from({ length: size }, () => Math.floor(rand() * 256))));
      expect(await sha256OfFile(file)).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
    }
  });

  it("rejects a file that is not there", async () => {
    await expect(sha256OfFile(path.join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
