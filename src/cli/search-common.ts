/**
 * What the search commands (index, search, related, stats, reindex) share: where the index is,
 * opening the embedder and the index with the configuration, the query options (k, filters, weight),
 * error messages that say what to do, and rendering hits for a terminal or as JSON.
 *
 * Which index: `--index <dir>` if given (a "user-given" index), else the configured one
 * (PAPERHOUND_INDEX, default `index/default` in the project).
 *
 * Fresh installs answer from the sample: when search/related/stats find the index empty and it is
 * not user-given, they first index the built-in sample corpus. By default that happens only for the
 * built-in default directory; `PAPERHOUND_SAMPLE_IF_EMPTY=1` makes the configured PAPERHOUND_INDEX
 * behave the same (demos, tests), `=0` turns it off everywhere. `--index` never gets the sample.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { embedderSettings, SETTINGS } from "../config.js";
import { splitSentences } from "../embed/passages.js";
import type { Embedder } from "../embed/types.js";
import { createLogger, type Logger } from "../log.js";
import { arxivAbsUrl, isArxivId } from "../papers/arxiv-id.js";
import { loadSampleCorpus } from "../papers/sources/daily-listing.js";
import type { Paper } from "../papers/types.js";
import { MAX_K, PaperIndex, STORE_FILE } from "../search/paper-index.js";
import { PaperStore, StoreCorruptError, StoreSchemaError } from "../search/paper-store.js";
import type { SearchFilters, SearchHit, StoredPaper } from "../search/types.js";
import { IndexCorruptError, ModelMismatchError } from "../search/vector-index.js";
import { describeHolder, type LockHolder } from "../search/writer-lock.js";
import { CliInputError, type CliContext } from "./context.js";

/** Environment switch for the sample corpus on first use (see the header comment). */
export const SAMPLE_ENV = "PAPERHOUND_SAMPLE_IF_EMPTY";

/** The index cannot be used as it is (corrupt file, other model); the message says what to do. */
export class IndexUnusableError extends Error {
  override readonly name = "IndexUnusableError";
}

// ---------------------------------------------------------------------------------------------
// Which index

export interface IndexOption {
  index?: string;
}

export interface IndexLocation {
  dir: string;
  /** Given with --index. */
  userGiven: boolean;
  /** search/related/stats index the sample corpus into it when it is empty. */
  sampleIfEmpty: boolean;
  /** ` --index <dir>` when user-given, for commands suggested in messages. */
  indexArg: string;
}

export function addIndexOption(cmd: Command): Command {
  return cmd.option("--index <dir>", "index directory (default: $PAPERHOUND_INDEX, else index/default in the project)");
}

function builtInIndexDir(): string {
  return SETTINGS.indexPath.default({ env: {}, stderrIsTTY: false });
}

