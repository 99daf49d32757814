/**
 * The console adapter: `npm start`'s bin run as a child with piped stdin (one command per line,
 * exit at the end of input) on a fresh index that gets the sample corpus, and the adapter driven
 * in-process, as a terminal would, on the small test index.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleLine, PROMPT, runConsole } from "../../src/chat/console/console-adapter.js";
import { parseLine, splitWords } from "../../src/chat/console/parse.js";
import { consoleDigestPoster } from "../../src/chat/console/digest.js";
import { DigestService } from "../../src/bot/digest-service.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";
import { BIN, cleanEnv, runNode, type Run } from "../helpers/run-cli.js";
import { projectRoot } from "../../src/paths.js";


function runBin(args: string[], input: string, env: Record<string, string>): Promise<Run> {
  return runNode(args, { input, env });
}

let tmp: string;
let t: TestIndex;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-console-"));
  t = await buildTestIndex();
}, 180_000);

afterAll(async () => {
  await t?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("piped console (npm start with no token)", () => {
  it("answers one command per line on a fresh index (sample corpus) and exits 0 at the end of input", async () => {
    const env = { PAPERHOUND_INDEX: path.join(tmp, "fresh"), PAPERHOUND_SAMPLE_IF_EMPTY: "1" };
    const r = await runBin([], "/paper equivariance count:2\n\n/more\n/related zzzz qqqq\n/paper x count:40\n/help\n", env);
    expect(r.stderr).toContain("indexing the built-in sample corpus (37 papers)");
    expect(r.code).toBe(0);
    const blocks = r.stdout.split(/\n\n(?=Papers for|Error|paperhound finds)/);
    expect(blocks[0]).toMatch(/^Papers for “equivariance”\n\n1\. .+\n/);
    expect(blocks[0]).toContain("\n2. ");
    expect(blocks[0]).toContain("/more for the next page");
    expect(blocks[1]).toMatch(/^Papers for “equivariance” · page 2\n\n3\. /);
    expect(r.stdout).toContain("Error: No paper in the index matches “zzzz qqqq”.");
    expect(r.stdout).toContain("Error: count must be a whole number from 1 to 10");
    expect(r.stdout).toContain("/related paper:<text> [count] [private]");
  }, 120_000);

  it("`paperhound bot --console` is the same; other subcommands still work", async () => {
    const env = { PAPERHOUND_INDEX: path.join(tmp, "fresh2"), PAPERHOUND_SAMPLE_IF_EMPTY: "1" };
    const r = await runBin(["bot", "--console"], "/paper rotation equivariant point cloud count:1\n", env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Papers for “rotation equivariant point cloud”\n\n1\. /);
    const help = await runBin(["--help"], "", env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("bot [options]");
    expect(help.stdout).toContain("search [options]");
  }, 120_000);

  it("/digest works piped: subscribe, show, preview on channel console:main", async () => {
    const env = { PAPERHOUND_INDEX: path.join(tmp, "fresh3"), PAPERHOUND_SAMPLE_IF_EMPTY: "1" };
    const input = '/digest subscribe topics:"equivariant networks; diffusion models" time:23:59 timezone:Europe/Berlin count:3\n/digest show\n/digest preview\n/digest exclude keywords:survey\n/digest nonsense\n';
    const r = await runBin([], input, env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Daily digest set up: Topics: equivariant networks; diffusion models");
    expect(r.stdout).toContain("Every day at 23:59 (Europe/Berlin), up to 3 papers");
    expect(r.stdout).toContain("Feedback: 0 votes shaped the topic profile");
    expect(r.stdout).toContain("Keywords excluded: Papers with “survey” are left out.");
    expect(r.stdout).toContain("Error: action must be one of subscribe, show, preview, pause, resume, unsubscribe, exclude, follow");
    // The store lives beside the index.
    expect(existsSync(path.join(tmp, "fresh3", "digest.sqlite"))).toBe(true);
  }, 120_000);

  it("no token, no terminal and nothing piped in (a container without its tokens): exit 1 naming the tokens, not a silent exit 0; --console with empty input is a plain exit 0", async () => {
    const env = { PAPERHOUND_INDEX: path.join(tmp, "fresh"), PAPERHOUND_SAMPLE_IF_EMPTY: "1" };
    const r = await runBin(["bot"], "", env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no chat platform to serve: set DISCORD_TOKEN for Discord, or SLACK_BOT_TOKEN/);
    const asked = await runBin(["bot", "--console"], "", env);
    expect(asked.code).toBe(0);
    // A console session's output is its own: no "digest scheduler started" log line (issue 18).
    expect(asked.stderr).not.toContain("digest scheduler started");
  }, 120_000);

  it.each(["SIGTERM", "SIGINT"] as const)("%s stops a console bot cleanly, exit 0 (like the chat adapters), not killed with 143/130", async (signal) => {
    const env = { PAPERHOUND_INDEX: path.join(tmp, "fresh"), PAPERHOUND_SAMPLE_IF_EMPTY: "1" };
    const child = spawn(process.execPath, [BIN, "bot", "--console"], { env: cleanEnv(env), cwd: projectRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, sig) => resolve({ code, signal: sig })));
    // Standard input stays open, as in a container: only the signal ends it.
    child.stdin.write("/help\n");
    for (let i = 0; i < 600 && !stdout.includes("paperhound finds"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain("paperhound finds");
    child.kill(signal);
    const end = await exited;
    expect(end, stderr).toEqual({ code: 0, signal: null });
    expect(stderr).toContain("stopping the console");
  }, 120_000);

  it("an empty user-given index is a one-line error, exit 1", async () => {
    const r = await runBin(["bot", "--index", path.join(tmp, "empty")], "/paper x\n", {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is empty: add papers with `paperhound index/);
  }, 60_000);
});

describe("console adapter in-process", () => {
  it("parses name:value options, quotes and free words", () => {
    expect(splitWords(`a "b c" d:'e f' g`)).toEqual(["a", "b c", "d:e f", "g"]);
    expect(parseLine("/paper sparse attention count:3 since:2021 category:\"cs.CL\" private:yes")).toEqual({
      name: "paper",
      raw: { query: "sparse attention", count: "3", since: "2021", category: "cs.CL", private: "yes" },
    });
    expect(parseLine("/related https://arxiv.org/abs/2101.00001 count:2")).toEqual({ name: "related", raw: { paper: "https://arxiv.org/abs/2101.00001", count: "2" } });
    // page is hidden: "page:3" is just words of the query
    expect(parseLine("/paper page:3")).toEqual({ name: "paper", raw: { query: "page:3" } });
    // A misspelt option, or another command's, is an option (refused with the list), not query words.
    expect(parseLine("/paper transformers sinse:2024")).toEqual({ name: "paper", raw: { query: "transformers", sinse: "2024" } });
    expect(parseLine("/related 2101.00001 since:2024")).toEqual({ name: "related", raw: { paper: "2101.00001", since: "2024" } });
    expect(parseLine("/paper BERT:pretraining at scale")).toEqual({ name: "paper", raw: { query: "BERT:pretraining at scale" } });
    expect(parseLine("not a command")).toBeUndefined();
  });

  it("prints results, paging with /more, errors and private results as text", async () => {
    const state = {};
    const a = await handleLine("/paper sparse attention long documents summarisation count:1 private:true", t.ctx, state);
    expect(a.text.split("\n").slice(0, 4)).toEqual([
      "Papers for “sparse attention long documents summarisation” (only you see this)",
      "",
      "1. Sparse Attention for Long Documents",
      "   A. Smith, B. Jones et al. · 2021-01-04 · cs.CL · score " + a.text.split("score ")[1]!.split("\n")[0],
    ]);
    expect(a.text).toContain("   https://arxiv.org/abs/2101.00001\n");
    expect(a.text).toContain("   PDF: https://arxiv.org/pdf/2101.00001");
    const b = await handleLine("/more", t.ctx, state);
    expect(b.text).toMatch(/^Papers for “sparse attention long documents summarisation” · page 2 \(only you see this\)\n\n2\. /);
    expect((await handleLine("/more", {} as never, {})).text).toBe("Nothing more to show: run /paper or /related first.");
    expect(await handleLine("/quit", t.ctx, {})).toEqual({ text: "", quit: true });
    expect((await handleLine("/nope", t.ctx, {})).text).toBe("Error: There is no command /nope.\n  Type /help to see the commands.");
  });

  it("/digest in-process: preview prints the score parts; the console poster prints a digest", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-console-digest-"));
    const store = DigestStore.open(dir);
    try {
      const ctx = { ...t.ctx, clock: () => new Date("2024-10-01T12:00:00Z"), digest: store, channel: { key: "console:main", canManage: true } };
      expect((await handleLine('/digest subscribe topics:"ping safety for chat bots"', ctx, {})).text).toMatch(/^Daily digest set up: Topics: ping safety for chat bots\n/);
      const preview = await handleLine("/digest preview", { ...ctx, clock: () => new Date("2024-10-02T12:00:00Z") }, {});
      expect(preview.text).toMatch(/^Digest preview · 2024-10-02 · \d+ of \d+ new papers \(only you see this\)/);
      expect(preview.text).toMatch(/Why: topic "ping safety for chat bots" \(\d\.\d\d\).*Score parts: dense/);
      const output = new PassThrough();
      let text = "";
      output.setEncoding("utf8").on("data", (d: string) => (text += d));
      const service = new DigestService(store, t.ctx, { logger: quietLogger(), holder: "console-test", now: () => new Date("2024-10-02T09:30:00Z") });
      service.addPoster("console", consoleDigestPoster(output));
      const report = await service.scheduler.tick();
      expect(report!.posted).toHaveLength(1);
      expect(text).toMatch(/^Daily digest · 2024-10-02 · \d+ papers? · ping safety for chat bots\n\n1\. /);
      expect(text).toContain("   Why: topic \"ping safety for chat bots\"");
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a misspelt option is an error listing the options, and nothing is searched", async () => {
    expect((await handleLine("/paper transformers sinse:2024", t.ctx, {})).text).toBe(
      'Error: /paper has no option "sinse" (options: query, count, since, until, category, author, private)\n  Type /help to see the options.',
    );
  });

  it("/save, /library and /library action:export in the console: the file is printed after its description", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-console-library-"));
    const store = DigestStore.open(dir);
    try {
      const ctx = { ...t.ctx, digest: store, channel: { key: "console:main", canManage: true }, user: "console" };
      expect((await handleLine("/save 2101.00002", ctx, {})).text).toBe("Saved: “Sparse Attention for Long Videos” (2101.00002) is in this channel's library (1 paper).\n  See it with /library; export it with /library action:export.");
      expect((await handleLine("/library", ctx, {})).text).toMatch(/^Library of this channel · 1 paper \(only you see this\)\n\n1\. Sparse Attention for Long Videos\n.* · saved \d{4}-\d\d-\d\d by console\n/);
      const exported = (await handleLine("/library action:export", ctx, {})).text;
      expect(exported).toMatch(/^1 paper of this channel's library as BibTeX \(library\.bib\):\n\n@misc\{\w+2021Sparse,\n\tauthor = \{/);
      expect(exported.endsWith("\tprimaryClass = {cs.CV},\n}")).toBe(true);
      // One paper's entry, as the chat apps' BibTeX menu shows it: printed as is, ready to copy.
      const cited = (await handleLine("/library action:cite paper:2101.00001", ctx, {})).text;
      expect(cited).toMatch(/^BibTeX: “Sparse Attention for Long Documents” \(2101\.00001\)\n\n@misc\{\w+2021Sparse,\n\tauthor = \{(.|\n)*\teprint = \{2101\.00001\},\n(.|\n)*\n\}$/);
      // Import: the console runs beside the index, so file: names a local file.
      const bib = path.join(dir, "refs.bib");
      writeFileSync(bib, "@article{q, title={Quantum Error Correction with Surface Codes}, author={Ng, Kim}, year={2023}}\n");
      expect((await handleLine(`/library action:import file:${bib}`, ctx, {})).text).toMatch(
        /^Imported: “refs\.bib” \(BibTeX, 1 entry\): matched 1 \(arXiv id 0, DOI 0, title 1\); added 1, already there 0, not found 0\.\n {2}See them with \/library;/,
      );
      expect(store.library.entry("console:main", "2309.33333")?.savedBy).toBe("console (import of refs.bib)");
      expect((await handleLine(`/library action:import file:${path.join(dir, "missing.bib")}`, ctx, {})).text).toMatch(/^Error: “missing\.bib” could not be read: .*missing\.bib does not exist\./);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("control characters in paper text never reach the terminal", async () => {
    const out = await handleLine("/paper ping safety", t.ctx, {});
    expect(out.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it("interactive: shows a prompt, answers, and stops at /quit", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = "";
    output.setEncoding("utf8").on("data", (d: string) => (text += d));
    const done = runConsole({ input, output, ctx: t.ctx, interactive: true });
    input.write("/paper quantum error correction count:1\n");
    input.write("/quit\n");
    input.write("/paper never run\n");
    await done;
    expect(text).toContain(PROMPT);
    expect(text).toContain("1. Quantum Error Correction with Surface Codes");
    expect(text).not.toContain("Papers for “never run”");
  });
});
