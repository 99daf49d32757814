/**
 * A fake Discord on 127.0.0.1 for the real discord.js client: one HTTP server that is both the REST
 * API (the client's `rest.api` points at `restUrl`) and the gateway (`GET /gateway/bot` returns the
 * `ws://` URL of the WebSocket endpoint on the same port).
 *
 * Gateway: the real protocol, JSON encoding, no compression: HELLO → IDENTIFY → READY (one
 * unavailable guild) → GUILD_CREATE; heartbeats are ACKed and their times recorded; RESUME replays
 * the dispatches after the client's sequence number, then RESUMED. `dispatch` sends any event;
 * `interaction` builds a full INTERACTION_CREATE (slash command, autocomplete, button, select).
 *
 * REST: every request is recorded (method, decoded path, query, JSON body, time). Interaction
 * callbacks answer 204 with no content type (a second one for the same interaction 400, code 40060,
 * as Discord does); webhook message routes answer message objects (kept
 * per interaction token, so a button press can carry the message it was pressed on). `failNext`
 * makes the next matching request fail (e.g. 429 with retry_after).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/** A call that answers the interaction with this token with a message (see waitForAnswer). */
export function isAnswer(c: RestCall, token: string): boolean {
  if (c.method === "POST" && c.path.endsWith(`/${token}/callback`)) return [4, 7].includes((c.body as { type?: number } | undefined)?.type ?? 0);
  if (c.method === "PATCH") return c.path.endsWith(`/${token}/messages/@original`);
  return c.method === "POST" && c.path.startsWith("/webhooks/") && c.path.endsWith(`/${token}`);
}

/** The interaction token of an interaction or webhook route (/interactions/ID/TOKEN/callback, /webhooks/APP/TOKEN[/...]). */
function tokenOfPath(path: string): string | undefined {
  return /^\/(?:interactions|webhooks)\/[^/]+\/([^/]+)(?:\/|$)/.exec(path)?.[1];
}

export interface RestCall {
  method: string;
  /** Path after /api/v10, %-decoded: /interactions/1/tok/callback, /webhooks/app/tok/messages/@original */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Files of a multipart request (attachments), with their text. */
  files?: { field: string; name: string; text: string }[];
  contentType: string | undefined;
  at: number;
  status: number;
}

export interface Failure {
  match: (method: string, path: string) => boolean;
  status: number;
  retryAfter?: number;
  global?: boolean;
}

type Json = Record<string, unknown>;

export const APP_ID = "111111111111111111";
export const BOT_ID = APP_ID;
export const GUILD_ID = "222222222222222222";
export const CHANNEL_ID = "333333333333333333";
export const USER_ID = "444444444444444444";

let snowflakeCounter = 0n;
/** Increasing snowflakes (timestamp part is now). */
export function snowflake(): string {
  const ms = BigInt(Date.now()) - 1420070400000n;
  snowflakeCounter = (snowflakeCounter + 1n) % 4096n;
  return ((ms << 22n) | snowflakeCounter).toString();
}

const user = (id: string, name: string, bot = false) => ({ id, username: name, discriminator: "0", global_name: name, avatar: null, bot });

export class FakeDiscord {
  readonly calls: RestCall[] = [];
  /** The same calls by the interaction token in their path (interaction and webhook routes). */
  private readonly callsByToken = new Map<string, RestCall[]>();
  /** Heartbeats received: connection number (1, 2, ...) and time (performance.now()). */
  readonly heartbeats: { conn: number; at: number }[] = [];
  private connections = 0;
  readonly identifies: Json[] = [];
  readonly resumes: Json[] = [];
  heartbeatInterval: number;
  private server!: Server;
  private wss!: WebSocketServer;
  private socket: WebSocket | undefined;
  private seq = 0;
  private history: { s: number; t: string; d: unknown }[] = [];
  private sessionId = "fake-session-1";
  private failures: Failure[] = [];
  private messages = new Map<string, Json>();
  /** Interaction ids that got their initial response (a second one is refused with 40060). */
  private readonly acknowledged = new Set<string>();
  /** Files users attached to commands, served as Discord's CDN serves them (GET /attachments/<id>/<name>). */
  private readonly attachments = new Map<string, Buffer>();
  private waiters: { pred: (c: RestCall) => boolean; resolve: (c: RestCall) => void }[] = [];
  private readyWaiters: (() => void)[] = [];
  private connected = false;
  port = 0;

