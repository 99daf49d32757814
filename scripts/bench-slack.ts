/**
 * npm run bench:slack -- [--index DIR] [--n 200] [--concurrency 20] [--related 0.2] [--warmup 300]
 *
 * The Slack adapter under load: the real bolt App in HTTP mode on 127.0.0.1 receives N signed slash
 * commands with C in flight (/paper with 3-6 words of a random stored title; a share of /related
 * on a random stored paper); the response_urls and the Web API are the fake Slack of the tests
 * (test/helpers/fake-slack.ts). Per command: request → ack (the HTTP response) and request →
 * response_url POST. Errors: acks that are not 200, answers that are error messages, and commands
 * not answered within 30 s. The fake Slack and the load generator run in a worker thread (Slack is
 * another machine; on 2 cores they still compete with the bot for CPU). The bot searches as
 * `paperhound bot` does (SEARCH_THREADS). Prints a table (with the CPU time per command of each
 * thread: which one bounds throughput), then one JSON line.
 */
import os from "node:os";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { botAppContext, openChatRuntime } from "../src/bot/runtime.js";
import { startSlackAdapter } from "../src/chat/slack/adapter.js";
import { createContext } from "../src/app/context.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET, postSigned, slashCommandFields } from "../test/helpers/fake-slack.js";
import { percentile } from "./percentile.js";
import { seededRandom } from "../src/random.js";
import { chatLoadArgs, describeCpuSplit, pickPaperRefs, runTimedLoad, startCpuSplit, startLoadWorker, titleSpan } from "./chat-load.js";

const args = chatLoadArgs("bench:slack");
const N = args.n;
const C = args.concurrency;
const RELATED = args.related;

const rand = seededRandom(12345);

interface LoadResult {
  ackMs: number[];
  resultMs: number[];
  errors: number;
  wallMs: number;
  /** This worker thread's CPU time during the timed commands. */
  cpuMs: number | undefined;
}

/** The worker thread: the fake Slack and the load generator, so that their CPU time is not the bot's. */
async function worker(): Promise<void> {
  const { refs } = workerData as { refs: { id: string; title: string }[] };
  const fake = new FakeSlack();
  await fake.start();
  parentPort!.postMessage({ type: "listening", apiUrl: fake.apiUrl });
  const { url } = (await new Promise((resolve) => parentPort!.once("message", resolve))) as { url: string }; // the app listens
  const res: LoadResult = { ackMs: [], resultMs: [], errors: 0, wallMs: 0, cpuMs: undefined };
  let r = 0;
  const one = async (timed: boolean) => {
    const p = refs[r++ % refs.length]!;
    const id = `bench${r}`;
    let command = "/related";
    let text = `${p.id} --count 5`;
    if (rand() >= RELATED) {
      command = "/paper";
      // A leading "-" would read as a flag.
      text = `${titleSpan(p.title, rand).replace(/^-+/, "") || "learning"} --count 5`;
    }
    const startEpoch = Date.now();
    try {
      const ack = await postSigned(url, slashCommandFields(command, text, fake.responseUrl(id)));
      const answer = await fake.waitFor(() => fake.responsesTo(id)[0], 30_000);
      if (!timed) return;
      res.ackMs.push(ack.ms);
      res.resultMs.push(Math.max(ack.ms, answer.at - startEpoch));
      const first = JSON.stringify(answer.body.blocks ?? []);
      if (ack.status !== 200 || first.includes("That did not work")) res.errors++;
    } catch {
      if (timed) res.errors++;
    }
  };
  for (let i = 0; i < args.warmup; i++) await one(false);
  ({ wallMs: res.wallMs, cpuMs: res.cpuMs } = await runTimedLoad(N, C, () => one(true)));
  parentPort!.postMessage({ type: "done", res });
  await new Promise((resolve) => parentPort!.once("message", resolve)); // the app has stopped
  await fake.stop();
}

async function main(): Promise<void> {
  const cli = botAppContext(createContext());
  const runtime = await openChatRuntime(cli, args.index ? { index: args.index } : {});
  const searchThreads = runtime.ctx.search ? cli.config().searchThreads : 0;
  const store = runtime.ctx.index.store;
  const papers = store.count();
  const refs = pickPaperRefs(store, N + args.warmup, rand);

  const w = startLoadWorker<{ type: string; apiUrl?: string; res?: LoadResult }>("bench:slack", import.meta.url, { refs });
  const { apiUrl } = await w.next("listening");
  const logger = createLogger({ level: "error", format: "json" });
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: apiUrl }, { stderrIsTTY: false });
  const adapter = await startSlackAdapter({ config, ctx: { ...runtime.ctx, logger }, logger, listen: { port: 0, host: "127.0.0.1" } });
  w.post({ url: `http://127.0.0.1:${adapter.port}/slack/events` });
  await w.next("timed");
  const cpu = startCpuSplit();
  const { res } = await w.next("done");
  const { ackMs, resultMs, errors, wallMs } = res!;
  const cpuSplit = cpu.finish(res!.cpuMs, ackMs.length);
  await adapter.stop();
  await w.finish();
  await runtime.close();

  const row = (name: string, xs: number[]) => `${name.padEnd(22)} ${percentile(xs, 50).toFixed(1).padStart(8)} ${percentile(xs, 95).toFixed(1).padStart(8)} ${percentile(xs, 99).toFixed(1).padStart(8)} ms`;
  process.stdout.write(
    `${papers} papers; ${N} slash commands (${args.warmup} before them, not timed), ${C} in flight, ${(N / (wallMs / 1000)).toFixed(0)}/s, errors ${errors}; search threads ${searchThreads}\n`,
  );
  process.stdout.write(`${"".padEnd(22)} ${"p50".padStart(8)} ${"p95".padStart(8)} ${"p99".padStart(8)}\n`);
  process.stdout.write(`${row("request → ack", ackMs)}\n${row("request → respond()", resultMs)}\n`);
  process.stdout.write(`CPU per command: ${describeCpuSplit(cpuSplit)}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: "slack",
      date: new Date().toISOString(),
      papers,
      n: N,
      concurrency: C,
      warmup: args.warmup,
      search_threads: searchThreads,
      ackP50: percentile(ackMs, 50),
      ackP99: percentile(ackMs, 99),
      resultP50: percentile(resultMs, 50),
      resultP99: percentile(resultMs, 99),
      perSecond: N / (wallMs / 1000),
      errors,
      cpu_per_command_ms: cpuSplit,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
    })}\n`,
  );
}

(isMainThread ? main() : worker()).catch((err: unknown) => {
  process.stderr.write(`bench:slack: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
