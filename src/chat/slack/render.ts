/**
 * View models → Slack messages (Block Kit), within Slack's limits and with untrusted text made safe:
 *  - limits: 50 blocks, header 150, section text 3,000, button text 75, action_id 255, value
 *    2,000, url 3,000; the whole message (blocks as JSON) is kept under `MAX_MESSAGE_CHARS`, well
 *    below the ~13,000 characters where Slack answers `msg_blocks_too_long`: excerpts shrink first,
 *    then titles. Text is cut on word boundaries with "…".
 *  - safety: `&`, `<`, `>` are escaped in every mrkdwn text from a paper or a user, so no
 *    `<!channel>`, `<!here>`, `<@U…>` or `<url|spoofed label>` can come from them; plain `@here`,
 *    `@channel`, `@everyone` are broken with a zero-width space as well; link targets are only
 *    http(s) URLs (with `|`, `<`, `>` and spaces percent-encoded) under fixed labels or the title.
 *  - every message has `unfurl_links: false` and `unfurl_media: false`.
 */
import { findCommand } from "../../../commands/index.js";
import type { HelpView, MessageView, PaperItem, ResultsView, View } from "../../../commands/view.js";
import { metaOf, truncateWords } from "../../../commands/view.js";
import { paperMenus } from "../../../commands/paper-menus.js";
import { arxivAbsUrl, isArxivId } from "../../papers/arxiv-id.js";
import type { StoredPaper } from "../../search/types.js";
import { FLAGS } from "./parse.js";
import { fitEscaped, linkTarget } from "../fit.js";
import { withoutControls } from "../../papers/display.js";

export const LIMITS = {
  blocks: 50,
  header: 150,
  sectionText: 3000,
  contextText: 3000,
  buttonText: 75,
  actionId: 255,
  value: 2000,
  url: 3000,
  fallbackText: 3000,
  elementsPerActions: 25,
  /** static_select: option text, option value, placeholder. */
  optionText: 75,
  optionValue: 150,
  placeholder: 150,
} as const;

/** Upper bound of JSON.stringify(blocks).length for one message (Slack rejects ~13,000). */
export const MAX_MESSAGE_CHARS = 11_000;

/** action_id prefixes of the buttons; digest votes are `ph_vote:<up|down>:<rank>`. */
export const ACTION = { more: "ph_more", related: "ph_related", pick: "ph_pick", vote: "ph_vote", save: "ph_save", cite: "ph_cite" } as const;

// ---------------------------------------------------------------------------------------------
// Block Kit types (the subset we send)

export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
  verbatim?: boolean;
}
export interface ButtonElement {
  type: "button";
  text: PlainText;
  action_id: string;
  value?: string;
  url?: string;
  style?: "primary" | "danger";
}
export interface StaticSelectElement {
  type: "static_select";
  placeholder: PlainText;
  action_id: string;
  options: { text: PlainText; value: string }[];
}
export type Block =
  | { type: "header"; text: PlainText }
  | { type: "section"; text: Mrkdwn; accessory?: ButtonElement }
  | { type: "context"; elements: Mrkdwn[] }
  | { type: "actions"; elements: (ButtonElement | StaticSelectElement)[] }
  | { type: "divider" };

export interface SlackMessage {
  /** Notification / fallback text (mrkdwn, escaped). */
  text: string;
  blocks: Block[];
  response_type: "in_channel" | "ephemeral";
  unfurl_links: false;
  unfurl_media: false;
}

// ---------------------------------------------------------------------------------------------
// Safe text

const ZWSP = "\u200b";

/** `&`, `<`, `>` escaped (Slack's three control characters), mass mentions broken, control characters removed. */
export function escapeMrkdwn(text: string): string {
  return withoutControls(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/@(channel|here|everyone)\b/gi, `@${ZWSP}$1`);
}