  /** When set, REST calls with another bot token are refused as Discord refuses them (401). */
  private readonly token: string | undefined;

  constructor(opts: { heartbeatInterval?: number; token?: string } = {}) {
    this.heartbeatInterval = opts.heartbeatInterval ?? 41_250;
    this.token = opts.token;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.wss = new WebSocketServer({ server: this.server, path: "/gateway" });
    this.wss.on("connection", (ws) => this.onConnection(ws));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // Gateway

  /** Resolves when a session is READY (now, if one is). */
  ready(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private send(ws: WebSocket, payload: Json): void {
    ws.send(JSON.stringify(payload));
  }

  private onConnection(ws: WebSocket): void {
    const conn = ++this.connections;
    this.send(ws, { op: 10, d: { heartbeat_interval: this.heartbeatInterval }, s: null, t: null });
    ws.on("message", (raw) => {
      let msg: { op: number; d: Json };
      try {
        msg = JSON.parse(String(raw)) as { op: number; d: Json };
      } catch {
        ws.close(4002, "decode error");
        return;
      }
      switch (msg.op) {
        case 1:
          this.heartbeats.push({ conn, at: performance.now() });
          this.send(ws, { op: 11, d: null, s: null, t: null });
          break;
        case 2:
          this.identifies.push(msg.d);
          this.socket = ws;
          this.seq = 0;
          this.history = [];
          this.sessionId = `fake-session-${this.identifies.length}`;
          this.dispatch("READY", {
            v: 10,
            user: { ...user(BOT_ID, "paperhound", true), verified: true, flags: 0, mfa_enabled: false },
            guilds: [{ id: GUILD_ID, unavailable: true }],
            session_id: this.sessionId,
            resume_gateway_url: this.gatewayUrl,
            shard: [0, 1],
            application: { id: APP_ID, flags: 0 },
          });
          this.dispatch("GUILD_CREATE", guildPayload());
          this.markReady();
          break;
        case 6: {
          this.resumes.push(msg.d);
          this.socket = ws;
          const after = Number(msg.d.seq ?? 0);
          if (msg.d.session_id !== this.sessionId) {
            this.send(ws, { op: 9, d: false, s: null, t: null });
            break;
          }
          for (const h of this.history.filter((e) => e.s > after)) this.send(ws, { op: 0, s: h.s, t: h.t, d: h.d });
          this.dispatch("RESUMED", {});
          this.markReady();
          break;
        }
        default:
          break;
      }
    });
    ws.on("close", () => {
      if (this.socket === ws) {
        this.socket = undefined;
        this.connected = false;
      }
    });
  }

  private markReady(): void {
    this.connected = true;
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Sends a dispatch event on the current session (kept for RESUME replay). */
  dispatch(t: string, d: unknown): void {
    const s = ++this.seq;
    this.history.push({ s, t, d });
    if (this.history.length > 1000) this.history.shift();
    if (this.socket) this.send(this.socket, { op: 0, s, t, d });
  }

  /** Closes the gateway connection from the server side (4000: unknown error, resumable). */
  closeGateway(code = 4000): void {
    this.connected = false;
    this.socket?.close(code, "fake close");
  }

  /** Gaps between consecutive heartbeats on the same connection, in ms. */
  heartbeatGaps(): number[] {
    const gaps: number[] = [];
    for (let i = 1; i < this.heartbeats.length; i++) {
      if (this.heartbeats[i]!.conn === this.heartbeats[i - 1]!.conn) gaps.push(this.heartbeats[i]!.at - this.heartbeats[i - 1]!.at);
    }
    return gaps;
  }

  // -------------------------------------------------------------------------------------------
  // Interactions

  private base(type: number, extra: Json): { id: string; token: string; payload: Json } {
    const id = snowflake();
    const token = `tok-${id}`;
    const payload = {
      id,
      application_id: APP_ID,
      type,
      token,
      version: 1,
      guild_id: GUILD_ID,
      channel_id: CHANNEL_ID,
      channel: { id: CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: "papers" },
      member: { user: user(USER_ID, "researcher"), roles: [], permissions: "2248473465835073", joined_at: "2024-01-01T00:00:00.000Z", deaf: false, mute: false, flags: 0 },
      app_permissions: "2248473465835073",
      locale: "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": GUILD_ID },
      context: 0,
      attachment_size_limit: 8388608,
      ...extra,
    };
    return { id, token, payload };
  }

  /** A slash command; option values typed as Discord sends them (3 string, 4 integer, 5 boolean). */
  slashCommand(name: string, options: Record<string, string | number | boolean> = {}, extra: Json = {}): { id: string; token: string } {
    const opts = Object.entries(options).map(([n, value]) => ({
      name: n,
      type: typeof value === "boolean" ? 5 : typeof value === "number" ? 4 : 3,
      value,
    }));
    const { id, token, payload } = this.base(2, { data: { id: commandId(name), name, type: 1, guild_id: GUILD_ID, options: opts }, ...extra });
    this.dispatch("INTERACTION_CREATE", payload);
    return { id, token };
  }

  /**
   * A slash command with a file attached to its attachment option (type 11), as Discord sends it:
   * the option's value is the attachment's id, its details in `data.resolved.attachments`, the file
   * on the CDN (here: this server). `declaredSize` is what Discord would say (default: the real size).
   */
  slashCommandWithFile(
    name: string,
    options: Record<string, string | number | boolean>,
    file: { option: string; name: string; content: Buffer; declaredSize?: number },
  ): { id: string; token: string; url: string } {
    const attachmentId = snowflake();
    const url = `http://127.0.0.1:${this.port}/attachments/${attachmentId}/${encodeURIComponent(file.name)}`;
    this.attachments.set(`/attachments/${attachmentId}/${file.name}`, file.content);
    const opts = [
      ...Object.entries(options).map(([n, value]) => ({ name: n, type: typeof value === "boolean" ? 5 : typeof value === "number" ? 4 : 3, value })),
      { name: file.option, type: 11, value: attachmentId },
    ];
    const attachment = { id: attachmentId, filename: file.name, size: file.declaredSize ?? file.content.length, url, proxy_url: url, content_type: "text/plain; charset=utf-8" };
    const { id, token, payload } = this.base(2, { data: { id: commandId(name), name, type: 1, guild_id: GUILD_ID, options: opts, resolved: { attachments: { [attachmentId]: attachment } } } });
    this.dispatch("INTERACTION_CREATE", payload);
    return { id, token, url };
  }

  autocomplete(name: string, option: string, partial: string, others: Record<string, string | number> = {}): { id: string; token: string } {
    const opts = [
      { name: option, type: 3, value: partial, focused: true },
      ...Object.entries(others).map(([n, value]) => ({ name: n, type: typeof value === "number" ? 4 : 3, value })),
    ];
    const { id, token, payload } = this.base(4, { data: { id: commandId(name), name, type: 1, guild_id: GUILD_ID, options: opts } });
    this.dispatch("INTERACTION_CREATE", payload);
    return { id, token };
  }

  /** A button press or select on the message the bot last sent for `messageToken`'s interaction. */
  component(messageToken: string, customId: string, values?: string[]): { id: string; token: string } {
    const message = this.messages.get(messageToken);
    if (!message) throw new Error(`no message was sent for interaction token ${messageToken}`);
    const data = values ? { custom_id: customId, component_type: 3, values } : { custom_id: customId, component_type: 2 };
    const { id, token, payload } = this.base(3, { data, message });
    this.dispatch("INTERACTION_CREATE", payload);
    return { id, token };
  }

  /** The message the bot's reply to an interaction currently shows. */
  messageFor(token: string): Json | undefined {
    return this.messages.get(token);
  }

  // -------------------------------------------------------------------------------------------
  // REST

  failNext(f: Failure): void {
    this.failures.push(f);
  }

  /** Calls made for one interaction token (its callback and its webhook routes), in order. */
  callsFor(token: string): RestCall[] {
    return [...(this.callsByToken.get(token) ?? [])];
  }

  /**
   * The message that answered an interaction: its reply or update (callback type 4 or 7), the edit
   * of its deferred reply, or a follow-up; `message` is the message's own fields, whichever the route.
   */
  async waitForAnswer(token: string, timeoutMs = 20_000): Promise<{ call: RestCall; message: Json }> {
    const call = await this.waitForTokenCall(token, (c) => c.status < 300 && isAnswer(c, token), timeoutMs);
    const body = (call.body ?? {}) as Json;
    return { call, message: (call.path.endsWith("/callback") ? body.data : body) as Json };
  }

  /** Resolves with the first recorded (unless `lookBack` is false) or future call matching `pred`. */
  waitForCall(pred: (c: RestCall) => boolean, timeoutMs = 20_000, lookBack = true): Promise<RestCall> {
    const done = lookBack ? this.calls.find(pred) : undefined;
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching REST call within ${timeoutMs} ms; calls: ${JSON.stringify(this.calls.map((c) => `${c.method} ${c.path}`))}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      });
    });
  }

  /**
   * `waitForCall` among the calls for one interaction token: what is already recorded is looked up
   * by token rather than scanned (a load of thousands of interactions scanned every call before).
   */
  waitForTokenCall(token: string, pred: (c: RestCall) => boolean, timeoutMs = 20_000): Promise<RestCall> {
    const done = this.callsByToken.get(token)?.find(pred);
    if (done) return Promise.resolve(done);
    return this.waitForCall((c) => tokenOfPath(c.path) === token && pred(c), timeoutMs, false);
  }

  private record(c: RestCall): void {
    this.calls.push(c);
    const token = tokenOfPath(c.path);
    if (token !== undefined) {
      const list = this.callsByToken.get(token);
      if (list) list.push(c);
      else this.callsByToken.set(token, [c]);
    }
    for (const w of [...this.waiters]) {
      if (w.pred(c)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(c);
      }
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const path = decodeURIComponent(url.pathname.replace(/^\/api(\/v\d+)?/, ""));
    const contentType = req.headers["content-type"];
    let body: unknown = text;
    let files: RestCall["files"];
    if (text && contentType?.includes("application/json")) body = JSON.parse(text);
    if (contentType?.startsWith("multipart/form-data")) {
      // Messages with attachments: the JSON payload in payload_json, each file in files[n].
      const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": contentType }, body: Buffer.concat(chunks) }).formData();
      const payload = form.get("payload_json");
      body = typeof payload === "string" ? JSON.parse(payload) : {};
      files = [];
      for (const [field, value] of form.entries()) {
        if (typeof value !== "string") files.push({ field, name: value.name, text: await value.text() });
      }
    }
    const call: RestCall = { method, path, query: Object.fromEntries(url.searchParams), body, contentType, at: performance.now(), status: 0, ...(files ? { files } : {}) };

    const attached = method === "GET" ? this.attachments.get(path) : undefined;
    if (attached) {
      call.status = 200;
      this.record(call);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(attached.length) });
      res.end(attached);
      return;
    }

    if (this.token !== undefined && req.headers.authorization !== `Bot ${this.token}` && !path.startsWith("/interactions/") && !path.startsWith("/webhooks/")) {
      call.status = 401;
      this.record(call);
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "401: Unauthorized", code: 0 }));
      return;
    }

    const failure = this.failures.find((f) => f.match(method, path));
    if (failure) {
      this.failures.splice(this.failures.indexOf(failure), 1);
      call.status = failure.status;
      this.record(call);
      const retryAfter = failure.retryAfter ?? 0.1;
      res.writeHead(failure.status, {
        "content-type": "application/json",
        ...(failure.status === 429
          ? { "retry-after": String(Math.ceil(retryAfter)), "x-ratelimit-scope": failure.global ? "global" : "user", ...(failure.global ? { "x-ratelimit-global": "true" } : {}) }
          : {}),
      });
      res.end(JSON.stringify(failure.status === 429 ? { message: "You are being rate limited.", retry_after: retryAfter, global: failure.global ?? false } : { message: "fake failure", code: 0 }));
      return;
    }

    const [status, response] = this.route(method, path, body as Json);
    call.status = status;
    this.record(call);
    if (status === 204 || response === undefined) {
      res.writeHead(status); // no content type: discord.js must not try to parse a body
      res.end();
      return;
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(response));
  }

  private route(method: string, path: string, body: Json): [number, unknown] {
    let m: RegExpExecArray | null;
    if (method === "GET" && path === "/gateway/bot") {
      return [200, { url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } }];
    }
    if (method === "GET" && path === "/gateway") return [200, { url: this.gatewayUrl }];
    if (method === "GET" && path === "/users/@me") return [200, user(BOT_ID, "paperhound", true)];
    if (method === "GET" && path === "/applications/@me") return [200, { id: APP_ID, name: "paperhound", flags: 0, bot_public: true }];
    if ((m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)) && method === "POST") {
      const token = m[2]!;
      // As Discord: an interaction takes one initial response (a reply, a deferral or an update).
      if (this.acknowledged.has(m[1]!)) return [400, { message: "Interaction has already been acknowledged.", code: 40060 }];
      this.acknowledged.add(m[1]!);
      const type = body.type as number;
      const data = (body.data ?? {}) as Json;
      if (type === 4) this.messages.set(token, this.message(data, token)); // reply with a message
      if (type === 7) this.messages.set(token, { ...(this.messages.get(token) ?? this.message({}, token)), ...data }); // update
      return [204, undefined];
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/.exec(path))) {
      const token = m[2]!;
      if (method === "PATCH") {
        const msg = { ...(this.messages.get(token) ?? this.message({}, token)), ...body, edited_timestamp: new Date().toISOString() };
        delete (msg as Json).allowed_mentions;
        this.messages.set(token, msg);
        return [200, msg];
      }
      if (method === "DELETE") {
        this.messages.delete(token);
        return [204, undefined];
      }
      if (method === "GET") return [200, this.messages.get(token) ?? this.message({}, token)];
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path)) && method === "POST") {
      return [200, this.message(body, m[2]!)];
    }
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path)) && method === "POST") {
      const msg: Json = { ...this.message(body, ""), channel_id: m[1], type: 0, interaction_metadata: undefined, webhook_id: undefined };
      // Buttons on a channel message: fake.component(`channel:<message id>`, customId).
      this.messages.set(`channel:${String(msg.id)}`, msg);
      return [200, msg];
    }
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)) && method === "PUT") {
      const cmds = (body as unknown as Json[]).map((c) => ({ ...c, id: commandId(String(c.name)), application_id: m![1], version: "1", ...(m![2] ? { guild_id: m![2] } : {}) }));
      return [200, cmds];
    }
    return [404, { message: `fake Discord has no route ${method} ${path}`, code: 0 }];
  }

  private message(data: Json, token: string): Json {
    const { allowed_mentions: _ignored, ...rest } = data;
    return {
      id: snowflake(),
      channel_id: CHANNEL_ID,
      guild_id: GUILD_ID,
      author: user(BOT_ID, "paperhound", true),
      content: "",
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      type: 20,
      application_id: APP_ID,
      webhook_id: APP_ID,
      flags: 0,
      interaction_metadata: { id: "0", type: 2, user: user(USER_ID, "researcher"), authorizing_integration_owners: {} },
      ...rest,
      _token: token,
    };
  }
}

const commandIds = new Map<string, string>();
function commandId(name: string): string {
  let id = commandIds.get(name);
  if (!id) commandIds.set(name, (id = snowflake()));
  return id;
}

function guildPayload(): Json {
  return {
    id: GUILD_ID,
    name: "Research Lab",
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: USER_ID,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [{ id: GUILD_ID, name: "@everyone", permissions: "2248473465835073", position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: "en-US",
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: "2024-01-01T00:00:00.000Z",
    large: false,
    unavailable: false,
    member_count: 2,
    voice_states: [],
    members: [],
    channels: [{ id: CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: "papers", position: 0, permission_overwrites: [], nsfw: false, parent_id: null, topic: null, last_message_id: null, rate_limit_per_user: 0 }],
    threads: [],
    presences: [],
    stage_instances: [],
    stickers: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
