/**
 * One validated configuration for everything, read from the environment.
 *
 * Every setting is declared once in `SETTINGS` below: its environment variable, its zod schema
 * (validation and conversion of the raw string), its default, what values are allowed in words, and
 * whether it is secret. `Config` is derived from that table, so adding a setting is one entry here and
 * nothing else. `loadConfig` validates the environment with one zod object built from the table and
 * reports all problems at once in one `ConfigError` that names each variable and what to put there.
 */
import os from "node:os";
import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { modelsDir, projectRoot } from "./paths.js";
import { DEFAULT_LIMITS } from "./papers/limits.js";
import { categoryList, isArxivCategoryCode } from "./papers/checks.js";
import { PaperhoundError } from "./errors.js";
import { PRECISION_SETTINGS } from "./embed/precision.js";

/** What `parse` gets besides the raw string: the whole environment and facts about the terminal. */
export interface ParseContext {
  env: NodeJS.ProcessEnv;
  stderrIsTTY: boolean;
}

interface SettingSpec<T> {
  /** Environment variable that sets it. */
  env: string;
  /** One line for `paperhound config` and docs/configuration.md. */
  description: string;
  /** What is allowed, in words, for error messages ("one of auto, cpu, cuda"). */
  allowed: string;
  /** Never logged or printed; `describeConfig` shows "[redacted]". */
  secret?: boolean;
  /** Value when unset (or set to an empty string). */
  default: (ctx: ParseContext) => T;
  /** What applies when unset, for settings whose default the adapter applies (`paperhound config` shows it). */
  whenUnset?: string;
  /** Validates and converts a non-empty, trimmed raw value. */
  schema: z.ZodType<T, string>;
}

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

function oneOf<const V extends string>(values: readonly [V, ...V[]]): z.ZodType<V, string> {
  return z.string().toLowerCase().pipe(z.enum(values));
}