/** Plain text (header, button labels): not parsed by Slack, but mention syntax is broken all the same. */
export function plainSafe(text: string): string {
  return withoutControls(text)
    .replace(/<(?=[!@#])/g, `<${ZWSP}`)
    .replace(/@(channel|here|everyone)\b/gi, `@${ZWSP}$1`);
}

/** Escaped text of at most `max` characters: cut on a word (before escaping) until the escaped form fits. */
export function fitMrkdwn(text: string, max: number): string {
  return fitEscaped(text, max, escapeMrkdwn, "empty");
}

export function fitPlain(text: string, max: number): string {
  return fitEscaped(text.replace(/\s+/g, " ").trim(), max, plainSafe, "empty");
}

/** An http(s) URL usable as a Slack link target (`|`, `<`, `>` and whitespace percent-encoded), or undefined. */
export function safeUrl(url: string | undefined): string | undefined {
  return linkTarget(url, /[|<>\s]/g, 1000);
}

function link(url: string | undefined, label: string): string {
  const target = safeUrl(url);
  return target ? `<${target}|${label}>` : label;
}

// ---------------------------------------------------------------------------------------------
// Button values: what a button does travels in its value (no server-side state), JSON ≤ 2,000.

/** More: run `command` with these options (the next page). */
export interface MoreValue {
  c: string;
  o: Record<string, string | number | boolean>;
}

/** Related / pick: /related on paper `p` with count `n`, private `x`. */
export interface RelatedValue {
  p: string;
  n: number;
  x: boolean;
}

export function encodeValue(v: MoreValue | RelatedValue): string | undefined {
  const s = JSON.stringify(v);
  return s.length <= LIMITS.value ? s : undefined;
}

function button(text: string, actionId: string, value: string, style?: "primary"): ButtonElement {
  return { type: "button", text: { type: "plain_text", text: fitPlain(text, LIMITS.buttonText), emoji: false }, action_id: actionId.slice(0, LIMITS.actionId), value, ...(style ? { style } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Messages

function message(blocks: Block[], fallback: string, ephemeral: boolean): SlackMessage {
  return {
    text: fitMrkdwn(fallback, LIMITS.fallbackText),
    blocks: blocks.slice(0, LIMITS.blocks),
    response_type: ephemeral ? "ephemeral" : "in_channel",
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** Plain-text only message (no blocks): what is sent when Slack refuses the blocks. */
export function plainMessage(text: string, ephemeral: boolean): SlackMessage {
  return { text: fitMrkdwn(text, LIMITS.fallbackText), blocks: [], response_type: ephemeral ? "ephemeral" : "in_channel", unfurl_links: false, unfurl_media: false };
}

function itemText(i: PaperItem, titleChars: number, excerptChars: number): string {
  const title = link(i.url, fitMrkdwn(`${i.rank}. ${i.title}`, titleChars));
  const meta = fitMrkdwn(metaOf(i).join(" · "), 400);
  const lines = [`*${title}*`, meta];
  if (i.excerpt && excerptChars > 0) {
    const ex = fitMrkdwn(i.excerpt, excerptChars);
    if (ex) lines.push(`>${ex}`);
  }
  const links = i.links
    .map((l) => ({ label: l.label, url: safeUrl(l.url) }))
    .filter((l) => l.url !== undefined)
    .map((l) => `<${l.url!}|${l.label}>`);
  if (links.length > 0) lines.push(links.join(" · "));
  return lines.join("\n").slice(0, LIMITS.sectionText);
}

function resultBlocks(v: ResultsView, titleChars: number, excerptChars: number): Block[] {
  const blocks: Block[] = [{ type: "header", text: { type: "plain_text", text: fitPlain(v.header, LIMITS.header), emoji: false } }];
  for (const i of v.items.slice(0, 10)) {
    const value = encodeValue({ p: i.id, n: v.pageSize, x: v.ephemeral });
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: itemText(i, titleChars, excerptChars), verbatim: true },
      ...(value ? { accessory: button("Related", `${ACTION.related}:${i.rank}`, value) } : {}),
    });
  }
  const more = v.next ? encodeValue({ c: v.next.command, o: v.next.options }) : undefined;
  const first = v.items[0]?.rank ?? 1;
  const last = v.items[v.items.length - 1]?.rank ?? first;
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Results ${first}–${last}${v.next ? "" : " (the last)"} · paperhound`, verbatim: true }] });
  if (more) blocks.push({ type: "actions", elements: [button("More", ACTION.more, more, "primary")] });
  // Save any of these papers to the channel's library (not offered on the library's own list), or show one's BibTeX.
  const options = v.items
    .filter((i) => i.id.length <= LIMITS.optionValue)
    .map((i) => ({ text: { type: "plain_text" as const, text: fitPlain(`${i.rank}. ${i.title}`, LIMITS.optionText), emoji: false }, value: i.id }));
  const menu = (placeholder: string, actionId: string) => ({ type: "static_select" as const, placeholder: { type: "plain_text" as const, text: placeholder, emoji: false }, action_id: actionId, options });
  if (options.length > 0) {
    blocks.push({ type: "actions", elements: paperMenus(v).map((m) => menu(m.label, ACTION[m.id])) });
  }
  return blocks;
}

/** Total size Slack counts against `msg_blocks_too_long` (close enough: the blocks' JSON). */
export function blocksSize(blocks: readonly Block[]): number {
  return JSON.stringify(blocks).length;
}

export function resultsMessage(v: ResultsView): SlackMessage {
  // Shrink the excerpts, then the titles, until the message fits.
  let excerptChars = 300;
  let titleChars = 250;
  let blocks = resultBlocks(v, titleChars, excerptChars);
  while (blocksSize(blocks) > MAX_MESSAGE_CHARS) {
    if (excerptChars > 60) excerptChars = Math.floor(excerptChars * 0.8);
    else if (excerptChars > 0) excerptChars = 0;
    else if (titleChars > 40) titleChars = Math.max(40, Math.floor(titleChars * 0.8));
    else break;
    blocks = resultBlocks(v, titleChars, excerptChars);
  }
  const fallback = [v.header, ...v.items.map((i) => `${i.rank}. ${truncateWords(i.title, 100)}`)].join("\n");
  return message(blocks, fallback, v.ephemeral);
}

const ICON = { error: ":warning:", empty: ":mag:", info: ":information_source:" } as const;

export function messageViewMessage(v: MessageView): SlackMessage {
  const text = `${ICON[v.tone]} *${fitMrkdwn(v.title, 150)}*\n${fitMrkdwn(v.text, 1500)}`;
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text, verbatim: true } }];
  if (v.code) {
    // Shown as it is: only Slack's three control characters escaped, and no fence inside.
    let code = escapeMrkdwn(v.code).replace(/```/g, "`\u200b``");
    if (code.length > LIMITS.sectionText - 7) code = `${code.slice(0, LIMITS.sectionText - 8)}…`;
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `\`\`\`${code}\`\`\``, verbatim: true } });
  }
  if (v.suggestion) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: fitMrkdwn(v.suggestion, 1500), verbatim: true }] });
  return message(blocks, `${v.title}: ${v.text}`, v.ephemeral);
}

