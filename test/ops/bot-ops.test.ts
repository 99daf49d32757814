import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.js";
import { BIN, cleanEnv } from "../helpers/run-cli.js";

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls `url` until it answers; fails at once, with the child's stderr, if the child has exited. */
async function waitFor(url: string, ms: number, exited: () => string | undefined): Promise<Response> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      const gone = exited();
      if (gone !== undefined) throw new Error(`the bot exited before serving ${url}: ${gone}`);
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe("paperhound bot with HEALTH_PORT", () => {
  it("serves /healthz, /readyz and /metrics while it runs, and closes the port when it exits", { timeout: 240_000 }, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-ops-"));
    const port = await freePort();
    const env = cleanEnv({ HEALTH_PORT: String(port), PAPERHOUND_INDEX: path.join(tmp, "idx"), PAPERHOUND_SAMPLE_IF_EMPTY: "1", LOG_LEVEL: "debug", LOG_QUERIES: "1" });
    const child = spawn(process.execPath, [BIN, "bot"], { env, cwd: projectRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let exit: string | undefined;
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.on("exit", (code, signal) => (exit = `exit ${code ?? signal}; stderr: ${stderr}`));
    try {
      // Start-up indexes the sample corpus first: slow when the whole suite shares 2 cores.
      const health = await waitFor(`http://127.0.0.1:${port}/healthz`, 180_000, () => exit);
      expect(health.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/^paperhound_index_papers 37$/m);
      expect(metrics).toMatch(/^paperhound_embedder_info\{device="cpu",model="paperhound-sci-1"\} 1$/m);
      // Commands handled are counted by platform, command and outcome, with their latency.
      child.stdin.write("/paper equivariant networks\n/related 9999.99999\n/paper \n");
      const deadline = Date.now() + 60_000;
      let counted = "";
      while (Date.now() < deadline && !/command="paper",outcome="user_error"\} 1$/m.test(counted)) {
        counted = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(counted).toMatch(/^paperhound_commands_total\{platform="console",command="paper",outcome="ok"\} 1$/m);
      expect(counted).toMatch(/^paperhound_commands_total\{platform="console",command="related",outcome="user_error"\} 1$/m);
      expect(counted).toMatch(/^paperhound_commands_total\{platform="console",command="paper",outcome="user_error"\} 1$/m);
      expect(counted).toMatch(/^paperhound_command_seconds_count\{platform="console",command="paper"\} 2$/m);
      // One log line per command (debug level for the console), with what was asked because LOG_QUERIES is set.
      const handled = stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.msg === "command handled");
      expect(handled).toContainEqual(
        expect.objectContaining({ platform: "console", command: "paper", outcome: "ok", hits: expect.any(Number), options: expect.objectContaining({ query: "equivariant networks" }) }),
      );
    } finally {
      child.stdin.end(); // the console adapter exits at the end of its input
    }
    const code = child.exitCode ?? (await new Promise<number | null>((r) => child.on("exit", (c) => r(c))));
    expect(code, stderr).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    rmSync(tmp, { recursive: true, force: true });
  });
});
