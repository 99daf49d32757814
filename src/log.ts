/**
 * Structured logging to stderr: one JSON object per line (`{"time","level","msg",...fields}`), or a
 * readable line in pretty mode. Fields whose key looks secret (token, secret, password, key, ...) are
 * redacted wherever they appear, so a token passed by mistake never reaches a log file.
 */
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

function pad2(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function prettyValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === undefined) return "undefined";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s;
}

const COLORS: Record<LogLevel, string> = { debug: "\x1b[90m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };

export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const { level, format } = options;
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const color = format === "pretty" && stream.isTTY === true && !process.env.NO_COLOR;
  const enabled = (l: LogLevel): boolean => levelEnabled(l, level);

  const write = (l: LogLevel, msg: string, fields?: LogFields): void => {
    if (!enabled(l)) return;
    const time = now();
    const all = sanitize({ ...bound, ...fields }, level === "debug", 0, new WeakSet()) as LogFields;
    let line: string;
    if (format === "json") {
      const record: LogFields = { time: time.toISOString(), level: l, msg };
      // A field may not overwrite the line's own time/level/msg; it keeps its value under "field.<name>".
      for (const [k, v] of Object.entries(all)) record[k in record ? `field.${k}` : k] = v;
      line = JSON.stringify(record);
    } else {
      const clock = `${pad2(time.getHours())}:${pad2(time.getMinutes())}:${pad2(time.getSeconds())}.${pad2(time.getMilliseconds(), 3)}`;
      const tag = l.toUpperCase().padEnd(5);
      const rest = Object.entries(all)
        .map(([k, v]) => `${k}=${prettyValue(v)}`)
        .join(" ");
      line = `${clock} ${color ? `${COLORS[l]}${tag}\x1b[0m` : tag} ${msg}${rest ? ` ${rest}` : ""}`;
    }
    stream.write(`${line}\n`);
  };

  return {
    level,
    enabled,
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}
