/**
 * A fake Slack on 127.0.0.1 for the Slack adapter tests, driving the REAL @slack/bolt App:
 *  - the Web API under /api/<method> (auth.test, chat.postMessage, chat.postEphemeral, chat.update,
 *    files.getUploadURLExternal and files.completeUploadExternal with an upload URL here, apps.connections.open), every call recorded; replies can be scripted per method (429 with
 *    Retry-After, `{ok:false,error:"invalid_blocks"}`);
 *  - response_urls under /response/<id>, every POST recorded; replies scriptable per id;
 *  - Slack's side of HTTP mode: slash commands and block_actions POSTed to the app's request URL
 *    with real `X-Slack-Signature` v0 signatures (or a wrong secret, or a stale timestamp);
 *  - Slack's side of Socket Mode: a WebSocket server at the URL apps.connections.open returns, that
 *    sends `hello` and envelopes and records the apps' acks (by envelope_id).
 */
import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const BOT_TOKEN = "xoxb-1234-5678-fakebottoken";
export const APP_TOKEN = "xapp-1-A111-222-fakeapptoken";
export const TEAM_ID = "T0FAKE0001";
export const CHANNEL_ID = "C0FAKE0001";
export const USER_ID = "U0FAKE0001";
export const API_APP_ID = "A0FAKE0001";

export interface ApiCall {
  method: string;
  /** Form fields or JSON body, JSON-valued fields (blocks) parsed. */
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  at: number;
  status: number;
}

export interface ResponseCall {
  id: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** Object: sent as JSON; string: as text. */
  body?: unknown;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes("application/json")) return JSON.parse(raw || "{}") as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    try {
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** Slack's v0 request signature of `body` at `timestamp` (seconds). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface SignedResponse {
  status: number;
  text: string;
  /** ms from sending to the full response (the ack). */
  ms: number;
  json(): unknown;
}