function intIn(min: number, max: number): z.ZodType<number, string> {
  return z
    .string()
    .regex(/^[+]?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** An absolute http(s) URL, kept as given (base URLs of remote sources; tests point them at a local server). */
const httpUrl = z.string().refine((raw) => {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
});

/** A plain e-mail address (no display name): it goes into the User-Agent as `mailto:<address>`. */
const email = z.string().regex(/^[^\s@<>()";,]+@[^\s@<>()";,]+\.[^\s@<>()";,]+$/);

const bool: z.ZodType<boolean, string> = z
  .string()
  .toLowerCase()
  .pipe(z.enum(["1", "true", "0", "false"]))
  .transform((v) => v === "1" || v === "true");

/** A path, made absolute against the working directory. */
const directory = z.string().transform((raw) => path.resolve(raw));

const anyText = z.string();

/** An IPv4/IPv6 address or an RFC 1123 host name: what `server.listen(port, host)` can bind. */
const host = z.string().refine((raw) => isIP(raw) !== 0 || /^(?=.{1,253}$)[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?)*\.?$/i.test(raw));

export const DEVICE_SETTINGS = ["auto", "cpu", "cuda"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;
export const SLACK_MODES = ["auto", "socket", "http"] as const;

/** The settings, in the order `paperhound config` prints them. */
export const SETTINGS = {
  embedModel: setting<string>({
    env: "EMBED_MODEL",
    description: 'Embedding model: "paperhound-sci-1" or "use-lite" (built in), a local model directory, or a Hugging Face id',
    allowed: '"paperhound-sci-1", "use-lite", a directory, or a Hugging Face id',
    default: () => "paperhound-sci-1",
    schema: anyText,
  }),
  embedDevice: setting({
    env: "EMBED_DEVICE",
    description: "Where inference runs; auto tries CUDA and falls back to CPU",
    allowed: `one of ${DEVICE_SETTINGS.join(", ")}`,
    default: () => "auto" as const,
    schema: oneOf(DEVICE_SETTINGS),
  }),
  embedPrecision: setting({
    env: "EMBED_PRECISION",
    description: "Which version of the model runs: auto is int8 on CPU for the built-in models (about twice as fast, cosine ≥ 0.99 to float32) and float32 otherwise",
    allowed: `one of ${PRECISION_SETTINGS.join(", ")}`,
    default: () => "auto" as const,
    schema: oneOf(PRECISION_SETTINGS),
  }),
  embedThreads: setting({
    env: "EMBED_THREADS",
    description: "CPU threads for inference, and for an indexer's inserts into the HNSW graph",
    allowed: "a positive integer",
    default: () => os.availableParallelism(),
    schema: intIn(1, 4096),
  }),
  embedBatchSize: setting<number | "auto">({
    env: "EMBED_BATCH_SIZE",
    // Measured on 2 CPU cores: 16 is fastest and leanest; GPUs want large batches.
    description: "Texts per inference batch; auto is 16 on CPU and 128 on CUDA",
    allowed: "auto or an integer from 1 to 1024",
    default: () => "auto" as const,
    schema: z.union([z.string().toLowerCase().pipe(z.literal("auto")), intIn(1, 1024)]),
  }),
  embedAllowDownload: setting({
    env: "EMBED_ALLOW_DOWNLOAD",
    description: "Allow downloading models from the Hugging Face Hub",
    allowed: "one of 0, 1, true, false",
    default: () => false,
    schema: bool,
  }),
  searchThreads: setting({
    env: "SEARCH_THREADS",
    // Measured with bench:discord / bench:slack on 2 cores: docs/discord.md and docs/slack.md, the Load sections.
    description: "Worker threads that run the bot's searches, each with its own copy of the index in memory; 0 searches on the main thread",
    allowed: "an integer from 0 to 16",
    default: () => 1,
    schema: intIn(0, 16),
  }),
  vectorSimd: setting({
    env: "VECTOR_SIMD",
    // Read by the search core when it loads hnswlib (src/search/vectors/hnswlib.ts); checked here so a bad value stops the start.
    description: "auto runs vector search on the AVX2 build of hnswlib that npm install makes, where the CPU has AVX2 and FMA, and stores vectors as half floats; off keeps the stock build (float32)",
    allowed: "one of auto, off",
    default: () => "auto" as const,
    schema: oneOf(["auto", "off"] as const),
  }),
  indexRefreshSeconds: setting({
    env: "INDEX_REFRESH_SECONDS",
    description: "How often the bot looks for papers the indexer added (a pointer file read; new vectors load in the background); 0 never",
    allowed: "an integer from 0 to 86400",
    default: () => 60,
    schema: intIn(0, 86_400),
  }),
  indexLockWaitSeconds: setting({
    env: "INDEX_LOCK_WAIT_SECONDS",
    description: "How long index, ingest and reindex wait for another process writing the same index (one writer at a time) before giving up",
    allowed: "an integer from 0 to 86400",
    default: () => 600,
    schema: intIn(0, 86_400),
  }),
  digestIngest: setting({
    env: "DIGEST_INGEST",
    description: "Before a channel's digest, fetch its sources (Hugging Face daily papers, arXiv announcements of its categories) into the index",
    allowed: "one of 0, 1, true, false",
    default: () => true,
    schema: bool,
  }),
  ingestCategories: setting<string[]>({
    env: "INGEST_CATEGORIES",
    description: "arXiv categories the team follows (comma-separated): `paperhound ingest followed` fetches their new papers; `paperhound setup` asks for them",
    allowed: "arXiv categories such as cs.LG,cs.CL",
    whenUnset: "none",
    default: () => [],
    schema: z
      .string()
      .transform(categoryList)
      .pipe(z.array(z.string().refine(isArxivCategoryCode)).min(1)),
  }),
  ingestHfDaily: setting({
    env: "INGEST_HF_DAILY",
    description: "Whether `paperhound ingest followed` also fetches Hugging Face daily papers",
    allowed: "one of 0, 1, true, false",
    default: () => false,
    schema: bool,
  }),
  modelsDir: setting({
    env: "PAPERHOUND_MODELS_DIR",
    description: "Directory of generated and downloaded models",
    allowed: "a directory path",
    default: () => modelsDir({}),
    schema: directory,
  }),
  indexPath: setting({
    env: "PAPERHOUND_INDEX",
    description: "Directory of the paper index",
    allowed: "a directory path",
    default: () => path.join(projectRoot, "index", "default"),
    schema: directory,
  }),
  maxRecordBytes: setting({
    env: "MAX_RECORD_BYTES",
    description: "Largest record read from a paper file or feed (a JSON Lines line, a JSON array element, an XML entry); larger ones are skipped with an error",
    allowed: "an integer from 65536 to 1073741824",
    default: () => DEFAULT_LIMITS.maxRecordBytes,
    schema: intIn(65_536, 1_073_741_824),
  }),
  maxAbstractChars: setting({
    env: "MAX_ABSTRACT_CHARS",
    description: "Longest abstract a paper may have (arXiv's are at most 1,920 characters); longer ones are skipped with an error",
    allowed: "an integer from 1000 to 10000000",
    default: () => DEFAULT_LIMITS.maxAbstractChars,
    schema: intIn(1_000, 10_000_000),
  }),
  logLevel: setting({
    env: "LOG_LEVEL",
    description: "Least severe log level written",
    allowed: `one of ${LOG_LEVELS.join(", ")}`,
    default: () => "info" as const,
    schema: oneOf(LOG_LEVELS),
  }),
  logFormat: setting({
    env: "LOG_FORMAT",
    description: "Log line format; default json unless stderr is a terminal",
    allowed: `one of ${LOG_FORMATS.join(", ")}`,
    default: ({ stderrIsTTY }): (typeof LOG_FORMATS)[number] => (stderrIsTTY ? "pretty" : "json"),
    schema: oneOf(LOG_FORMATS),
  }),
  logQueries: setting({
    env: "LOG_QUERIES",
    // Off by default: what a team searches for can be confidential.
    description: "Also write what was asked (the command's options, query text included) in each `command handled` log line",
    allowed: "one of 0, 1, true, false",
    default: () => false,
    schema: bool,
  }),
  contactEmail: setting<string | undefined>({
    env: "PAPERHOUND_CONTACT_EMAIL",
    // arXiv asks API clients for contact details; without one, arXiv requests still run but log a warning.
    description: "Contact e-mail sent in the User-Agent of requests to arXiv and Hugging Face",
    allowed: "an e-mail address",
    default: () => undefined,
    schema: email,
  }),
  arxivApiUrl: setting({
    env: "ARXIV_API_URL",
    description: "arXiv API query endpoint",
    allowed: "an http(s) URL",
    default: () => "https://export.arxiv.org/api/query",
    schema: httpUrl,
  }),
  arxivRssUrl: setting({
    env: "ARXIV_RSS_URL",
    description: "arXiv RSS feed base; category lists are appended",
    allowed: "an http(s) URL",
    default: () => "https://rss.arxiv.org/rss/",
    schema: httpUrl,
  }),
  arxivOaiUrl: setting({
    env: "ARXIV_OAI_URL",
    description: "arXiv OAI-PMH endpoint",
    allowed: "an http(s) URL",
    default: () => "https://oaipmh.arxiv.org/oai",
    schema: httpUrl,
  }),
  hfApiUrl: setting({
    env: "HF_API_URL",
    description: "Hugging Face API base (daily papers)",
    allowed: "an http(s) URL",
    default: () => "https://huggingface.co/api",
    schema: httpUrl,
  }),
  arxivMinIntervalMs: setting({
    env: "ARXIV_MIN_INTERVAL_MS",
    // arXiv's terms: one request every 3 s. A smaller value only applies to hosts outside arxiv.org (mirrors, test servers).
    description: "Milliseconds from one arXiv request (start and end) to the next; all arXiv endpoints share it; never below 3000 for arxiv.org",
    allowed: "an integer from 0 to 600000",
    default: () => 3000,
    schema: intIn(0, 600_000),
  }),
  hfMinIntervalMs: setting({
    env: "HF_MIN_INTERVAL_MS",
    description: "Milliseconds from one Hugging Face API request (start and end) to the next",
    allowed: "an integer from 0 to 600000",
    default: () => 1000,
    schema: intIn(0, 600_000),
  }),
  discordToken: setting<string | undefined>({
    env: "DISCORD_TOKEN",
    // Set: `npm start` (paperhound bot) connects to Discord; unset: it starts the console adapter.
    description: "Discord bot token; when set, `paperhound bot` (npm start) connects to Discord instead of the console",
    allowed: "a Discord bot token",
    secret: true,
    default: () => undefined,
    schema: z.string().regex(/^[\w.-]{20,200}$/),
  }),
  discordApplicationId: setting<string | undefined>({
    env: "DISCORD_APPLICATION_ID",
    description: "Discord application id (for scripts/register-commands; read from the token's login when unset)",
    allowed: "a Discord snowflake (17 to 20 digits)",
    default: () => undefined,
    schema: z.string().regex(/^\d{17,20}$/),
  }),
  discordGuildId: setting<string | undefined>({
    env: "DISCORD_GUILD_ID",
    description: "Discord server for development: register-commands registers the commands there (instantly) instead of globally",
    allowed: "a Discord snowflake (17 to 20 digits)",
    default: () => undefined,
    schema: z.string().regex(/^\d{17,20}$/),
  }),
  discordApiUrl: setting<string | undefined>({
    env: "DISCORD_API_URL",
    description: "Discord REST API base (the gateway URL comes from its /gateway/bot); https://discord.com/api when unset; for a proxy or a test server",
    allowed: "an http(s) URL",
    whenUnset: "https://discord.com/api",
    default: () => undefined,
    schema: httpUrl,
  }),
  slackBotToken: setting<string | undefined>({
    env: "SLACK_BOT_TOKEN",
    // Set: `npm start` (paperhound bot) also starts the Slack adapter (Socket Mode or HTTP mode).
    description: "Slack bot token (xoxb-…); when set, `paperhound bot` also runs the Slack app",
    allowed: "a Slack bot token starting with xoxb-",
    secret: true,
    default: () => undefined,
    schema: z.string().regex(/^xoxb-[\w-]{8,250}$/),
  }),
  slackAppToken: setting<string | undefined>({
    env: "SLACK_APP_TOKEN",
    description: "Slack app-level token (xapp-…, scope connections:write) for Socket Mode",
    allowed: "a Slack app-level token starting with xapp-",
    secret: true,
    default: () => undefined,
    schema: z.string().regex(/^xapp-[\w-]{8,250}$/),
  }),
  slackSigningSecret: setting<string | undefined>({
    env: "SLACK_SIGNING_SECRET",
    description: "Slack signing secret, for HTTP mode (requests from Slack are checked with it)",
    allowed: "a Slack signing secret (16 to 128 letters and digits)",
    secret: true,
    default: () => undefined,
    schema: z.string().regex(/^[A-Za-z0-9]{16,128}$/),
  }),
  // The Slack settings below are unset by default (the adapter applies its defaults), like the Discord ones.
  slackMode: setting<(typeof SLACK_MODES)[number] | undefined>({
    env: "SLACK_MODE",
    description: "How Slack reaches the bot: socket (SLACK_APP_TOKEN), http (SLACK_SIGNING_SECRET, SLACK_PORT); unset or auto: socket when SLACK_APP_TOKEN is set, else http",
    allowed: `one of ${SLACK_MODES.join(", ")}`,
    whenUnset: "auto: socket with SLACK_APP_TOKEN, else http",
    default: () => undefined,
    schema: oneOf(SLACK_MODES),
  }),
  slackPort: setting<number | undefined>({
    env: "SLACK_PORT",
    description: "HTTP mode: port of the request URL endpoint (/slack/events); 3000 when unset",
    allowed: "an integer from 1 to 65535",
    whenUnset: "3000",
    default: () => undefined,
    schema: intIn(1, 65535),
  }),
  slackApiUrl: setting<string | undefined>({
    env: "SLACK_API_URL",
    description: "Slack Web API base URL; https://slack.com/api/ when unset",
    allowed: "an http(s) URL",
    whenUnset: "https://slack.com/api/",
    default: () => undefined,
    schema: httpUrl,
  }),
  slackDigestAdmins: setting<string[] | undefined>({
    env: "SLACK_DIGEST_ADMINS",
    description: "Slack user ids (comma or space separated) who may change a channel's /digest; anyone when unset",
    allowed: "Slack user ids such as U012ABCDEF",
    whenUnset: "anyone in the channel",
    default: () => undefined,
    schema: z
      .string()
      .transform((raw) => raw.split(/[\s,]+/).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[UW][A-Z0-9]{2,}$/)).min(1)),
  }),
  healthPort: setting<number | undefined>({
    env: "HEALTH_PORT",
    description: "Port of the /healthz, /readyz and /metrics endpoint of `paperhound bot`; off when unset",
    allowed: "an integer from 1 to 65535",
    whenUnset: "off",
    default: () => undefined,
    schema: intIn(1, 65535),
  }),
  healthHost: setting<string>({
    env: "HEALTH_HOST",
    description: "Address the health endpoint listens on (0.0.0.0 in a container)",
    allowed: "an IP address or host name",
    default: () => "127.0.0.1",
    schema: host,
  }),
} satisfies Record<string, SettingSpec<unknown>>;

type Settings = typeof SETTINGS;
export type SettingKey = keyof Settings;

/** The validated configuration: one field per entry of `SETTINGS`. */
export type Config = { readonly [K in SettingKey]: Settings[K] extends SettingSpec<infer T> ? T : never };

export interface ConfigProblem {
  /** Environment variable name. */
  name: string;
  /** The value given ("[redacted]" for secret settings). */
  value: string;
  /** What is allowed. */
  allowed: string;
}

export class ConfigError extends PaperhoundError {
  readonly identifier = "config_invalid";
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly ConfigProblem[]) {
    const list = problems.map((p) => `${p.name}=${JSON.stringify(p.value)} is not allowed (expected ${p.allowed})`);
    super(`invalid configuration: ${list.join("; ")}`);
  }
}

export interface LoadConfigOptions {
  /** Whether stderr is a terminal (decides the LOG_FORMAT default). Defaults to `process.stderr.isTTY`. */
  stderrIsTTY?: boolean;
}

/** Unset and blank variables are "not given"; given values are trimmed. */
function givenValue(raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  const v = raw.trim();
  return v === "" ? undefined : v;
}

/** One zod object over the environment: each setting's variable, optional, validated by its schema. */
const environmentSchema = z.object(
  Object.fromEntries(
    Object.values(SETTINGS as Record<string, SettingSpec<unknown>>).map((spec) => [spec.env, z.preprocess(givenValue, spec.schema.optional())]),
  ),
);

/** Reads and validates every setting (with zod); throws one `ConfigError` listing all bad settings. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const ctx: ParseContext = { env, stderrIsTTY: options.stderrIsTTY ?? Boolean(process.stderr.isTTY) };
  const specs = Object.entries(SETTINGS) as [SettingKey, SettingSpec<unknown>][];
  const result = environmentSchema.safeParse(env);
  if (!result.success) {
    // Issues name the variable (path[0]); report each bad variable once, in the table's order.
    const bad = new Set(result.error.issues.map((issue) => String(issue.path[0])));
    const problems: ConfigProblem[] = specs
      .filter(([, spec]) => bad.has(spec.env))
      .map(([, spec]) => ({ name: spec.env, value: spec.secret ? REDACTED : String(givenValue(env[spec.env]) ?? ""), allowed: spec.allowed }));
    throw new ConfigError(problems);
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of specs) {
    const given = result.data[spec.env];
    values[key] = given === undefined ? spec.default(ctx) : given;
  }
  return Object.freeze(values) as Config;
}

export const REDACTED = "[redacted]";

export interface SettingDescription {
  key: SettingKey;
  env: string;
  /** The value as text; "[redacted]" for secrets that are set; "" when unset with no default. */
  value: string;
  /** Where the value came from: the environment, the settings file, or the default. */
  source: "environment" | "file" | "default";
  /** What applies when unset and the value is empty (the adapter's own default). */
  whenUnset?: string;
  secret: boolean;
  description: string;
}

/**
 * The configuration as printable rows, secrets redacted. Safe to log. `env` and `fromFile` (the
 * variables a settings file set) tell where each value came from.
 */
export function describeConfig(config: Config, sources: { env?: NodeJS.ProcessEnv; fromFile?: ReadonlySet<string> } = {}): SettingDescription[] {
  return (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
    const spec: SettingSpec<unknown> = SETTINGS[key];
    const value: unknown = config[key];
    const secret = spec.secret === true;
    const shown = value === undefined || value === "" ? "" : secret ? REDACTED : String(value);
    const given = givenValue(sources.env?.[spec.env]) !== undefined;
    const source = !given ? "default" : sources.fromFile?.has(spec.env) ? "file" : "environment";
    return { key, env: spec.env, value: shown, source, ...(spec.whenUnset ? { whenUnset: spec.whenUnset } : {}), secret, description: spec.description };
  });
}

/** The embedder settings of a configuration, as `loadEmbedder` takes them ("auto" batch size: the embedder chooses by device). */
export function embedderSettings(config: Config): {
  model: string;
  device: Config["embedDevice"];
  precision: Config["embedPrecision"];
  threads: number;
  batchSize?: number;
  allowRemote: boolean;
} {
  return {
    model: config.embedModel,
    device: config.embedDevice,
    precision: config.embedPrecision,
    threads: config.embedThreads,
    ...(config.embedBatchSize === "auto" ? {} : { batchSize: config.embedBatchSize }),
    allowRemote: config.embedAllowDownload,
  };
}
