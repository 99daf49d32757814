/**
 * Reads a file a chat platform holds (a Discord attachment, a Slack file) into memory, for an
 * import: refused once more than `maxBytes` arrive whatever size was declared, never written to
 * disk, and only from http(s) URLs. Its errors are plain: the import command shows their message.
 */
export async function downloadLimited(url: string, maxBytes: number, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("the platform gave no usable address for the file");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error(`the file's address is not http(s) (${parsed.protocol})`);
  const res = await fetch(parsed, { ...(opts.headers ? { headers: opts.headers } : {}), signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) }).catch((err: unknown) => {
    throw new Error(`the file could not be downloaded (${(err as Error).message})`);
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`the file could not be downloaded (HTTP ${res.status})`);
  }
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`the file has ${declared} bytes, more than the ${maxBytes} an import reads`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += (chunk as Uint8Array).byteLength;
    if (total > maxBytes) throw new Error(`the file is larger than the ${maxBytes} bytes an import reads (it said it was smaller)`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
