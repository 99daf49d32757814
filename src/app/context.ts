/**
 * What every `paperhound` subcommand gets: the validated configuration and a logger, both made on
 * first use (so `--help` never fails on a bad setting), and the process streams.
 */
import type { Command } from "commander";
import { loadConfig, type Config } from "../config.js";
import { createLogger, type Logger } from "../log.js";

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** The validated configuration; throws `ConfigError` listing every bad setting. */
  config(): Config;
  /** The logger configured by LOG_LEVEL / LOG_FORMAT (needs a valid configuration). */
  logger(): Logger;
}

/** One subcommand: adds itself to the program. Each lives in its own file under src/cli/. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** Bad input given to a command (empty text, missing file): reported in one line, exit code 1. */
export class CliInputError extends Error {
  override readonly name = "CliInputError";
}

export function createContext(
  io: Partial<Pick<CliContext, "env" | "stdin" | "stdout" | "stderr">> = {},
): CliContext {
  const env = io.env ?? process.env;
  const stderr = io.stderr ?? process.stderr;
  let config: Config | undefined;
  let logger: Logger | undefined;
  const ctx: CliContext = {
    env,
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr,
    config: () => (config ??= loadConfig(env, { stderrIsTTY: stderr.isTTY === true })),
    logger: () => {
      const { logLevel, logFormat } = ctx.config();
      return (logger ??= createLogger({ level: logLevel, format: logFormat, stream: stderr }));
    },
  };
  return ctx;
}
