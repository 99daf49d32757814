/**
 * What every entry point (a `paperhound` subcommand, the bot) gets: the validated configuration and
 * a logger, both made on first use (so `--help` never fails on a bad setting), and the process
 * streams.
 */
import { loadConfig, type Config } from "../config.js";
import { createLogger, type Logger } from "../log.js";
import { PaperhoundError } from "../errors.js";

export interface AppContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** The validated configuration; throws `ConfigError` listing every bad setting. */
  config(): Config;
  /** The logger configured by LOG_LEVEL / LOG_FORMAT (needs a valid configuration). */
  logger(): Logger;
}

/** Bad input given to a command (empty text, missing file, empty index): reported in one line, exit code 1. */
export class InputError extends PaperhoundError {
  readonly identifier = "input";
  override readonly name = "InputError";
}

export function createContext(
  io: Partial<Pick<AppContext, "env" | "stdin" | "stdout" | "stderr">> = {},
): AppContext {
  const env = io.env ?? process.env;
  const stderr = io.stderr ?? process.stderr;
  let config: Config | undefined;
  let logger: Logger | undefined;
  const ctx: AppContext = {
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