/** Slack's help: the flags syntax of `parse.ts`, built from the command definitions. */
export function helpMessage(_v?: HelpView, only?: string): SlackMessage {
  const blocks: Block[] = [{ type: "header", text: { type: "plain_text", text: "paperhound finds research papers", emoji: false } }];
  for (const name of ["paper", "related", "digest"]) {
    if (only && only !== name) continue;
    const cmd = findCommand(name)!;
    const main = cmd.options.find((o) => o.required)!;
    const flags = FLAGS[name]!;
    const usage = `/${name} <${name === "paper" ? "text" : name === "digest" ? "subscribe|show|preview|pause|resume|unsubscribe|exclude|follow" : "arXiv id, URL or title"}>${flags.map((f) => ` [--${f.flag}${f.placeholder ? ` ${f.placeholder}` : ""}]`).join("")}`;
    const lines = [`*${escapeMrkdwn(cmd.description)}*`, `\`${escapeMrkdwn(usage)}\``, `• ${escapeMrkdwn(main.description)}`];
    for (const f of flags) {
      const spec = cmd.options.find((o) => o.name === f.option)!;
      lines.push(`• \`--${f.flag}\`: ${escapeMrkdwn(spec.description)}`);
    }
    blocks.push({ type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, LIMITS.sectionText), verbatim: true } });
  }
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: "Example: `/paper diffusion distillation --since 2024-10-01 --count 5 --category cs.CV` · results are posted in the channel; add `--private` to see them alone.",
        verbatim: true,
      },
    ],
  });
  return message(blocks, "paperhound help: /paper <text> [--since YYYY-MM-DD] [--count N] [--category X] [--private]; /related <arXiv id, URL or title> [--count N] [--private]", true);
}

/** An ephemeral pick list for an ambiguous /related title: one button per close title. */
export function pickListMessage(ref: string, candidates: readonly StoredPaper[], count: number, priv: boolean): SlackMessage {
  const shown = candidates.slice(0, 5);
  const lines = shown.map((p, n) => `${n + 1}. ${link(isArxivId(p.id) ? arxivAbsUrl(p.id) : undefined, fitMrkdwn(p.title.replace(/\s+/g, " ").trim(), 200))} (${escapeMrkdwn(p.id)})`);
  const buttons: ButtonElement[] = [];
  shown.forEach((p, n) => {
    const value = encodeValue({ p: p.id, n: count, x: priv });
    if (value) buttons.push(button(`${n + 1}. ${p.title}`, `${ACTION.pick}:${n + 1}`, value));
  });
  const blocks: Block[] = [
    { type: "section", text: { type: "mrkdwn", text: `Several papers match ${fitMrkdwn(`“${ref}”`, 300)}. Which one?\n${lines.join("\n")}`.slice(0, LIMITS.sectionText), verbatim: true } },
  ];
  if (buttons.length > 0) blocks.push({ type: "actions", elements: buttons });
  return message(blocks, `Several papers match “${truncateWords(ref, 100)}”. Which one?`, true);
}

/** The Slack message of any view. */
export function renderSlack(v: View): SlackMessage {
  switch (v.kind) {
    case "results":
      return resultsMessage(v);
    case "message":
      return messageViewMessage(v);
    case "help":
      return helpMessage(v);
    case "file":
      // The adapter uploads the file to the channel; this tells the caller it is there.
      return messageViewMessage({ kind: "message", tone: "info", title: "Exported", text: `${v.text}: ${v.file.name}, uploaded to this channel.`, ephemeral: v.ephemeral });
  }
}
