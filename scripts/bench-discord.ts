/**
 * npm run bench:discord -- [--index DIR] [--n 200] [--concurrency 20] [--heartbeat 1000] [--related 0.2] [--warmup 300]
 *
 * The Discord adapter under load: the real discord.js client, connected to the fake Discord of the
 * tests (test/helpers/fake-discord.ts) on 127.0.0.1, receives N slash commands with C in flight
 * (/paper with 3-6 words of a random stored title; a share of /related on a random stored paper).
 * Per interaction: time from the INTERACTION_CREATE dispatch to the first response (the reply
 * itself when the answer was ready within the bot's DEFER_AFTER_MS, else the deferral), and to the
 * message that answers (that reply, or the edit or ephemeral follow-up of a deferred one), measured
 * by the fake Discord; how many were deferred. Errors: interactions whose answer is
 * an error message, REST responses ≥ 400, and interactions not answered within 30 s. Heartbeats:
 * the largest delay of a heartbeat past its interval. The fake Discord and the load generator run
 * in a worker thread (Discord is another machine; on 2 cores they still compete with the bot for
 * CPU). Prints a table, then one JSON line.
 */
import { hnswlib } from "../src/search/vectors/hnswlib.js";
import os from "node:os";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { DiscordBot } from "../src/chat/discord/bot.js";
import { botAppContext, openChatRuntime } from "../src/bot/runtime.js";
import { createContext } from "../src/app/context.js";
import { createLogger } from "../src/log.js";
import { FakeDiscord } from "../test/helpers/fake-discord.js";
import { percentile } from "./percentile.js";
import { seededRandom } from "../src/random.js";
import { chatLoadArgs, describeCpuSplit, pickPaperRefs, runTimedLoad, startCpuSplit, startLoadWorker, titleSpan } from "./chat-load.js";

const args = chatLoadArgs("bench:discord");
const N = args.n;
const C = args.concurrency;
const RELATED = args.related;

const rand = seededRandom(12345);

interface LoadResult {
  interactionMs: number[];
  /** Interaction → first response (the reply itself, or its deferral). */
  deferMs: number[];
  /** Interactions answered through a deferral (not ready within the bot's DEFER_AFTER_MS). */
  deferred: number;
  errorViews: number;
  timeouts: number;
  restErrors: number;
  wallMs: number;
  gaps: number[];
  heartbeatInterval: number;
  /** This worker thread's CPU time during the timed interactions. */
  cpuMs: number | undefined;
}

/**
 * The worker thread: the fake Discord and the load generator, so that their CPU time is not the
 * bot's (Discord is another machine). `refs` are the papers to ask about.
 */
async function worker(): Promise<void> {
  const { refs } = workerData as { refs: { id: string; title: string }[] };
  const fake = new FakeDiscord({ heartbeatInterval: args.heartbeat });
  await fake.start();
  parentPort!.postMessage({ type: "listening", restUrl: fake.restUrl });
  await new Promise((resolve) => parentPort!.once("message", resolve)); // the bot is connected
  let r = 0;
  const res: LoadResult = { interactionMs: [], deferMs: [], deferred: 0, errorViews: 0, timeouts: 0, restErrors: 0, wallMs: 0, gaps: [], heartbeatInterval: fake.heartbeatInterval, cpuMs: undefined };
  const one = async (timed: boolean) => {
    const p = refs[r++ % refs.length]!;
    let sent: { token: string };
    const start = performance.now();
    if (rand() < RELATED) sent = fake.slashCommand("related", { paper: p.id, count: 5 });
    else sent = fake.slashCommand("paper", { query: titleSpan(p.title, rand), count: 5 });
    try {
      // The first response (the reply itself, or a deferral), then the message that answers.
      const first = await fake.waitForTokenCall(sent.token, (c) => c.method === "POST" && c.path.endsWith("/callback"), 30_000);
      const final = await fake.waitForAnswer(sent.token, 30_000);
      const message = final.message as { embeds?: { title?: string }[] };
      if (timed) {
        res.deferMs.push(first.at - start);
        res.interactionMs.push(final.call.at - start);
        if (message.embeds?.[0]?.title === "That did not work") res.errorViews++;
        if (final.call !== first) res.deferred++;
      }
    } catch {
      if (timed) res.timeouts++;
    }
  };
  for (let i = 0; i < args.warmup; i++) await one(false);
  const callsBefore = fake.calls.length;
  const hbBefore = fake.heartbeats.length;
  ({ wallMs: res.wallMs, cpuMs: res.cpuMs } = await runTimedLoad(N, C, () => one(true)));
  res.restErrors = fake.calls.slice(callsBefore).filter((c) => c.status >= 400).length;
  // heartbeats during the load (from the one before it started)
  const hb = fake.heartbeats.slice(Math.max(0, hbBefore - 1));
  res.gaps = hb.slice(1).flatMap((h, i) => (h.conn === hb[i]!.conn ? [h.at - hb[i]!.at] : []));
  parentPort!.postMessage({ type: "done", res });
  await new Promise((resolve) => parentPort!.once("message", resolve)); // the bot has stopped
  await fake.stop();
}