function sampleSetting(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env[SAMPLE_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false") return false;
  throw new CliInputError(`${SAMPLE_ENV}=${JSON.stringify(env[SAMPLE_ENV])} is not allowed (expected one of 0, 1, true, false)`);
}

export function indexLocation(ctx: CliContext, opts: IndexOption): IndexLocation {
  const config = ctx.config();
  const given = opts.index !== undefined;
  if (given && opts.index!.trim() === "") throw new CliInputError("--index needs a directory");
  const dir = given ? path.resolve(opts.index!) : config.indexPath;
  const setting = sampleSetting(ctx.env);
  const sampleIfEmpty = !given && (setting ?? path.resolve(dir) === path.resolve(builtInIndexDir()));
  return { dir, userGiven: given, sampleIfEmpty, indexArg: given ? ` --index ${shellQuote(dir)}` : "" };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function storeFileOf(dir: string): string {
  return path.join(dir, STORE_FILE);
}

// ---------------------------------------------------------------------------------------------
// Embedder and index

/**
 * Logger for the search commands: the configured one when LOG_LEVEL is set, otherwise warnings
 * only, so a search prints results and not the model's start-up lines.
 */
export function commandLogger(ctx: CliContext): Logger {
  if (ctx.env.LOG_LEVEL?.trim()) return ctx.logger();
  return createLogger({ level: "warn", format: ctx.config().logFormat, stream: ctx.stderr });
}

export async function openEmbedder(ctx: CliContext): Promise<Embedder> {
  const config = ctx.config();
  // Loaded here, not at start-up: the model runner pulls in onnxruntime and transformers.js.
  const { loadEmbedder } = await import("../embed/load.js");
  return loadEmbedder({
    ...embedderSettings(config),
    logger: commandLogger(ctx),
  });
}

/** Rewrites the search core's errors about unusable files into messages that say what to run. */
export function explainIndexError(err: unknown, loc: IndexLocation): unknown {
  if (err instanceof ModelMismatchError) {
    const model = (f: ModelMismatchError["found"]) => `"${f.modelId}" (dim ${f.dim}, checksum ${f.checksum.slice(0, 12)})`;
    return new IndexUnusableError(
      `the index in ${loc.dir} was built with model ${model(err.found)}, but the configured model (EMBED_MODEL) is ${model(err.expected)}; ` +
        `run \`paperhound reindex --yes${loc.indexArg}\` to rebuild its vectors with the configured model, or set EMBED_MODEL back`,
      { cause: err },
    );
  }
  if (err instanceof IndexCorruptError) {
    return new IndexUnusableError(
      `vector index file ${err.file} is unusable: ${err.reason}; it was left untouched. ` +
        `Run \`paperhound reindex --yes${loc.indexArg}\` to rebuild the vectors from the paper store, or restore ${loc.dir} from a backup`,
      { cause: err },
    );
  }
  if (err instanceof StoreCorruptError) {
    // (`paperhound reindex` rebuilds vectors from the store, so it cannot repair the store itself.)
    return new IndexUnusableError(
      `paper store ${err.file} is corrupt or not a paperhound database (${err.detail.replace(/\.$/, "")}); it was left untouched. ` +
        `Restore it from a backup, or move ${loc.dir} aside and rebuild it from your paper files with \`paperhound index <file...>${loc.indexArg}\``,
      { cause: err },
    );
  }
  return err;
}

/** Papers in the store file, read-only; 0 when there is no store yet. */
export function paperCount(storeFile: string): number {
  if (!existsSync(storeFile)) return 0;
  let store: PaperStore;
  try {
    store = PaperStore.open(storeFile, { readonly: true });
  } catch (err) {
    if (!(err instanceof StoreSchemaError && err.migratableFrom !== undefined)) throw err;
    // A store from an older paperhound: migrate it once (a write), then carry on read-only.
    PaperStore.open(storeFile).close();
    store = PaperStore.open(storeFile, { readonly: true });
  }
  try {
    return store.count();
  } finally {
    store.close();
  }
}

export interface OpenIndex {
  index: PaperIndex;
  embedder: Embedder;
  loc: IndexLocation;
  close(): Promise<void>;
}

/** How a command that writes the index opens it: waiting INDEX_LOCK_WAIT_SECONDS for another writer, and saying so. */
export function writerOpenOptions(ctx: CliContext, dir: string): { lockWaitMs: number; onLockWait: (holder: LockHolder | undefined) => void } {
  return {
    lockWaitMs: ctx.config().indexLockWaitSeconds * 1000,
    onLockWait: (holder) =>
      ctx.stderr.write(
        `another process is writing the index in ${dir}${holder ? ` (${describeHolder(holder)})` : ""}; waiting up to ${ctx.config().indexLockWaitSeconds} s (INDEX_LOCK_WAIT_SECONDS)\n`,
      ),
  };
}

/**
 * Opens the index read-only for queries (a query never writes, so it cannot disturb an indexing run
 * next to it), with the configured embedder. An empty index gets the sample corpus first when it
 * is not user-given (see the header comment); otherwise it is an error saying how to fill it.
 * `extra.add`: papers to store (and embed) before the index is opened for the query.
 */
export async function openIndexForQuery(ctx: CliContext, opts: IndexOption, extra: { add?: readonly Paper[] } = {}): Promise<OpenIndex> {
  const loc = indexLocation(ctx, opts);
  const storeFile = storeFileOf(loc.dir);
  const add = extra.add ?? [];
  let embedder: Embedder | undefined;
  try {
    const empty = paperCount(storeFile) === 0;
    if (empty && !loc.sampleIfEmpty && add.length === 0) {
      throw new CliInputError(
        `the index in ${loc.dir} is empty: add papers with \`paperhound index <file...>${loc.indexArg}\` (JSON, JSON Lines or a listing page)`,
      );
    }
    embedder = await openEmbedder(ctx);
    if (empty) {
      const papers = await loadSampleCorpus();
      ctx.stderr.write(`index is empty: indexing the built-in sample corpus (${papers.length} papers) first\n`);
      const writable = await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) });
      try {
        await writable.add(papers);
      } finally {
        writable.close();
      }
    }
    if (add.length > 0) {
      // Papers fetched for this query (`related` with an arXiv id not in the index): stored and embedded first.
      const writable = await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) });
      try {
        await writable.add(add);
      } finally {
        writable.close();
      }
    }
    const index = await PaperIndex.open({ dir: loc.dir, embedder, readonly: true, warm: true });
    const open = embedder;
    return {
      index,
      embedder: open,
      loc,
      async close() {
        index.close();
        await open.dispose();
      },
    };
  } catch (err) {
    await embedder?.dispose();
    throw explainIndexError(err, loc);
  }
}

