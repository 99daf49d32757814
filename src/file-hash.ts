/** sha256 (hex) of a file's bytes, read through one reused buffer: for checking files against a recorded hash. */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

/**
 * One 1 MiB buffer for the whole file: a read stream's fresh 64 KiB chunk per read left the bytes of
 * a whole model file (28 MB) as garbage, and the process's RSS that much higher after collection.
 */
const CHUNK = 1 << 20;

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}
