/**
 * The chat bot (`paperhound bot`): the composition root that opens the index, starts the ops
 * server, the daily digest and the adapters it is configured for. With DISCORD_TOKEN set it connects to Discord, with SLACK_BOT_TOKEN to Slack (both: both, in one
 * process on one index); otherwise it starts the console adapter, where
 * the same commands work on the current index and print text (piped input: one command per line).
 */
import type { AppContext } from "../app/context.js";
import type { IndexOption } from "../app/open-index.js";
import { startBotOps } from "../ops/bot-ops.js";
import { botAppContext, openChatRuntime } from "./runtime.js";
import { DigestService } from "./digest-service.js";
import { DigestIngest } from "../digest/digest-ingest.js";
import { describeJob, MAX_JOB_IDS, runIngestJobInChild } from "../ingest/job.js";
import { ingestFailure } from "../ingest/run.js";
import type { Subscription } from "../digest/digest-store.js";
import type { CommandEvent } from "../../commands/types.js";
import { PaperhoundError } from "../errors.js";

/** `paperhound bot` has no chat platform configured and no console input: nothing to serve. */
export class NoChatPlatformError extends PaperhoundError {
  readonly identifier = "no_chat_platform";
  override readonly name = "NoChatPlatformError";
}

export interface BotOptions extends IndexOption {
  console?: boolean;
}