async function main(): Promise<void> {
  const cli = botAppContext(createContext());
  const t0 = performance.now();
  const runtime = await openChatRuntime(cli, args.index ? { index: args.index } : {});
  const loadMs = performance.now() - t0;
  const searchThreads = runtime.ctx.search ? cli.config().searchThreads : 0;
  const store = runtime.ctx.index.store;
  const papers = store.count();
  const refs = pickPaperRefs(store, N + args.warmup, rand);

  const w = startLoadWorker<{ type: string; restUrl?: string; res?: LoadResult }>("bench:discord", import.meta.url, { refs });
  const { restUrl } = await w.next("listening");
  const logger = createLogger({ level: "warn", format: "json", stream: process.stderr });
  const bot = new DiscordBot({ ctx: { ...runtime.ctx, logger }, logger, clientOptions: { rest: { api: restUrl! } } });
  await bot.start("bench.token.value-1234567890");
  w.post("go");
  await w.next("timed");
  const cpu = startCpuSplit();
  const { res } = await w.next("done");
  const r = res!;
  const cpuSplit = cpu.finish(r.cpuMs, r.interactionMs.length);
  await bot.stop();
  await w.finish();
  await runtime.close();

  const errors = r.errorViews + r.timeouts + r.restErrors;
  const hbLateMax = r.gaps.length ? Math.max(0, ...r.gaps.map((g) => g - r.heartbeatInterval)) : NaN;
  const { interactionMs, deferMs } = r;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
  const rows = [
    ["papers in index", String(papers)],
    ["index load", `${(loadMs / 1000).toFixed(1)} s`],
    ["search threads (SEARCH_THREADS)", searchThreads === 0 ? "0 (searches on the main thread)" : String(searchThreads)],
    ["vector search (VECTOR_SIMD)", `hnswlib-node ${hnswlib.build} build`],
    ["interactions", `${interactionMs.length} of ${N} (${C} in flight, ${Math.round(RELATED * 100)}% /related; ${args.warmup} before them, not timed)`],
    ["interaction → answer p50 / p95 / p99 / max", `${f(percentile(interactionMs, 50))} / ${f(percentile(interactionMs, 95))} / ${f(percentile(interactionMs, 99))} / ${f(percentile(interactionMs, 100))} ms`],
    ["interaction → first response p50 / p99 / max", `${f(percentile(deferMs, 50))} / ${f(percentile(deferMs, 99))} / ${f(percentile(deferMs, 100))} ms`],
    ["answered through a deferral", `${r.deferred} of ${interactionMs.length}`],
    ["throughput", `${((interactionMs.length / r.wallMs) * 1000).toFixed(0)} interactions/s`],
    ["errors", `${errors} (error views ${r.errorViews}, REST ≥400 ${r.restErrors}, unanswered ${r.timeouts})`],
    ["CPU per interaction", describeCpuSplit(cpuSplit)],
    [`heartbeats (interval ${r.heartbeatInterval} ms)`, `${r.gaps.length} gaps, latest past interval ${f(hbLateMax)} ms`],
  ];
  const width = Math.max(...rows.map((row) => row[0]!.length));
  for (const [k, v] of rows) process.stdout.write(`${k!.padEnd(width)}  ${v}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: "discord",
      date: new Date().toISOString(),
      papers,
      n: N,
      concurrency: C,
      warmup: args.warmup,
      search_threads: searchThreads,
      related_share: RELATED,
      p50_ms: percentile(interactionMs, 50),
      p95_ms: percentile(interactionMs, 95),
      p99_ms: percentile(interactionMs, 99),
      max_ms: percentile(interactionMs, 100),
      defer_p99_ms: percentile(deferMs, 99),
      deferred: r.deferred,
      throughput_per_s: (interactionMs.length / r.wallMs) * 1000,
      errors,
      heartbeat_gaps: r.gaps.length,
      heartbeat_late_max_ms: hbLateMax,
      cpu_per_interaction_ms: cpuSplit,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      node: process.version,
      vector_search_build: hnswlib.build,
    })}\n`,
  );
}

(isMainThread ? main() : worker()).catch((err: unknown) => {
  process.stderr.write(`bench:discord: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
