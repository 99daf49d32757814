/**
 * The Discord adapter: a discord.js gateway client that turns interactions into command calls and
 * views into messages. Transport and rendering only: what a command means lives in commands/.
 *
 *  - Slash commands: options are checked first (a bad value gets an ephemeral error at once), then
 *    the command runs. An answer ready within `deferAfterMs` (a search takes milliseconds) is the
 *    reply itself: one message, one REST call. A slower one is deferred at that moment (Discord
 *    allows 3 seconds for the first response) and the deferred reply is edited with the answer.
 *    Errors and "nothing found" are ephemeral: replied so at once, or, after a public deferral,
 *    the deferral is deleted and the message is sent as an ephemeral follow-up.
 *  - Autocomplete (/related's paper): answered from the store's title lookup, at most 25 choices.
 *  - Buttons and the select menu: More (next page, edited in place), Related (a select menu of the
 *    results: /related on the chosen one), Share (private results posted to the channel).
 *  - Nothing escapes: a failing interaction is logged and answered with an ephemeral error.
 */
import { once } from "node:events";
import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  PermissionFlagsBits,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ClientOptions,
  type Interaction,
  type InteractionEditReplyOptions,
  type InteractionReplyOptions,
  type StringSelectMenuInteraction,
} from "discord.js";
import { recordDigestVote } from "../../../commands/digest.js";
import { findCommand } from "../../../commands/index.js";
import { parseOptions } from "../../../commands/options.js";
import { runCommand } from "../../../commands/run.js";
import { PAPER_MENUS } from "../../../commands/paper-menus.js";
import { answersPrivately, CommandInputError, MAX_CHOICES, type CommandAttachment, type CommandContext, type RawOptions } from "../../../commands/types.js";
import { errorView, internalErrorView, staleButtonView, type ResultsView, type View } from "../../../commands/view.js";
import type { Logger } from "../../log.js";
import { parseVoteId } from "./digest.js";
import { downloadLimited } from "../download.js";
import { CUSTOM_ID, renderDiscord, type DiscordPayload } from "./render.js";
import { ResultsStore } from "./results-store.js";
import { DRAIN_MS, settleWithin } from "../drain.js";
import { PaperhoundError } from "../../errors.js";

export interface DiscordBotOptions {
  ctx: CommandContext;
  logger: Logger;
  /** Extra discord.js client options (tests point `rest.api` at a fake Discord). */
  clientOptions?: Partial<ClientOptions>;
  results?: ResultsStore;
  /**
   * How long an answer may take before the reply is deferred (default DEFER_AFTER_MS); 0 defers
   * before the command runs.
   */
  deferAfterMs?: number;
}

/**
 * A command's answer ready within this is sent as the reply itself; a slower one is deferred then.
 * Discord wants the first response within 3 s of the interaction, network both ways included; a
 * search answers in milliseconds, so deferring first cost a second REST call (and a "thinking…"
 * message) on nearly every command: bench:discord, docs/discord.md "Load".
 */
export const DEFER_AFTER_MS = 1000;

type Repliable = ChatInputCommandInteraction | ButtonInteraction | StringSelectMenuInteraction;

function replyOptions(p: DiscordPayload, ephemeral: boolean): InteractionReplyOptions {
  return {
    content: p.content,
    embeds: p.embeds,
    components: p.components,
    allowedMentions: { parse: [] },
    ...(p.files ? { files: attachments(p) } : {}),
    ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
  } as InteractionReplyOptions;
}

function editOptions(p: DiscordPayload): InteractionEditReplyOptions {
  return { content: p.content, embeds: p.embeds, components: p.components, allowedMentions: { parse: [] }, ...(p.files ? { files: attachments(p) } : {}) } as InteractionEditReplyOptions;
}

function attachments(p: DiscordPayload): { attachment: Buffer; name: string }[] {
  return (p.files ?? []).map((f) => ({ attachment: f.data, name: f.name }));
}

export class DiscordBot {
  readonly client: Client;
  readonly results: ResultsStore;
  /** The command context; a test may swap its index. */
  readonly ctx: CommandContext;
  private readonly logger: Logger;
  /** Interactions being answered: stop() lets them finish (bounded) before it disconnects. */
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private readonly deferAfterMs: number;

