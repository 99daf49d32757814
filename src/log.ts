/**
 * Structured logging to stderr with pino: one JSON object per line
 * (`{"level","time",...fields,"msg"}`), or a readable line in pretty mode (pino-pretty). Fields whose
 * key looks secret (token, secret, password, key, ...) are redacted wherever they appear, so a token
 * passed by mistake never reaches a log file.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { prettyFactory } from "pino-pretty";
import { REDACTED } from "./config.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "pretty";
export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** True when a line at `level` would be written. */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stderr by default. */
  stream?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Clock, for tests. */
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Whether a line at `level` is written by a logger whose least severe level is `threshold`. */
export function levelEnabled(level: LogLevel, threshold: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/** Key parts that mark a secret; matched against the words of a key (`botToken` → bot, token). */
const SECRET_WORDS = new Set([
  "token",
  "secret",
  "password",
  "passwd",
  "passphrase",
  "key",
  "apikey",
  "credential",
  "credentials",
  "authorization",
  "cookie",
]);

/** True when a field name looks like it holds a secret: `token`, `SLACK_BOT_TOKEN`, `apiKey`, `client-secret`. */
export function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

/** A copy of `value` that is safe to serialise: secrets redacted, errors and bigints made plain. */
function sanitize(value: unknown, withStack: boolean, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth > 8) return "[nested too deep]";
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: LogFields = { name: value.name, message: value.message };
      const code = (value as { code?: unknown }).code;
      if (code !== undefined) out.code = code;
      // The error catalogue's identifier (src/errors.ts), so logs can be grouped without matching text.
      const identifier = (value as { identifier?: unknown }).identifier;
      if (typeof identifier === "string") out.identifier = identifier;
      if (withStack && value.stack) out.stack = value.stack;
      return out;
    }
    if (Array.isArray(value)) return value.map((v) => sanitize(v, withStack, depth + 1, seen));
    if (value instanceof Date) return value;
    if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${value.byteLength} bytes]`;
    const out: LogFields = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) ? REDACTED : sanitize(v, withStack, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** The record's own keys; a field with one of these names is kept as "field.<name>" instead. */
const RECORD_KEYS = new Set(["time", "level", "msg"]);

/** Fields made safe (secrets redacted, errors plain) and kept off the record's own keys. */
function recordFields(fields: LogFields, withStack: boolean): LogFields {
  const all = sanitize(fields, withStack, 0, new WeakSet()) as LogFields;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(all)) out[RECORD_KEYS.has(k) ? `field.${k}` : k] = v;
  return out;
}

/**
 * Lines are written by pino: JSON records, or through pino-pretty's formatter in pretty mode (used
 * synchronously, in this thread, so a line written just before an exit is never lost).
 */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const { level, format } = options;
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const color = format === "pretty" && stream.isTTY === true && !process.env.NO_COLOR;
  const destination =
    format === "json"
      ? stream
      : (() => {
          const prettify = prettyFactory({ colorize: color, translateTime: "SYS:HH:MM:ss.l", ignore: "", singleLine: true });
          return { write: (line: string) => stream.write(prettify(line)) };
        })();
  const base = pino(
    {
      level,
      base: null,
      messageKey: "msg",
      timestamp: () => `,"time":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Fields are already made safe by recordFields (errors included); pino's own err serializer would redo it.
      serializers: { err: (value: unknown) => value },
    },
    destination as DestinationStream,
  );
  return wrap(base, level, bound);
}

function wrap(base: PinoLogger, level: LogLevel, bound: LogFields): Logger {
  const enabled = (l: LogLevel): boolean => levelEnabled(l, level);
  const write = (l: LogLevel, msg: string, fields?: LogFields): void => {
    if (!enabled(l)) return;
    base[l](recordFields({ ...bound, ...fields }, level === "debug"), msg);
  };
  return {
    level,
    enabled,
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => wrap(base, level, { ...bound, ...fields }),
  };
}
