/**
 * A small real index for the chat tests: the first papers of the built-in sample listing, the
 * 12 arXiv papers of test/fixtures/cli-papers.jsonl, and hostile papers (mentions, markdown, huge
 * titles and abstracts, a link-spoofing title) with code and Hugging Face links, embedded with the
 * real default model.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeTitleLookups } from "../../commands/title-lookup.js";
import type { CommandContext } from "../../commands/types.js";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { createLogger, type Logger } from "../../src/log.js";
import { loadSampleCorpus } from "../../src/papers/sources/daily-listing.js";
import { loadPaperFile } from "../../src/papers/sources/jsonl.js";
import type { Paper } from "../../src/papers/types.js";
import { projectRoot } from "../../src/paths.js";
import { PaperIndex } from "../../src/search/paper-index.js";

export const FIXTURE = path.join(projectRoot, "test", "fixtures", "cli-papers.jsonl");

const LONG_WORDS = Array.from({ length: 1200 }, (_, i) => `word${i}`).join(" ");

export const HOSTILE: Paper[] = [
  {
    id: "2410.00001",
    title: "@everyone **Bold** _claims_ about <@123456789012345678> pings [click](https://evil.example) `code`",
    abstract: "Mass mentions in paper text such as @here and <@&987654321098765432> must never ping anyone. We study ping safety for chat bots. Markdown like **this** must be escaped.",
    authors: ["Mallory @everyone Hacker", "Eve <@1> Listener"],
    categories: ["cs.CR"],
    published: "2024-10-01",
    links: { code: "https://github.com/example/ping-safety", pdf: "https://arxiv.org/pdf/2410.00001" },
    source: "hf-daily",
    trending: { upvotes: 12 },
  },
  {
    id: "2410.00002",
    title: `Very Long Title About Ping Safety ${"and more words ".repeat(40)}`.trim(),
    abstract: `Ping safety for chat bots at length. ${LONG_WORDS}`,
    authors: Array.from({ length: 40 }, (_, i) => `Author Number${i}`),
    categories: ["cs.CR"],
    published: "2024-10-02",
    links: {},
    source: "test",
  },
];

export interface TestIndex {
  dir: string;
  index: PaperIndex;
  embedder: Embedder;
  ctx: CommandContext;
  close(): Promise<void>;
}

export const quietLogger = (): Logger => createLogger({ level: "error", format: "json", stream: { write: () => true } });

/** Builds the index (about 60 papers) in a temporary directory; `sample` = how many sample papers. */
export async function buildTestIndex(opts: { sample?: number; logger?: Logger } = {}): Promise<TestIndex> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-chat-"));
  const embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: { info: () => undefined, warn: () => undefined } });
  const sample = (await loadSampleCorpus()).slice(0, opts.sample ?? 20);
  const { papers } = await loadPaperFile(FIXTURE);
  const writable = await PaperIndex.open({ dir, embedder });
  await writable.add([...sample, ...papers, ...HOSTILE]);
  writable.close();
  const index = await PaperIndex.open({ dir, embedder, readonly: true, warm: true });
  const ctx: CommandContext = { index, clock: () => new Date("2026-11-24T12:00:00Z"), logger: opts.logger ?? quietLogger() };
  return {
    dir,
    index,
    embedder,
    ctx,
    async close() {
      closeTitleLookups(dir);
      index.close();
      await embedder.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
