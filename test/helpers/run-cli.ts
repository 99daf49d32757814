/**
 * Child paperhound processes for tests: a clean environment (none of our settings leak in from the
 * caller's shell) and a run-to-completion helper that collects stdout, stderr and the exit code.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { SETTINGS } from "../../src/config.js";
import { projectRoot } from "../../src/paths.js";

export const BIN = path.join(projectRoot, "bin", "paperhound.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** This process's environment without any paperhound setting, then `env` on top. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const full: NodeJS.ProcessEnv = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete full[s.env];
  delete full.PAPERHOUND_SAMPLE_IF_EMPTY;
  // Tests never reach the network: a bot's digest does not fetch its sources unless a test says so.
  full.DIGEST_INGEST = "0";
  return Object.assign(full, env);
}

/**
 * Runs `node <nodeArgs...>` (default: bin/paperhound.js with `args`) in the project directory with
 * `cleanEnv(env)`; stdin gets `input`, then end of input.
 */
export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  nodeArgs?: string[];
  /** Told each stream's whole output so far at every chunk (tests that wait for a child to reach a point). */
  onOutput?: (stream: "stdout" | "stderr", soFar: string) => void;
}

export function runNode(args: string[], opts: RunOptions = {}): Promise<Run> {
  return runNodeWithSignal(args, opts).then(({ code, stdout, stderr }) => ({ code, stdout, stderr }));
}

/** runNode, also saying which signal ended the child (`code` is null then), e.g. "SIGKILL". */
export function runNodeWithSignal(args: string[], opts: RunOptions = {}): Promise<Run & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? [BIN]), ...args], { env: cleanEnv(opts.env), cwd: projectRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      opts.onOutput?.("stdout", stdout);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      opts.onOutput?.("stderr", stderr);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on("error", () => undefined); // a child that exits without reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * A promise resolved when a child's output (stream) matches `pattern`, and the `onOutput` to give
 * runNode: for tests that must wait until another process really holds a lock or waits for one,
 * however slow the machine (a fixed sleep is a race under load).
 */
export function outputMatch(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs = 60_000): { onOutput: NonNullable<RunOptions["onOutput"]>; seen: Promise<void> } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const seen = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`no ${String(pattern)} on the child's ${stream} within ${timeoutMs} ms`)), timeoutMs);
  return {
    seen,
    onOutput: (s, soFar) => {
      if (s === stream && pattern.test(soFar)) {
        clearTimeout(timer);
        resolve();
      }
    },
  };
}