  constructor(opts: DiscordBotOptions) {
    this.ctx = opts.ctx;
    this.deferAfterMs = opts.deferAfterMs ?? DEFER_AFTER_MS;
    this.logger = opts.logger.child({ adapter: "discord" });
    this.results = opts.results ?? new ResultsStore();
    this.client = new Client({
      // No privileged intents: slash commands arrive as interactions whatever the intents.
      intents: [GatewayIntentBits.Guilds],
      allowedMentions: { parse: [], repliedUser: false },
      ...opts.clientOptions,
      rest: {
        // Every request this bot makes answers an interaction (callback, or a webhook route with the
        // interaction token), and Discord does not count those against the 50/s global limit that
        // @discordjs/rest applies to all requests by default; with 20 commands in flight that
        // client-side limit was the bottleneck (bench:discord: p50 134 ms → see docs/discord.md, Load).
        // A real global 429 from Discord is still honoured.
        globalRequestsPerSecond: 1000,
        ...opts.clientOptions?.rest,
      },
    });
    this.client.on(Events.InteractionCreate, (i) => {
      const work = this.onInteraction(i);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
    this.client.on(Events.Error, (err) => this.logger.error("discord client error", { err }));
    this.client.on(Events.ShardResume, (shard, replayed) => this.logger.info("gateway session resumed", { shard, replayed }));
    this.client.on(Events.ShardDisconnect, (ev, shard) => this.logger.warn("gateway disconnected", { shard, code: ev.code }));
  }

  /** Logs in and resolves once the client is ready (guilds received). */
  async start(token: string): Promise<void> {
    const ready = once(this.client, Events.ClientReady);
    await this.client.login(token);
    await ready;
    this.logger.info("connected to Discord", { user: this.client.user?.tag, guilds: this.client.guilds.cache.size });
  }

  /**
   * Stops taking commands (new ones are told the bot is restarting), lets those in flight finish
   * for at most `drainMs`, then disconnects.
   */
  async stop(drainMs = DRAIN_MS): Promise<void> {
    this.stopping = true;
    if (this.inFlight.size > 0) {
      const pending = this.inFlight.size;
      if (!(await settleWithin(this.inFlight, drainMs))) this.logger.warn("stopping with interactions still unanswered", { pending: this.inFlight.size, of: pending, waitedMs: drainMs });
    }
    await this.client.destroy();
  }

  private async onInteraction(i: Interaction): Promise<void> {
    const started = performance.now();
    if (this.stopping) {
      if (i.isAutocomplete()) await i.respond([]).catch(() => undefined);
      else if (i.isRepliable()) await i.reply(replyOptions(renderDiscord(errorView("The bot is restarting.", "Try again in a minute.")), true)).catch(() => undefined);
      return;
    }
    try {
      if (i.isAutocomplete()) await this.onAutocomplete(i);
      else if (i.isChatInputCommand()) await this.onCommand(i);
      else if (i.isButton()) await this.onButton(i);
      else if (i.isStringSelectMenu()) await this.onSelect(i);
      this.logger.debug("interaction answered", { type: i.type, ms: Math.round(performance.now() - started) });
    } catch (err) {
      this.logger.error("interaction failed", { type: i.type, id: i.id, err });
      if (i.isRepliable()) await this.sendError(i as Repliable).catch((e: unknown) => this.logger.warn("could not report the failure", { err: e }));
    }
  }

  private async sendError(i: Repliable): Promise<void> {
    const p = renderDiscord(internalErrorView());
    if (i.deferred || i.replied) await i.followUp(replyOptions(p, true));
    else await i.reply(replyOptions(p, true));
  }

  private async onAutocomplete(i: AutocompleteInteraction): Promise<void> {
    const cmd = findCommand(i.commandName);
    const focused = i.options.getFocused(true);
    let choices: { name: string; value: string }[] = [];
    try {
      choices = cmd?.autocomplete?.(focused.name, String(focused.value ?? ""), this.ctx) ?? [];
    } catch (err) {
      this.logger.warn("autocomplete failed", { err });
    }
    await i.respond(choices.slice(0, MAX_CHOICES));
  }

  private async onCommand(i: ChatInputCommandInteraction): Promise<void> {
    const cmd = findCommand(i.commandName);
    if (!cmd) {
      await i.reply(replyOptions(renderDiscord(errorView(`There is no command /${i.commandName}.`, "Type /help to see the commands.")), true));
      return;
    }
    const raw: Record<string, string | number | boolean | undefined> = {};
    for (const o of i.options.data) raw[o.name] = o.value as string | number | boolean | undefined;
    let ephemeral: boolean;
    try {
      const parsed = parseOptions(cmd, raw);
      ephemeral = answersPrivately(cmd, parsed);
    } catch (err) {
      if (!(err instanceof CommandInputError)) throw err;
      await i.reply(replyOptions(renderDiscord(errorView(err.message, "Type /help to see the options.")), true));
      return;
    }
    // A file attached to the command (an import): read only when the command asks, size-limited.
    const fileOption = cmd.options.find((o) => o.type === "attachment");
    const file = fileOption ? i.options.getAttachment(fileOption.name) : null;
    const attachment: CommandAttachment | undefined = file ? { name: file.name, size: file.size, read: (maxBytes) => downloadLimited(file.url, maxBytes) } : undefined;
    await this.answer(i, () => runCommand(cmd.name, raw, { ...this.commandCtx(i), ...(attachment ? { attachment } : {}) }), ephemeral);
  }

  /**
   * Replies with the view `run` makes: as the reply itself when it is ready within deferAfterMs,
   * else through a reply deferred then (public or private as `ephemeral` says) and edited.
   */
  private async answer(i: Repliable, run: () => Promise<View>, ephemeral: boolean): Promise<void> {
    const outcome = await this.readySoon(run, () => i.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {}));
    if (outcome.deferred) return this.deliver(i, await outcome.work, ephemeral);
    const view = outcome.ready;
    await i.reply(replyOptions(renderDiscord(view, view.kind === "results" ? this.results.put(view) : undefined), ephemeral || view.ephemeral));
  }

  /**
   * Starts `run`; its view if it settles within deferAfterMs (a failure is thrown), else calls
   * `defer` and hands back the work still going (0: defers before starting it).
   */
  private async readySoon(run: () => Promise<View>, defer: () => Promise<unknown>): Promise<{ deferred: false; ready: View } | { deferred: true; work: Promise<View> }> {
    if (this.deferAfterMs <= 0) {
      await defer();
      return { deferred: true, work: run() };
    }
    const work = run();
    if (await settleWithin([work], this.deferAfterMs)) return { deferred: false, ready: await work };
    // Handled here: a failure while the deferral is being sent is thrown by the await below.
    work.catch(() => undefined);
    await defer();
    return { deferred: true, work };
  }

  /** The context of a command or button: its channel ("discord:<id>"), manageable with Manage Channels, and who asked. */
  private commandCtx(i: ChatInputCommandInteraction | ButtonInteraction | StringSelectMenuInteraction): CommandContext {
    return {
      ...this.ctx,
      channel: { key: `discord:${i.channelId}`, canManage: i.memberPermissions?.has(PermissionFlagsBits.ManageChannels) === true },
      user: i.user.globalName ?? i.user.username,
    };
  }

  /** Sends a view into a deferred reply: edits it, or (an ephemeral view after a public deferral) replaces it. */
  private async deliver(i: Repliable, view: View, deferredEphemeral: boolean): Promise<void> {
    const payload = renderDiscord(view, view.kind === "results" ? this.results.put(view) : undefined);
    if (view.ephemeral && !deferredEphemeral) {
      await i.deleteReply();
      await i.followUp(replyOptions(payload, true));
    } else {
      await i.editReply(editOptions(payload));
    }
  }

  private stored(i: ButtonInteraction | StringSelectMenuInteraction, prefix: string): ResultsView | undefined {
    return this.results.get(i.customId.slice(prefix.length));
  }

  private async expired(i: ButtonInteraction | StringSelectMenuInteraction): Promise<void> {
    await i.reply(replyOptions(renderDiscord(errorView("These results have expired.", "Run the command again.")), true));
  }

  private async onButton(i: ButtonInteraction): Promise<void> {
    if (i.customId.startsWith(CUSTOM_ID.more)) {
      const view = this.stored(i, CUSTOM_ID.more);
      if (!view?.next) return this.expired(i);
      const { command, options } = view.next;
      // The next page replaces this message (an update); anything else goes to the caller alone.
      const next = await this.readySoon(() => runCommand(command, options as RawOptions, this.commandCtx(i)), () => i.deferUpdate());
      if (!next.deferred) {
        if (next.ready.kind === "results") await i.update(editOptions(renderDiscord(next.ready, this.results.put(next.ready))));
        else await i.reply(replyOptions(renderDiscord(next.ready), true));
        return;
      }
      const later = await next.work;
      if (later.kind === "results") await i.editReply(editOptions(renderDiscord(later, this.results.put(later))));
      else await i.followUp(replyOptions(renderDiscord(later), true));
      return;
    }
    if (i.customId.startsWith(CUSTOM_ID.share)) {
      const view = this.stored(i, CUSTOM_ID.share);
      if (!view) return this.expired(i);
      const shared: ResultsView = {
        ...view,
        ephemeral: false,
        ...(view.next ? { next: { ...view.next, options: { ...view.next.options, private: false } } } : {}),
      };
      await i.reply(replyOptions(renderDiscord(shared, this.results.put(shared)), false));
      return;
    }
    const vote = parseVoteId(i.customId);
    if (vote) return this.onVote(i, vote);
    if (i.customId.startsWith(CUSTOM_ID.save)) {
      // Save under a digest paper: the paper id is in the button itself.
      await this.answer(i, () => runCommand("save", { paper: i.customId.slice(CUSTOM_ID.save.length) }, this.commandCtx(i)), true);
      return;
    }
    await i.reply(replyOptions(renderDiscord(staleButtonView()), true));
  }

  /** 👍 / 👎 on a digest paper: recorded for this channel (one vote per user and paper; pressing again replaces it). */
  private async onVote(i: ButtonInteraction, v: { vote: 1 | -1; paperId: string }): Promise<void> {
    const view = recordDigestVote(this.ctx, { channel: `discord:${i.channelId}`, paperId: v.paperId, user: i.user.id, vote: v.vote });
    await i.reply(replyOptions(renderDiscord(view), true));
  }

  private async onSelect(i: StringSelectMenuInteraction): Promise<void> {
    if (i.customId.startsWith(CUSTOM_ID.save) || i.customId.startsWith(CUSTOM_ID.cite)) {
      // The papers' ids are in the menu itself: no stored results needed.
      const paper = i.values[0];
      if (!paper) return this.expired(i);
      const { command, options } = PAPER_MENUS[i.customId.startsWith(CUSTOM_ID.save) ? "save" : "cite"].call(paper);
      await this.answer(i, () => runCommand(command, options, this.commandCtx(i)), true);
      return;
    }
    if (!i.customId.startsWith(CUSTOM_ID.related)) {
      await i.reply(replyOptions(renderDiscord(errorView("This menu is not one of paperhound's.")), true));
      return;
    }
    const view = this.stored(i, CUSTOM_ID.related);
    const paper = i.values[0];
    if (!view || !paper) return this.expired(i);
    await this.answer(i, () => runCommand("related", { paper, count: view.pageSize, private: view.ephemeral }, this.ctx), view.ephemeral);
  }
}

/** Logging in to Discord failed: the token was refused, or Discord could not be reached. */
export class DiscordLoginError extends PaperhoundError {
  readonly identifier = "discord_login";
  override readonly name = "DiscordLoginError";
}

/** `paperhound bot` with DISCORD_TOKEN: runs until SIGINT or SIGTERM. */
export async function runDiscordBot(opts: { token: string; ctx: CommandContext; logger: Logger; api?: string; onReady?: (bot: DiscordBot) => void }): Promise<void> {
  const bot = new DiscordBot({ ctx: opts.ctx, logger: opts.logger, ...(opts.api ? { clientOptions: { rest: { api: opts.api } } } : {}) });
  try {
    await bot.start(opts.token);
  } catch (err) {
    await bot.stop().catch(() => undefined);
    const detail = err instanceof Error ? err.message : String(err);
    const refused = /token/i.test(detail) || (err as { status?: number }).status === 401;
    throw new DiscordLoginError(
      refused
        ? `Discord refused DISCORD_TOKEN (${detail.replace(/\.$/, "")}); copy the bot token again from the developer portal (your application → Bot → Reset Token)`
        : `could not connect to Discord at ${opts.api ?? "https://discord.com/api"}: ${detail}`,
      { cause: err },
    );
  }
  opts.onReady?.(bot);
  const stop = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const signal = await stop;
  opts.logger.info("stopping the Discord bot", { signal });
  await bot.stop();
}