/** Total size of the files directly in the index directory (store, WAL, vector generations). */
export function bytesOnDisk(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const st = statSync(path.join(dir, name));
      if (st.isFile()) total += st.size;
    } catch {
      // vanished meanwhile
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Query options

export interface QueryCliOptions extends IndexOption {
  k: number;
  since?: string;
  until?: string;
  category?: string[];
  author?: string;
  json?: boolean;
  weight?: number;
}

export function parseK(value: string): number {
  const v = value.trim();
  const n = /^\+?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_K) {
    throw new InvalidArgumentError(`the number of results must be a whole number from 1 to ${MAX_K}.`);
  }
  return n;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** YYYY-MM-DD (or YYYY-MM, YYYY) that exists in the calendar; returned as given. */
export function parseDate(value: string): string {
  const v = value.trim();
  const m = DATE_RE.exec(v);
  const bad = () => new InvalidArgumentError("expected a date like 2024-01-31 (YYYY-MM-DD, or YYYY-MM or YYYY).");
  if (!m) throw bad();
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  if (year < 1000 || month < 1 || month > 12 || day < 1) throw bad();
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) throw bad();
  return v;
}

const CATEGORY_RE = /^[a-z][a-z-]*(?:\.[a-z][a-z-]*)?$/i;

function collectCategory(value: string, previous: string[] | undefined): string[] {
  const parts = value
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (parts.length === 0 || !parts.every((c) => CATEGORY_RE.test(c))) {
    throw new InvalidArgumentError('expected an arXiv category like cs.LG, or an archive like "cs".');
  }
  return [...(previous ?? []), ...parts];
}

function parseAuthor(value: string): string {
  const v = value.trim();
  if (v === "") throw new InvalidArgumentError("expected part of an author's name.");
  return v;
}

function parseWeight(value: string): number {
  const v = value.trim();
  const n = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("expected a number from 0 (keywords only) to 1 (meaning only).");
  return n;
}

/** -k, filters, --weight, --json and --index: the options search and related share. */
export function addQueryOptions(cmd: Command): Command {
  cmd
    .option("-k <n>", `number of results, 1 to ${MAX_K}`, parseK, 10)
    .option("--since <date>", "published on or after this date (YYYY-MM-DD)", parseDate)
    .option("--until <date>", "published on or before this date (YYYY-MM-DD)", parseDate)
    .option("--category <cat>", "in this arXiv category (cs.LG) or archive (cs); repeat for any of several", collectCategory)
    .option("--author <name>", "with an author whose name contains this text", parseAuthor)
    .option("--json", "print one JSON object")
    .addOption(
      new Option("--weight <w>", "weight of meaning against keywords, 0 to 1 (default: measured for the model, README \"Search quality\")").argParser(parseWeight),
    );
  return addIndexOption(cmd);
}

/** Cross-option checks commander cannot do; a problem is a usage error (exit 2). */
export function checkQueryOptions(cmd: Command, opts: QueryCliOptions): void {
  if (opts.since && opts.until && normalisedSince(opts.since) > normalisedUntil(opts.until)) {
    cmd.error(`error: --since ${opts.since} is after --until ${opts.until}, so nothing can match.`, { exitCode: 2 });
  }
}

const normalisedSince = (d: string) => (d.length === 4 ? `${d}-01-01` : d.length === 7 ? `${d}-01` : d);
const normalisedUntil = (d: string) => (d.length === 4 ? `${d}-12-31` : d.length === 7 ? `${d}-31` : d);

export function filtersFrom(opts: QueryCliOptions): SearchFilters | undefined {
  const filters: SearchFilters = {};
  if (opts.since) filters.since = opts.since;
  if (opts.until) filters.until = opts.until;
  if (opts.category && opts.category.length > 0) filters.categories = [...opts.category];
  if (opts.author) filters.author = opts.author;
  return Object.keys(filters).length > 0 ? filters : undefined;
}

