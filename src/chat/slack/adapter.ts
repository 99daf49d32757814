/**
 * The Slack adapter: a @slack/bolt App that turns slash commands and button presses into command
 * calls (commands/) and views into Block Kit messages (render.ts). Transport only.
 *
 *  - `/paper` and `/related`: the text is parsed (parse.ts) and the options checked first; help,
 *    unknown flags and bad values are answered in the ack itself (ephemeral). Otherwise `ack()`
 *    comes first, always before searching (Slack's 3-second limit), and the result goes to the
 *    command's `response_url` (`in_channel`, or `ephemeral` with --private; errors and "nothing
 *    found" always ephemeral).
 *  - An ambiguous /related title gets an ephemeral pick list (one button per close title).
 *  - Buttons: More (next page, replacing the message), Related (a new message with /related on that
 *    paper), pick (the chosen paper's /related). What a button does is in its value (JSON), so
 *    buttons keep working across restarts.
 *  - Delivery: the response_url first; when it is refused (used up, expired) or unreachable, the Web
 *    API (chat.postMessage / chat.postEphemeral / chat.update; 429s wait for Retry-After). Blocks
 *    Slack refuses (`invalid_blocks`, `msg_blocks_too_long`) are logged with the payload size and the
 *    user gets the plain-text fallback.
 *  - Socket Mode (SLACK_APP_TOKEN) by default; HTTP mode (SLACK_SIGNING_SECRET, SLACK_PORT, path
 *    /slack/events) when chosen or when no app token is set. Nothing escapes: a failure is logged and
 *    answered with an ephemeral error, and the app keeps running.
 *  - HTTP mode: bolt checks the signature; a request timestamped more than 5 minutes from now, in
 *    either direction, is refused (401) before bolt sees it.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { ListenOptions } from "node:net";
import {
  App,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
  type AppOptions,
  type BlockAction,
  type ButtonAction,
  type StaticSelectAction,
  type SlackActionMiddlewareArgs,
  type SlackCommandMiddlewareArgs,
  type AllMiddlewareArgs,
} from "@slack/bolt";
import { recordDigestVote } from "../../../commands/digest.js";
import { findCommand } from "../../../commands/index.js";
import { parseOptions } from "../../../commands/options.js";
import { runCommand } from "../../../commands/run.js";
import { PAPER_MENUS } from "../../../commands/paper-menus.js";
import { DRAIN_MS, settleWithin } from "../drain.js";
import { slackApiError } from "./api-error.js";
import { answersPrivately, CommandInputError, searcherOf, type CommandAttachment, type CommandContext, type RawOptions } from "../../../commands/types.js";
import { errorView, internalErrorView, staleButtonView, type MessageView, type View } from "../../../commands/view.js";
import { downloadLimited } from "../download.js";
import { ConfigError, type Config } from "../../config.js";
import type { Logger } from "../../log.js";
import { PaperNotFoundError } from "../../search/paper-index.js";
import { FLAGS, parseSlackCommand, TEXT_OPTION } from "./parse.js";
import { ACTION, blocksSize, helpMessage, pickListMessage, plainMessage, renderSlack, type MoreValue, type RelatedValue, type SlackMessage } from "./render.js";
import { PaperhoundError } from "../../errors.js";

export type SlackMode = "socket" | "http";

/** HTTP mode's port and the Web API base when SLACK_PORT / SLACK_API_URL are unset. */
export const DEFAULT_PORT = 3000;
export const DEFAULT_API_URL = "https://slack.com/api/";
/** Slack's window for X-Slack-Request-Timestamp, both ways (bolt itself only refuses old ones). */
export const MAX_REQUEST_SKEW_S = 300;

type WebClient = App["client"];

export interface SlackSettings {
  mode: SlackMode;
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  port: number;
  apiUrl: string;
}