export async function runBot(cliCtx: AppContext, opts: BotOptions): Promise<void> {
  const ctx = botAppContext(cliCtx);
  const config = ctx.config();
  const useDiscord = config.discordToken !== undefined && !opts.console;
  const runtime = await openChatRuntime(ctx, opts);
  // HEALTH_PORT: /healthz, /readyz (ready once the adapters below have started), /metrics.
  const ops = await startBotOps(config, runtime.ctx.index, ctx.logger()).catch(async (err: unknown) => {
    await runtime.close();
    throw err;
  });
  // The daily digest: digest.sqlite beside the index, a scheduler ticking every minute, one poster per platform.
  // A digest store that cannot be opened (read-only index directory) turns digests off, not the bot.
  let digest: DigestService | undefined;
  // DIGEST_INGEST: the due channels' sources are fetched (ingest jobs, each in a child process)
  // and loaded (refresh) before their digests are decided.
  const ingest = config.digestIngest
    ? new DigestIngest({
        run: async (job) => {
          const report = await runIngestJobInChild(job, { indexDir: runtime.ctx.index.dir, env: ctx.env });
          ctx.logger().info("digest sources fetched", { component: "digest", ingest: describeJob(job), totals: report.totals, failed: report.failed });
          if (!report.dryRun) ops.metrics.papersIngested(report.source, report.totals.new + report.totals.updated);
          return report;
        },
        afterFetch: () => runtime.refresh(),
      })
    : undefined;
  const beforeDeciding = ingest
    ? async (due: Subscription[], today: string) => {
        const report = await ingest.before(due, today);
        for (const f of report.failed) ctx.logger().warn("could not fetch a digest source; the digest uses what the index holds", { component: "digest", ingest: describeJob(f.job), error: f.error });
      }
    : undefined;
  try {
    digest = DigestService.open(runtime.ctx, {
      logger: ctx.logger(),
      ...(beforeDeciding ? { beforeDeciding } : {}),
      onTick: (report) => {
        for (const p of report.posted) ops.metrics.digestPosted(p.channel.split(":")[0]!);
      },
    });
  } catch (err) {
    ctx.logger().warn("daily digests are off: cannot open the digest store in the index directory", { dir: runtime.ctx.index.dir, error: (err as Error).message });
  }
  // One line and one metric per command handled: platform, command, outcome, latency, hits (the query only with LOG_QUERIES).
  const onCommand = (e: CommandEvent) => {
    ops.metrics.command(e.platform, e.command, e.outcome, e.ms / 1000);
    const fields = commandLogFields(e, config.logQueries);
    if (e.platform === "console") ctx.logger().debug("command handled", fields);
    else ctx.logger().info("command handled", fields);
  };
  // /related and /save with an arXiv paper the index lacks: fetched by an ingest job in a child
  // process (as the digest's sources are), then loaded; one fetch at a time (one writer per index).
  let fetching: Promise<unknown> = Promise.resolve();
  const fetchArxiv = (ids: readonly string[]): Promise<void> => {
    const run = fetching.then(async () => {
      try {
        // One job per arXiv API request's worth of ids (an import may name hundreds).
        for (let i = 0; i < ids.length; i += MAX_JOB_IDS) {
          const job = { source: "arxiv-ids" as const, ids: ids.slice(i, i + MAX_JOB_IDS) };
          const report = await runIngestJobInChild(job, { indexDir: runtime.ctx.index.dir, env: ctx.env, timeoutMs: 120_000 });
          ctx.logger().info("papers fetched for a command", { component: "chat", ingest: describeJob(job), totals: report.totals, notes: report.notes });
          const failure = ingestFailure(report);
          if (failure) throw failure;
          if (!report.dryRun) ops.metrics.papersIngested(report.source, report.totals.new + report.totals.updated);
        }
      } finally {
        // What the jobs before a failure stored is loaded all the same.
        await runtime.refresh();
      }
    });
    fetching = run.catch(() => undefined);
    return run;
  };
  const chatCtx = { ...runtime.ctx, onCommand, fetchArxiv, ...(digest ? { digest: digest.store } : {}) };
  // Papers a separate indexer (`paperhound ingest`, the compose file's indexer) adds become searchable without a restart.
  const refresher =
    config.indexRefreshSeconds > 0
      ? setInterval(() => {
          runtime
            .refresh()
            .then((changed) => changed && ops.metrics.indexPapers(runtime.ctx.index.store.paperCountHint()))
            .catch((err: unknown) => ctx.logger().warn("could not load the index's new papers; will try again", { error: (err as Error).message }));
        }, config.indexRefreshSeconds * 1000).unref()
      : undefined;
  // Slack (SLACK_BOT_TOKEN) runs next to Discord, or alone, on the same index and embedder.
  let slack: { stop(): Promise<void> } | undefined;
  try {
    if (config.slackBotToken !== undefined && !opts.console) {
      const { startSlackAdapter } = await import("../chat/slack/adapter.js");
      const { slackDigestPoster } = await import("../chat/slack/digest.js");
      const adapter = await startSlackAdapter({ config, ctx: { ...chatCtx, platform: "slack" }, logger: ctx.logger(), digestAdmins: config.slackDigestAdmins });
      slack = adapter;
      digest?.addPoster("slack", slackDigestPoster(adapter));
    }
    ops.setWaiting([]);
    if (useDiscord) {
      const { runDiscordBot } = await import("../chat/discord/bot.js");
      const { discordDigestPoster } = await import("../chat/discord/digest.js");
      digest?.start();
      await runDiscordBot({
        token: config.discordToken!,
        ctx: { ...chatCtx, platform: "discord" },
        logger: ctx.logger(),
        api: config.discordApiUrl,
        onReady: (bot) => digest?.addPoster("discord", discordDigestPoster(bot.client.rest)),
      });
    } else if (slack) {
      const { waitForStopSignal } = await import("../chat/slack/adapter.js");
      digest?.start();
      await waitForStopSignal(ctx.logger());
    } else {
      const { runConsole } = await import("../chat/console/console-adapter.js");
      const { consoleDigestPoster } = await import("../chat/console/digest.js");
      const stdin = ctx.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
      digest?.addPoster("console", consoleDigestPoster(ctx.stdout));
      // A console session starts with its own output, not a log line (issue 18).
      digest?.start({ quiet: true });
      // SIGTERM/SIGINT stop the console as they stop the chat adapters: the command in progress
      // finishes, the digest and the index close, exit 0.
      const stopping = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        ctx.logger().info("stopping the console", { signal });
        stopping.abort();
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      let lines: number;
      try {
        ({ lines } = await runConsole({
          input: stdin,
          output: ctx.stdout,
          ctx: { ...chatCtx, platform: "console", channel: { key: "console:main", canManage: true }, user: "console" },
          interactive: stdin.isTTY === true,
          signal: stopping.signal,
        }));
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      // No token, no terminal, nothing piped in (a container started without its tokens): exiting 0
      // here would make `restart: unless-stopped` restart it forever without a word.
      if (lines === 0 && !opts.console && !stopping.signal.aborted) {
        throw new NoChatPlatformError(
          "no chat platform to serve: set DISCORD_TOKEN for Discord, or SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP) for Slack; the console needs a terminal or commands on standard input",
        );
      }
    }
  } finally {
    clearInterval(refresher);
    digest?.stop();
    await slack?.stop();
    digest?.close();
    await ops.close();
    await runtime.close();
  }
}

/** Longest option value written to a log line (a query can be up to 1,000 characters, a hostile one much longer). */
const MAX_LOGGED_OPTION_CHARS = 200;

/** The fields of a `command handled` log line; what was asked only when `withQuery` (LOG_QUERIES). */
export function commandLogFields(e: CommandEvent, withQuery: boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = { platform: e.platform, command: e.command, outcome: e.outcome, ms: Math.round(e.ms), hits: e.hits };
  if (withQuery) {
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e.options)) {
      if (v !== undefined) options[k] = typeof v === "string" && v.length > MAX_LOGGED_OPTION_CHARS ? `${v.slice(0, MAX_LOGGED_OPTION_CHARS)}…` : v;
    }
    fields.options = options;
  }
  return fields;
}
