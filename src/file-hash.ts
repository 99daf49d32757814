/** sha256 (hex) of a file's bytes, streamed: for checking files against a recorded hash. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