export function describeFilters(opts: QueryCliOptions): string {
  const parts: string[] = [];
  if (opts.since) parts.push(`since ${opts.since}`);
  if (opts.until) parts.push(`until ${opts.until}`);
  if (opts.category && opts.category.length > 0) parts.push(`in ${opts.category.join(" or ")}`);
  if (opts.author) parts.push(`by "${opts.author}"`);
  return parts.join(", ");
}

// ---------------------------------------------------------------------------------------------
// Rendering

export const WIDTH = 80;

/** The paper's page: arXiv abs page for arXiv ids, else its own links, else a DOI link. */
export function paperUrl(p: StoredPaper): string | undefined {
  if (isArxivId(p.id)) return arxivAbsUrl(p.id);
  return p.links.abs ?? p.links.pdf ?? p.links.project ?? p.links.code ?? (p.doi ? `https://doi.org/${p.doi}` : undefined);
}

const PARTICLES = new Set(["van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "ten", "dos", "das", "bin", "al"]);

/** "Alice B. Smith" → "A. B. Smith"; "Jean-Pierre Dupont" → "J.-P. Dupont"; one-word names as they are. */
export function shortName(name: string): string {
  const words = name.trim().split(/\s+/);
  if (words.length < 2) return name.trim();
  let surnameStart = words.length - 1;
  while (surnameStart > 1 && PARTICLES.has(words[surnameStart - 1]!.toLowerCase())) surnameStart--;
  const initials = words.slice(0, surnameStart).map((w) =>
    w
      .split("-")
      .map((part) => {
        const first = [...part][0];
        return first && /\p{L}/u.test(first) ? `${first.toUpperCase()}.` : part;
      })
      .join("-"),
  );
  return [...initials, ...words.slice(surnameStart)].join(" ");
}

/** Up to three authors shortened; more: the first two and "et al.". */
export function shortAuthors(authors: readonly string[]): string {
  if (authors.length === 0) return "";
  if (authors.length <= 3) return authors.map(shortName).join(", ");
  return `${authors.slice(0, 2).map(shortName).join(", ")} et al.`;
}

/** The first sentence, or the first ~160 characters cut at a word, with an ellipsis when cut. */
export function abstractSnippet(abstract: string, max = 160): string {
  const text = abstract.replace(/\s+/g, " ").trim();
  const sentence = splitSentences(abstract)[0];
  if (sentence && sentence.length <= max) return sentence;
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, "")}…`;
}

/**
 * Greedy word wrap; every line starts with `indent`. Words are never split: a word longer than the
 * line (a long URL or id) gets a line of its own, so it stays whole and clickable.
 */
export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const room = Math.max(20, width - indent.length);
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (!line) line = word;
    else if ([...line].length + 1 + [...word].length <= room) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l);
}

function dateOf(p: StoredPaper): string | undefined {
  return p.published ?? p.updated;
}

/** One hit in the terminal format: rank and title; authors · date · category · score; link (or id); abstract. */
export function renderHit(hit: SearchHit, rank: number, rankWidth: number): string[] {
  const p = hit.paper;
  const label = `${String(rank).padStart(rankWidth)}. `;
  const indent = " ".repeat(label.length);
  const titleLines = wrap(p.title, indent);
  titleLines[0] = label + titleLines[0]!.slice(indent.length);
  const meta = [shortAuthors(p.authors), dateOf(p), p.categories[0], `score ${hit.score.toFixed(2)}`].filter((s): s is string => Boolean(s));
  const lines = [...titleLines, ...wrap(meta.join(" · "), indent), ...wrap(paperUrl(p) ?? p.id, indent)];
  if (p.abstract.trim()) lines.push(...wrap(abstractSnippet(p.abstract), indent));
  return lines;
}

export function renderHits(hits: readonly SearchHit[]): string {
  const width = String(hits.length).length;
  return hits.map((h, i) => renderHit(h, i + 1, width).join("\n")).join("\n\n");
}

export function paperJson(p: StoredPaper): Record<string, unknown> {
  return {
    id: p.id,
    title: p.title,
    authors: p.authors,
    date: dateOf(p) ?? null,
    categories: p.categories,
    url: paperUrl(p) ?? null,
    abstract: p.abstract,
  };
}

export function hitJson(hit: SearchHit, rank: number): Record<string, unknown> {
  const p = paperJson(hit.paper);
  return {
    rank,
    id: p.id,
    title: p.title,
    authors: p.authors,
    date: p.date,
    categories: p.categories,
    url: p.url,
    score: hit.score,
    dense: hit.dense ?? null,
    bm25: hit.bm25 ?? null,
    abstract: p.abstract,
  };
}