export class FakeSlack {
  readonly apiCalls: ApiCall[] = [];
  readonly responses: ResponseCall[] = [];
  /** The same responses by response_url id: `responsesTo` runs at every request for every waiter, so it must not scan them all. */
  private readonly responsesById = new Map<string, ResponseCall[]>();
  /** File bytes posted to an upload URL that files.getUploadURLExternal handed out (as text). */
  readonly uploads: { fileId: string; body: string }[] = [];
  /** Files users shared in channels (newest last), listed by files.list and served at url_private_download. */
  private readonly shared: { id: string; channel: string; user: string; name: string; content: Buffer; size: number; created: number }[] = [];
  /** Downloads of shared files, with the Authorization header they carried. */
  readonly downloads: { fileId: string; authorization: string | undefined }[] = [];
  private nextFile = 1;
  readonly socketAcks: { envelope_id: string; payload?: unknown; at: number }[] = [];
  private readonly apiScripts = new Map<string, FakeReply[]>();
  private readonly responseScripts = new Map<string, FakeReply[]>();
  private server!: http.Server;
  private wss: WebSocketServer | undefined;
  /** Envelopes whose ack is followed at once by the connection breaking (`dropSocketAfterAck`). */
  private readonly dropAfterAck = new Set<string>();
  /** When connections were broken by `dropSocketAfterAck`. */
  readonly socketDrops: number[] = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters = new Set<() => void>();
  private nextTs = 1_700_000_000;
  connectionsOpened = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on("upgrade", (req, socket, head) => {
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base of the Web API (bolt's `clientOptions.slackApiUrl`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  /** The next replies of a Web API method (then the defaults again). */
  /** A file `user` shares in `channel` now (`size`: what Slack declares; default the real size). */
  shareFile(file: { channel: string; user: string; name: string; content: Buffer; size?: number; created?: number }): string {
    const id = `F0SHARED${String(this.shared.length + 1).padStart(3, "0")}`;
    this.shared.push({ id, channel: file.channel, user: file.user, name: file.name, content: file.content, size: file.size ?? file.content.length, created: file.created ?? Math.floor(Date.now() / 1000) });
    return id;
  }

  scriptApi(method: string, replies: FakeReply[]): void {
    this.apiScripts.set(method, [...replies]);
  }

  /** The next replies of a response_url (then 200 "ok" again). */
  scriptResponse(id: string, replies: FakeReply[]): void {
    this.responseScripts.set(id, [...replies]);
  }

  callsOf(method: string): ApiCall[] {
    return this.apiCalls.filter((c) => c.method === method);
  }

  responsesTo(id: string): ResponseCall[] {
    return [...(this.responsesById.get(id) ?? [])];
  }

  /** Resolves when `check()` returns a value (checked at every recorded request), or fails after `timeoutMs`. */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const first = check();
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error("timed out waiting for fake Slack"));
      }, timeoutMs);
      const waiter = () => {
        const v = check();
        if (v) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(v);
        }
      };
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private defaultApiReply(method: string, body: Record<string, unknown>): FakeReply {
    switch (method) {
      case "auth.test":
        return { body: { ok: true, url: "https://fake.slack.com/", team: "Fake", user: "paperhound", team_id: TEAM_ID, user_id: "U0BOT00001", bot_id: "B0BOT00001" } };
      case "chat.postMessage":
        return { body: { ok: true, channel: body.channel, ts: `${this.nextTs++}.000100`, message: { text: body.text } } };
      case "chat.postEphemeral":
        return { body: { ok: true, message_ts: `${this.nextTs++}.000200` } };
      case "chat.update":
        return { body: { ok: true, channel: body.channel, ts: body.ts } };
      case "files.getUploadURLExternal": {
        const fileId = `F0FAKE${String(this.nextFile++).padStart(4, "0")}`;
        return { body: { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${fileId}`, file_id: fileId } };
      }
      case "files.completeUploadExternal":
        return { body: { ok: true, files: (typeof body.files === "string" ? JSON.parse(body.files) : (body.files ?? [])) as unknown[] } };
      case "files.list": {
        // Newest first, filtered as Slack filters (channel, user, ts_from), `count` of them.
        const from = Number(body.ts_from ?? 0);
        const files = this.shared
          .filter((f) => (!body.channel || f.channel === body.channel) && (!body.user || f.user === body.user) && f.created >= from)
          .reverse()
          .slice(0, Number(body.count ?? 100))
          .map((f) => ({ id: f.id, name: f.name, title: f.name, size: f.size, created: f.created, user: f.user, url_private: `http://127.0.0.1:${this.port}/files/${f.id}/${f.name}`, url_private_download: `http://127.0.0.1:${this.port}/files/${f.id}/download/${f.name}` }));
        return { body: { ok: true, files, paging: { count: files.length, total: files.length, page: 1, pages: 1 } } };
      }
      case "apps.connections.open":
        return { body: { ok: true, url: `ws://127.0.0.1:${this.port}/socket?ticket=${randomBytes(4).toString("hex")}` } };
      default:
        return { body: { ok: false, error: "unknown_method" } };
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    let reply: FakeReply;
    if (url.pathname.startsWith("/api/")) {
      const method = url.pathname.slice("/api/".length);
      const body = parseBody(raw, req.headers["content-type"]);
      if (method === "apps.connections.open") this.connectionsOpened++;
      reply = this.apiScripts.get(method)?.shift() ?? this.defaultApiReply(method, body);
      this.apiCalls.push({ method, body, headers: req.headers, at: Date.now(), status: reply.status ?? 200 });
    } else if (url.pathname.startsWith("/upload/")) {
      // The Web API client posts the file as multipart form data (one file field).
      let body = raw;
      const type = req.headers["content-type"] ?? "";
      if (type.startsWith("multipart/form-data")) {
        const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": type }, body: raw }).formData();
        const file = [...form.values()].find((v): v is File => typeof v !== "string");
        body = file ? await file.text() : "";
      }
      this.uploads.push({ fileId: url.pathname.slice("/upload/".length), body });
      reply = { body: `OK - ${Buffer.byteLength(raw)}` };
    } else if (url.pathname.startsWith("/files/")) {
      // url_private(_download): only with the bot token, as Slack requires.
      const fileId = url.pathname.split("/")[2]!;
      const file = this.shared.find((f) => f.id === fileId);
      this.downloads.push({ fileId, authorization: req.headers.authorization });
      if (!file || req.headers.authorization !== `Bearer ${BOT_TOKEN}`) {
        reply = { status: 404, body: "not found" };
      } else {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(file.content.length) });
        res.end(file.content);
        this.notify();
        return;
      }
    } else if (url.pathname.startsWith("/response/")) {
      const id = url.pathname.slice("/response/".length);
      reply = this.responseScripts.get(id)?.shift() ?? { body: "ok" };
      const response: ResponseCall = { id, body: parseBody(raw, "application/json"), at: Date.now(), status: reply.status ?? 200 };
      this.responses.push(response);
      const forId = this.responsesById.get(id);
      if (forId) forId.push(response);
      else this.responsesById.set(id, [response]);
    } else {
      reply = { status: 404, body: "not found" };
    }
    const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status ?? 200, { "content-type": typeof reply.body === "string" ? "text/plain" : "application/json", ...reply.headers });
    res.end(text);
    this.notify();
  }

  // --- Socket Mode ---------------------------------------------------------------------------

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on("close", () => this.sockets.delete(ws));
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (msg.envelope_id) {
        this.socketAcks.push({ envelope_id: msg.envelope_id, ...(msg.payload !== undefined ? { payload: msg.payload } : {}), at: Date.now() });
        if (this.dropAfterAck.delete(msg.envelope_id)) {
          // The connection breaks right after the ack, while the command is still running.
          this.socketDrops.push(Date.now());
          ws.terminate();
        }
        this.notify();
      }
    });
    ws.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "fake", approximate_connection_time: 3600 }, connection_info: { app_id: API_APP_ID } }));
    this.notify();
  }

  get socketCount(): number {
    return this.sockets.size;
  }

  /** Breaks the connection (no close frame) as soon as the app acks this envelope. */
  dropSocketAfterAck(envelopeId: string): void {
    this.dropAfterAck.add(envelopeId);
  }

  /** Sends a slash command envelope over every open socket; returns its envelope_id. */
  sendSlashCommandEnvelope(payload: Record<string, string>): string {
    const envelope_id = randomBytes(8).toString("hex");
    const msg = JSON.stringify({ envelope_id, type: "slash_commands", payload, accepts_response_payload: true });
    for (const ws of this.sockets) ws.send(msg);
    return envelope_id;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// --- What Slack sends in HTTP mode --------------------------------------------------------------

let seq = 0;

/** The form fields of a slash command, as Slack sends them. */
export function slashCommandFields(command: string, text: string, responseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  seq++;
  return {
    token: "deprecated-verification-token",
    team_id: TEAM_ID,
    team_domain: "fake",
    channel_id: CHANNEL_ID,
    channel_name: "papers",
    user_id: USER_ID,
    user_name: "alice",
    command,
    text,
    api_app_id: API_APP_ID,
    is_enterprise_install: "false",
    response_url: responseUrl,
    trigger_id: `${seq}.1234.abcdef`,
    ...extra,
  };
}

/** A block_actions payload for a button press on a message the app sent. */
/** A block_actions payload of a static_select choice (the results' Save menu). */
export function selectPayload(opts: { actionId: string; value: string; responseUrl: string; ephemeral?: boolean }): Record<string, unknown> {
  const payload = buttonPayload({ ...opts });
  return {
    ...payload,
    actions: [
      {
        type: "static_select",
        action_id: opts.actionId,
        block_id: "b2",
        selected_option: { text: { type: "plain_text", text: opts.value, emoji: false }, value: opts.value },
        placeholder: { type: "plain_text", text: "Save to this channel's library…", emoji: false },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

export function buttonPayload(opts: { actionId: string; value: string; responseUrl: string; ephemeral?: boolean; messageTs?: string; blockId?: string }): Record<string, unknown> {
  return {
    type: "block_actions",
    user: { id: USER_ID, username: "alice", name: "alice", team_id: TEAM_ID },
    api_app_id: API_APP_ID,
    token: "deprecated-verification-token",
    container: { type: "message", message_ts: opts.messageTs ?? "1700000000.000100", channel_id: CHANNEL_ID, is_ephemeral: opts.ephemeral ?? false },
    trigger_id: `${++seq}.1234.abcdef`,
    team: { id: TEAM_ID, domain: "fake" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: CHANNEL_ID, name: "papers" },
    ...(opts.ephemeral ? {} : { message: { type: "message", ts: opts.messageTs ?? "1700000000.000100", text: "results", user: "U0BOT00001" } }),
    response_url: opts.responseUrl,
    actions: [
      {
        type: "button",
        action_id: opts.actionId,
        block_id: opts.blockId ?? "b1",
        text: { type: "plain_text", text: "button", emoji: false },
        value: opts.value,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** POSTs a form body to the app's request URL, signed with `secret` at `timestamp` (default now). */
export async function postSigned(url: string, fields: Record<string, string>, opts: { secret?: string; timestamp?: number } = {}): Promise<SignedResponse> {
  const body = new URLSearchParams(fields).toString();
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": sign(opts.secret ?? SIGNING_SECRET, ts, body),
    },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  return { status: res.status, text, ms, json: () => JSON.parse(text) };
}