/** The Slack settings of a configuration, checked together; a missing token names its setting. */
export function slackSettings(config: Config): SlackSettings {
  const problems: { name: string; value: string; allowed: string }[] = [];
  if (!config.slackBotToken) problems.push({ name: "SLACK_BOT_TOKEN", value: "", allowed: "a Slack bot token starting with xoxb- (needed to run the Slack app)" });
  const chosen = config.slackMode ?? "auto";
  const mode: SlackMode = chosen === "auto" ? (config.slackAppToken || !config.slackSigningSecret ? "socket" : "http") : chosen;
  if (mode === "socket" && !config.slackAppToken) {
    problems.push({
      name: "SLACK_APP_TOKEN",
      value: "",
      allowed: "an app-level token starting with xapp- for Socket Mode (or set SLACK_SIGNING_SECRET for HTTP mode)",
    });
  }
  if (mode === "http" && !config.slackSigningSecret) problems.push({ name: "SLACK_SIGNING_SECRET", value: "", allowed: "the app's signing secret, for HTTP mode" });
  if (problems.length > 0) throw new ConfigError(problems);
  const apiUrl = config.slackApiUrl ?? DEFAULT_API_URL;
  return {
    mode,
    botToken: config.slackBotToken!,
    ...(config.slackAppToken ? { appToken: config.slackAppToken } : {}),
    ...(config.slackSigningSecret ? { signingSecret: config.slackSigningSecret } : {}),
    port: config.slackPort ?? DEFAULT_PORT,
    apiUrl: apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`,
  };
}

const TOKEN_RE = /\b(xox[a-z]-|xapp-)[\w-]+/gi;

/** Bolt's logger (@slack/logger interface) writing to ours, tokens scrubbed from messages. */
function boltLogger(logger: Logger) {
  let level = LogLevel.INFO;
  const text = (parts: unknown[]) => parts.map((p) => (typeof p === "string" ? p : p instanceof Error ? p.message : JSON.stringify(p))).join(" ").replace(TOKEN_RE, "$1[redacted]");
  return {
    debug: (...m: unknown[]) => logger.debug(text(m)),
    info: (...m: unknown[]) => logger.info(text(m)),
    warn: (...m: unknown[]) => logger.warn(text(m)),
    error: (...m: unknown[]) => logger.error(text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Where a message goes: the response_url, else the Web API on this channel / user. */
interface Target {
  responseUrl?: string;
  channel?: string;
  user?: string;
  /** The message a button was pressed on (for chat.update when the response_url is gone). */
  messageTs?: string;
  ephemeralSource?: boolean;
  client: WebClient;
}

interface Delivery {
  /** Replace the message the button was on. */
  replace?: boolean;
  /** Delete the message the button was on (the pick list) before posting. */
  deleteOriginal?: boolean;
}

/** The app cannot start: Slack refused the token or cannot be reached. The message says which and what to do. */
export class SlackStartError extends PaperhoundError {
  readonly identifier = "slack_start";
  override readonly name = "SlackStartError";
}

class ResponseUrlError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`response_url answered ${status}${body ? ` ${body.slice(0, 100)}` : ""}`);
  }
}

const REFUSED_BLOCKS = new Set(["invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_too_long", "invalid_attachments"]);

function refusedBlocks(err: unknown): string | undefined {
  if (err instanceof ResponseUrlError) {
    const code = err.body.trim().split(/\s/)[0] ?? "";
    if (REFUSED_BLOCKS.has(code)) return code;
    if (err.status === 400 && /block/i.test(err.body)) return err.body.slice(0, 60);
    return undefined;
  }
  const code = slackApiError(err);
  return code !== undefined && REFUSED_BLOCKS.has(code) ? code : undefined;
}

function parseValue<T>(raw: string | undefined, check: (v: Record<string, unknown>) => boolean): T | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) && check(v as Record<string, unknown>) ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Lets requests already waiting be read and acked before a search takes the event loop. */
const yieldToWaitingRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

const isMore = (v: Record<string, unknown>) => (v.c === "paper" || v.c === "related") && typeof v.o === "object" && v.o !== null && !Array.isArray(v.o);
const isRelated = (v: Record<string, unknown>) => typeof v.p === "string" && typeof v.n === "number" && typeof v.x === "boolean";

/** How long after sharing a file `/library import` takes it (Slack slash commands carry no files). */
export const SHARED_FILE_MINUTES = 10;

export interface SlackAdapterOptions {
  config: Config;
  ctx: CommandContext;
  logger: Logger;
  /** HTTP mode: where to listen (default: port SLACK_PORT on all interfaces). */
  listen?: ListenOptions;
  /** Extra bolt App options (tests: `clientOptions`, a receiver). */
  appOptions?: Partial<AppOptions>;
  /** Socket Mode: options of the socket-mode receiver (tests: client ping timeouts). */
  socketOptions?: { clientPingTimeout?: number; serverPingTimeout?: number; autoReconnectEnabled?: boolean };
  /** fetch for response_url posts (default: global fetch). */
  fetch?: typeof globalThis.fetch;
  /** User ids who may change a channel's /digest; undefined: anyone (SLACK_DIGEST_ADMINS). */
  digestAdmins?: readonly string[];
}

export class SlackAdapter {
  readonly app: App;
  readonly settings: SlackSettings;
  /** The command context; a copy, so a test may swap its index. */
  readonly ctx: CommandContext;
  private readonly logger: Logger;
  private readonly fetchFn: typeof globalThis.fetch;
  private server: Server | undefined;
  /** Work started after an ack, so stop() can wait for it. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly opts: SlackAdapterOptions) {
    this.settings = slackSettings(opts.config);
    this.ctx = { ...opts.ctx };
    this.logger = opts.logger.child({ adapter: "slack" });
    this.fetchFn = opts.fetch ?? globalThis.fetch;
    const s = this.settings;
    const logger = boltLogger(this.logger);
    const clientOptions = {
      slackApiUrl: s.apiUrl,
      // A chat answer delivered many minutes late is useless: a few quick retries only (429s still wait for Retry-After).
      retryConfig: { retries: 3, factor: 2, minTimeout: 300, maxTimeout: 3000 },
      ...opts.appOptions?.clientOptions,
    };
    // Initialised in start(): bolt's auth.test of the bot token then fails start() instead of the process.
    const common: AppOptions = { ...opts.appOptions, token: s.botToken, logger: logger as never, clientOptions, deferInitialization: true };
    this.app =
      s.mode === "socket"
        ? new App({
            ...common,
            socketMode: true,
            appToken: s.appToken!,
            receiver: new SocketModeReceiver({
              appToken: s.appToken!,
              logger: logger as never,
              installerOptions: { clientOptions: { slackApiUrl: s.apiUrl } },
              ...opts.socketOptions,
            }),
          })
        : new App({ ...common, receiver: opts.appOptions?.receiver ?? this.httpReceiver(s.signingSecret!, logger) });
    // The commands with Slack flags (parse.ts), which the manifest declares.
    this.app.command(new RegExp(`^/(${Object.keys(FLAGS).join("|")})$`), (args) => this.track(this.onCommand(args)));
    this.app.action(new RegExp(`^${ACTION.more}$`), (args) => this.track(this.onMore(args as never)));
    this.app.action(new RegExp(`^(${ACTION.related}|${ACTION.pick}):\\d+$`), (args) => this.track(this.onRelatedButton(args as never)));
    this.app.action(new RegExp(`^${ACTION.vote}:(up|down):\\d+$`), (args) => this.track(this.onVote(args as never)));
    this.app.action(new RegExp(`^${ACTION.save}(:\\d+)?$`), (args) => this.track(this.onSave(args as never)));
    this.app.action(ACTION.cite, (args) => this.track(this.onSave(args as never)));
    this.app.error(async (err) => {
      this.logger.error("slack app error", { err });
    });
  }

  /** Bolt's HTTP receiver (signature check kept), refusing requests timestamped outside ±MAX_REQUEST_SKEW_S first. */
  private httpReceiver(signingSecret: string, logger: ReturnType<typeof boltLogger>): HTTPReceiver {
    const receiver = new HTTPReceiver({ signingSecret, processBeforeResponse: false, logger: logger as never });
    const listener = receiver.requestListener;
    receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
      const header = req.headers["x-slack-request-timestamp"];
      // Parsed as bolt parses it (Number), so this is the timestamp the signature covers; a missing or
      // unparsable one is bolt's to refuse. Bolt rejects only old ones: a future one could be replayed later.
      const skewS = typeof header === "string" ? Number(header) - Date.now() / 1000 : Number.NaN;
      if (Math.abs(skewS) > MAX_REQUEST_SKEW_S) {
        this.logger.warn("refused a Slack request: timestamp too far from now", { skewS: Math.round(skewS), maxSkewS: MAX_REQUEST_SKEW_S });
        res.writeHead(401);
        res.end();
        return;
      }
      listener(req, res);
    };
    return receiver;
  }

  /** Connects (Socket Mode) or listens (HTTP mode). */
  async start(): Promise<void> {
    try {
      await this.app.init();
    } catch (err) {
      const code = slackApiError(err);
      if (code !== undefined && /^(invalid_auth|not_authed|account_inactive|token_revoked|token_expired)$/.test(code)) {
        throw new SlackStartError(`Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page`);
      }
      throw new SlackStartError(
        `could not reach Slack at ${this.settings.apiUrl} to check SLACK_BOT_TOKEN: ${err instanceof Error ? err.message : String(err)}. Check the network connection (and SLACK_API_URL if set)`,
      );
    }
    if (this.settings.mode === "socket") {
      await this.app.start();
      this.logger.info("connected to Slack (Socket Mode)");
    } else {
      const listen = this.opts.listen ?? { port: this.settings.port };
      this.server = (await this.app.start(listen as never)) as unknown as Server;
      this.logger.info("listening for Slack requests (HTTP mode)", { port: this.port, path: "/slack/events" });
    }
  }

  /** HTTP mode: the port listened on. */
  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? a.port : undefined;
  }

  /** Stops taking requests, lets the commands already acked finish for at most `drainMs`, then returns. */
  async stop(drainMs = DRAIN_MS): Promise<void> {
    await this.app.stop().catch((err: unknown) => this.logger.warn("stopping the Slack app failed", { err }));
    if (this.pending.size === 0) return;
    if (!(await settleWithin(this.pending, drainMs))) this.logger.warn("stopping with commands still unanswered", { pending: this.pending.size, waitedMs: drainMs });
  }

  /** Keeps work after an ack visible to stop(); never rejects. */
  private async track(p: Promise<void>): Promise<void> {
    this.pending.add(p);
    try {
      await p;
    } finally {
      this.pending.delete(p);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Slash commands

  private async onCommand({ command, ack, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
    const started = performance.now();
    const name = command.command.replace(/^\//, "").toLowerCase();
    let raw: RawOptions;
    let ephemeral: boolean;
    try {
      const parsed = parseSlackCommand(name, command.text ?? "");
      if (parsed.kind === "help") {
        await ack(helpMessage(undefined, name) as never);
        return;
      }
      if (parsed.kind === "error") {
        await ack(renderSlack(errorView(parsed.message, `Type /${name} help to see the options.`)) as never);
        return;
      }
      const cmd = findCommand(parsed.name)!;
      const options = parseOptions(cmd, parsed.raw);
      raw = parsed.raw;
      ephemeral = answersPrivately(cmd, options);
    } catch (err) {
      const view = err instanceof CommandInputError ? errorView(`${err.message}.`.replace(/\.\.$/, "."), `Type /${name} help to see the options.`) : internalErrorView();
      if (!(err instanceof CommandInputError)) this.logger.error("slash command failed", { command: name, err });
      await ack(renderSlack(view) as never);
      return;
    }
    await ack();
    this.logger.debug("slash command acked", { command: name, ms: Math.round(performance.now() - started) });
    await yieldToWaitingRequests();
    const target: Target = { responseUrl: command.response_url, channel: command.channel_id, user: command.user_id, client };
    try {
      if (name === "related") {
        const ref = String(raw[TEXT_OPTION.related!] ?? "");
        const candidates = await this.ambiguous(ref);
        if (candidates) {
          const count = typeof raw.count === "string" ? Number(raw.count) : typeof raw.count === "number" ? raw.count : 5;
          await this.deliver(target, pickListMessage(ref, candidates, count, ephemeral), {});
          return;
        }
      }
      const ctx = this.commandCtx(command.channel_id, command.user_id, command.user_name);
      if (name === "library" && raw.action === "import") {
        // A slash command cannot carry a file: the import takes the one the user just shared here.
        const found = await this.sharedFile(client, command.channel_id, command.user_id);
        if ("kind" in found) {
          await this.deliverView(target, found, {});
          return;
        }
        if (found.file) ctx.attachment = found.file;
      }
      await this.deliverView(target, await runCommand(name, raw, ctx), {});
    } catch (err) {
      await this.failed(target, err, { command: name });
    }
    this.logger.debug("slash command answered", { command: name, ms: Math.round(performance.now() - started) });
  }

  /** Papers a /related title might mean, when it names several; undefined when it is not ambiguous. */
  private async ambiguous(ref: string) {
    try {
      await searcherOf(this.ctx).resolvePaper(ref);
      return undefined;
    } catch (err) {
      return err instanceof PaperNotFoundError && err.candidates.length > 1 ? err.candidates : undefined;
    }
  }

  /** A command's context: its channel ("slack:<id>"; changing its digest needs the admin allow-list when one is set) and who asked. */
  /**
   * The newest file `user` shared in `channel` in the last SHARED_FILE_MINUTES (files.list, scope
   * files:read), as an attachment downloaded with the bot token only when the import reads it; or
   * the message saying why it cannot be looked for.
   */
  private async sharedFile(client: WebClient, channel: string, user: string): Promise<{ file?: CommandAttachment } | MessageView> {
    let files;
    try {
      const since = Math.floor(Date.now() / 1000) - SHARED_FILE_MINUTES * 60;
      files = (await client.files.list({ channel, user, ts_from: String(since), count: 1 })).files ?? [];
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      return errorView(
        `Could not look for the file you shared${code ? ` (Slack: ${code})` : ""}.`,
        code === "missing_scope" ? "The app needs the files:read scope: add it from slack-manifest.json and reinstall the app." : "Try again in a moment.",
      );
    }
    const f = files[0];
    if (!f) return {};
    const url = f.url_private_download ?? f.url_private;
    const token = this.settings.botToken;
    return {
      file: {
        name: f.name ?? f.title ?? "shared file",
        size: f.size ?? 0,
        read: (maxBytes) => (url ? downloadLimited(url, maxBytes, { headers: { authorization: `Bearer ${token}` } }) : Promise.reject(new Error("Slack gave no address for the file"))),
      },
    };
  }

  private commandCtx(channel: string | undefined, userId: string, userName: string | undefined): CommandContext {
    const admins = this.opts.digestAdmins;
    return {
      ...this.ctx,
      ...(channel ? { channel: { key: `slack:${channel}`, canManage: admins === undefined || admins.includes(userId) } } : {}),
      user: userName || userId,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Buttons

  private actionTarget(body: BlockAction, client: WebClient): Target {
    return {
      responseUrl: body.response_url,
      ...(body.channel?.id ? { channel: body.channel.id } : {}),
      user: body.user.id,
      ...(body.message?.ts ? { messageTs: body.message.ts as string } : {}),
      ephemeralSource: (body.container as { is_ephemeral?: boolean } | undefined)?.is_ephemeral === true,
      client,
    };
  }

  private async onMore({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> {
    await ack();
    await yieldToWaitingRequests();
    const target = this.actionTarget(body, client);
    try {
      const value = parseValue<MoreValue>(action.value, isMore);
      if (!value) {
        await this.deliverView(target, staleButtonView(), {});
        return;
      }
      const view = await runCommand(value.c, value.o as RawOptions, this.commandCtx(body.channel?.id, body.user.id, body.user.name));
      await this.deliverView(target, view, view.kind === "results" ? { replace: true } : {});
    } catch (err) {
      await this.failed(target, err, { action: action.action_id });
    }
  }

  /**
   * "Save to this channel's library…" under results, or Save under a digest paper: /save with the
   * chosen paper; "BibTeX of…" under results: its entry (/library cite). Answered to the user alone.
   */
  private async onSave({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockAction<StaticSelectAction | ButtonAction>> & AllMiddlewareArgs): Promise<void> {
    await ack();
    await yieldToWaitingRequests();
    const target = this.actionTarget(body, client);
    try {
      const paper = action.type === "button" ? action.value : action.selected_option?.value;
      const ctx = this.commandCtx(body.channel?.id, body.user.id, body.user.name);
      const menu = PAPER_MENUS[action.action_id === ACTION.cite ? "cite" : "save"];
      const call = paper ? menu.call(paper) : undefined;
      const view = call ? await runCommand(call.command, call.options, ctx) : errorView("Choose a paper.", "Pick one from the menu under the results.");
      await this.deliverView(target, view, {});
    } catch (err) {
      await this.failed(target, err, { action: action.action_id });
    }
  }

  private async onRelatedButton({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> {
    await ack();
    await yieldToWaitingRequests();
    const target = this.actionTarget(body, client);
    try {
      const value = parseValue<RelatedValue>(action.value, isRelated);
      if (!value) {
        await this.deliverView(target, staleButtonView(), {});
        return;
      }
      const view = await runCommand("related", { paper: value.p, count: value.n, private: value.x }, this.ctx);
      const fromPick = action.action_id.startsWith(ACTION.pick);
      // A pick list is replaced by the results when they are private; public results are a new channel message.
      const how: Delivery = fromPick && view.kind === "results" ? (view.ephemeral ? { replace: true } : { deleteOriginal: true }) : {};
      await this.deliverView(target, view, how);
    } catch (err) {
      await this.failed(target, err, { action: action.action_id });
    }
  }

  /** 👍 / 👎 on a digest paper (thread of a digest): the user's vote for this channel, answered privately. */
  private async onVote({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> {
    await ack();
    const target = this.actionTarget(body, client);
    try {
      const channel = body.channel?.id;
      if (!channel || !action.value) {
        await this.deliverView(target, errorView("Daily digests are not available here."), {});
        return;
      }
      const vote = action.action_id.startsWith(`${ACTION.vote}:up:`) ? 1 : -1;
      await this.deliverView(target, recordDigestVote(this.ctx, { channel: `slack:${channel}`, paperId: action.value, user: body.user.id, vote }), {});
    } catch (err) {
      await this.failed(target, err, { action: action.action_id });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Delivery

  private async failed(target: Target, err: unknown, fields: Record<string, unknown>): Promise<void> {
    this.logger.error("slack request failed", { ...fields, err });
    await this.deliver(target, renderSlack(internalErrorView()), {}).catch((e: unknown) => this.logger.warn("could not report the failure to the user", { err: e }));
  }

  /** Sends a view; a file (a library export) is uploaded to the channel first, and the message says so. */
  private async deliverView(target: Target, view: View, how: Delivery): Promise<void> {
    if (view.kind === "file") {
      if (!target.channel) throw new Error("no channel to upload the file to");
      await target.client.files.uploadV2({ channel_id: target.channel, file: Buffer.from(view.file.content, "utf8"), filename: view.file.name, title: view.file.name, initial_comment: view.text });
    }
    await this.deliver(target, renderSlack(view), how);
  }

  /** Sends a message; blocks refused by Slack → logged with their size, then the plain-text fallback. */
  private async deliver(target: Target, msg: SlackMessage, how: Delivery): Promise<void> {
    try {
      await this.send(target, msg, how);
    } catch (err) {
      const refused = refusedBlocks(err);
      if (!refused) throw err;
      this.logger.error("Slack refused the message blocks", { error: refused, blocks: msg.blocks.length, chars: blocksSize(msg.blocks), textChars: msg.text.length });
      await this.send(target, plainMessage(msg.text, msg.response_type === "ephemeral"), how);
    }
  }

  private async send(target: Target, msg: SlackMessage, how: Delivery): Promise<void> {
    if (target.responseUrl) {
      try {
        if (how.deleteOriginal) await this.postResponseUrl(target.responseUrl, { delete_original: true });
        await this.postResponseUrl(target.responseUrl, { ...msg, ...(how.replace ? { replace_original: true } : { replace_original: false }) });
        return;
      } catch (err) {
        if (refusedBlocks(err)) throw err;
        this.logger.warn("response_url failed; sending through the Web API", { err });
        // Used up or expired: whatever follows (a fallback text) goes through the Web API too.
        delete target.responseUrl;
      }
    }
    await this.sendWebApi(target, msg, how);
  }

  private async postResponseUrl(url: string, payload: object): Promise<void> {
    const res = await this.fetchFn(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal: AbortSignal.timeout(10_000) });
    const body = await res.text().catch(() => "");
    if (!res.ok) throw new ResponseUrlError(res.status, body);
    // Slack answers 200 "ok"; some errors come back as 200 with {"ok":false,"error":...}.
    if (body.startsWith("{")) {
      const parsed = JSON.parse(body) as { ok?: boolean; error?: string };
      if (parsed.ok === false) throw new ResponseUrlError(400, parsed.error ?? "error");
    }
  }

  private async sendWebApi(target: Target, msg: SlackMessage, how: Delivery): Promise<void> {
    if (!target.channel) throw new Error("no response_url and no channel to post to");
    const { response_type, ...body } = msg;
    if (how.replace && target.messageTs && !target.ephemeralSource) {
      await target.client.chat.update({ channel: target.channel, ts: target.messageTs, text: body.text, blocks: body.blocks as never });
      return;
    }
    if (response_type === "ephemeral") {
      if (!target.user) throw new Error("no user for an ephemeral message");
      await target.client.chat.postEphemeral({ channel: target.channel, user: target.user, text: body.text, blocks: body.blocks as never });
      return;
    }
    await target.client.chat.postMessage({ channel: target.channel, ...body, blocks: body.blocks as never });
  }
}

/** Starts the Slack adapter (Socket Mode or HTTP mode, from the configuration); `stop()` ends it. */
export async function startSlackAdapter(opts: SlackAdapterOptions): Promise<SlackAdapter> {
  const adapter = new SlackAdapter(opts);
  await adapter.start();
  return adapter;
}

/** `paperhound bot` with Slack only: resolves on SIGINT or SIGTERM. */
export async function waitForStopSignal(logger: Logger): Promise<void> {
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  logger.info("stopping the Slack app", { signal });
}
