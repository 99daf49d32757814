/**
 * View models → Discord message payloads (raw API JSON: content, embeds, components, flags,
 * allowed_mentions), within every Discord limit and with untrusted text made safe:
 *  - limits: embed title 256, description 4,096, field 1,024, footer 2,048, 10 embeds and 6,000
 *    embed characters per message, content 2,000, 5 buttons per row, 25 select options (label,
 *    value, description 100 each), custom ids 100; text is cut on word boundaries with "…";
 *  - safety: markdown in titles, abstracts, authors and queries is escaped (masked links,
 *    headings and lists included), mention syntax (@everyone, @here, <@id>, <@&id>, <#id>) is broken
 *    with a zero-width space, `allowed_mentions` is empty on every message, and links are only
 *    ever http(s) URLs under fixed labels ("PDF", "Code"), so no link text can spoof a target.
 */
import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APISelectMenuOption,
} from "discord.js";
import type { FileView, HelpView, MessageView, PaperItem, ResultsView, View } from "../../../commands/view.js";
import { errorView, metaOf, truncateWords } from "../../../commands/view.js";
import { paperMenus } from "../../../commands/paper-menus.js";
import { fitEscaped, linkTarget } from "../fit.js";
import { withoutControls } from "../../papers/display.js";

export const LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedDescription: 4096,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  embeds: 10,
  embedTotal: 6000,
  fields: 25,
  buttonsPerRow: 5,
  rows: 5,
  selectOptions: 25,
  selectText: 100,
  customId: 100,
  choices: 25,
  /** Attachments of a bot's message: Discord's smallest upload limit (servers without boosts). */
  attachmentBytes: 8 * 1024 * 1024,
} as const;

export const COLOUR = { results: 0x2f6fdf, error: 0xd9534f, empty: 0x8a8f98, info: 0x5cb85c } as const;

/** custom_id prefixes of the components the bot sends; the token names the stored results. */
export const CUSTOM_ID = { more: "ph:more:", share: "ph:share:", related: "ph:rel:", save: "ph:save:", cite: "ph:cite:" } as const;

/** The payload the adapter sends (a subset of the API's message create/edit body). */
export interface DiscordPayload {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** MessageFlags.Ephemeral for "only you see this". */
  flags: number;
  allowed_mentions: { parse: [] };
  /** Files attached to the message (a library export). */
  files?: { name: string; data: Buffer }[];
}

const ZWSP = "\u200b";

/** Breaks mention syntax so that no text from a paper or a user can ping anyone. */
export function neutraliseMentions(text: string): string {
  return withoutControls(text).replace(/@(everyone|here)/gi, `@${ZWSP}$1`).replace(/<(@[!&]?|#)(?=\d)/g, `<${ZWSP}$1`);
}

/**
 * Markdown escaped and mentions neutralised. Every inline marker (\\ * _ ~ ` | [ ]) gets a
 * backslash wherever it is (so no bold, italics, code, spoilers or masked links), and block markers
 * at a line start (# headings, > quotes, - * + bullets, "1." lists). One linear pass: discord.js's
 * escapeMarkdown gives the same result for paper text through a dozen lookbehind regexes and was
 * the adapter's largest cost in bench:discord.
 */
export function safeText(text: string): string {
  const escaped = withoutControls(text)
    .replace(/[\\*_~`|[\]]/g, "\\$&")
    .replace(/^([ \t]*)(#{1,3}[ \t]|>|-[ \t]|\+[ \t])/gm, "$1\\$2")
    .replace(/^([ \t]*\d+)\.([ \t])/gm, "$1\\.$2");
  return neutraliseMentions(escaped);
}

/** Safe text of at most `max` characters: cut on a word (before escaping) until the escaped form fits. */
export function fitSafe(text: string, max: number): string {
  return fitEscaped(text, max, safeText, "cut");
}

/** An http(s) URL made safe inside a markdown link target, or undefined. */
export function safeUrl(url: string | undefined): string | undefined {
  return linkTarget(url, /[()<>\s]/g, 512);
}

function embedChars(e: APIEmbed): number {
  return (
    (e.title?.length ?? 0) +
    (e.description?.length ?? 0) +
    (e.footer?.text.length ?? 0) +
    (e.author?.name.length ?? 0) +
    (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

export function totalEmbedChars(embeds: readonly APIEmbed[]): number {
  return embeds.reduce((n, e) => n + embedChars(e), 0);
}

function itemEmbed(i: PaperItem, excerptChars: number, titleChars: number): APIEmbed {
  const meta = metaOf(i);
  const links = i.links
    .map((l) => ({ label: l.label, url: safeUrl(l.url) }))
    .filter((l): l is { label: PaperLink["label"]; url: string } => l.url !== undefined)
    .map((l) => `[${l.label}](${l.url})`);
  const parts = [fitSafe(meta.join(" · "), 300)];
  if (i.excerpt && excerptChars > 0) parts.push(fitSafe(i.excerpt, excerptChars));
  if (links.length > 0) parts.push(links.join(" · "));
  const url = safeUrl(i.url);
  return {
    title: `${i.rank}. ${fitSafe(i.title, Math.min(titleChars, LIMITS.embedTitle) - `${i.rank}. `.length)}`,
    ...(url ? { url } : {}),
    description: parts.join("\n").slice(0, LIMITS.embedDescription),
    footer: { text: truncateWords(i.id, 200) },
    color: COLOUR.results,
  };
}
type PaperLink = PaperItem["links"][number];

function button(label: string, customId: string, style: ButtonStyle): APIComponentInMessageActionRow {
  return { type: ComponentType.Button, label, custom_id: customId.slice(0, LIMITS.customId), style } as APIComponentInMessageActionRow;
}

export function resultsPayload(v: ResultsView, token: string | undefined): DiscordPayload {
  const items = v.items.slice(0, LIMITS.embeds);
  // Shrink the excerpts, then the titles, until all embeds fit 6,000 characters together.
  let excerptChars = 300;
  let titleChars: number = LIMITS.embedTitle;
  let embeds = items.map((i) => itemEmbed(i, excerptChars, titleChars));
  while (totalEmbedChars(embeds) > LIMITS.embedTotal) {
    if (excerptChars > 60) excerptChars = Math.floor(excerptChars * 0.8);
    else if (excerptChars > 0) excerptChars = 0;
    else titleChars = Math.max(40, Math.floor(titleChars * 0.8));
    embeds = items.map((i) => itemEmbed(i, excerptChars, titleChars));
    if (excerptChars === 0 && titleChars === 40) break;
  }
  const components: DiscordPayload["components"] = [];
  if (token) {
    const buttons: APIComponentInMessageActionRow[] = [];
    if (v.next) buttons.push(button("More", CUSTOM_ID.more + token, ButtonStyle.Primary));
    if (v.ephemeral) buttons.push(button("Share", CUSTOM_ID.share + token, ButtonStyle.Secondary));
    if (buttons.length > 0) components.push({ type: ComponentType.ActionRow, components: buttons.slice(0, LIMITS.buttonsPerRow) });
    const options: APISelectMenuOption[] = items
      .filter((i) => i.id.length <= LIMITS.selectText)
      .slice(0, LIMITS.selectOptions)
      .map((i) => ({
        // Select menus show plain text (no markdown); mentions are broken all the same.
        label: neutraliseMentions(truncateWords(`${i.rank}. ${i.title.replace(/\s+/g, " ")}`, LIMITS.selectText - 4)),
        value: i.id,
        ...(i.authors ? { description: neutraliseMentions(truncateWords(i.authors, LIMITS.selectText - 4)) } : {}),
      }));
    const menu = (prefix: string, placeholder: string): DiscordPayload["components"][number] => ({
      type: ComponentType.ActionRow,
      components: [{ type: ComponentType.StringSelect, custom_id: (prefix + token).slice(0, LIMITS.customId), placeholder, min_values: 1, max_values: 1, options } as APIComponentInMessageActionRow],
    });
    if (options.length > 0) {
      components.push(menu(CUSTOM_ID.related, "Related papers to…"));
      for (const m of paperMenus(v)) components.push(menu(CUSTOM_ID[m.id], m.label));
    }
  }
  return {
    content: fitSafe(v.header, LIMITS.content),
    embeds,
    components,
    flags: v.ephemeral ? MessageFlags.Ephemeral : 0,
    allowed_mentions: { parse: [] },
  };
}

/** Text shown as it is in a code block of at most `max` characters: no fence inside it, no mention. */
function codeBlock(code: string, max: number): string {
  let body = neutraliseMentions(code).replace(/```/g, "`\u200b``");
  if (body.length > max - 8) body = `${body.slice(0, max - 9)}…`;
  return `\`\`\`\n${body}\n\`\`\``;
}

export function messagePayload(v: MessageView): DiscordPayload {
  const text = fitSafe(v.text, 2000);
  const suggestion = v.suggestion ? fitSafe(v.suggestion, 1500) : "";
  const code = v.code ? codeBlock(v.code, LIMITS.embedDescription - text.length - suggestion.length - 4) : "";
  const description = [text, code, suggestion].filter(Boolean).join("\n\n");
  return {
    content: "",
    embeds: [{ title: fitSafe(v.title, LIMITS.embedTitle), description, color: v.tone === "error" ? COLOUR.error : v.tone === "empty" ? COLOUR.empty : COLOUR.info }],
    components: [],
    flags: v.ephemeral ? MessageFlags.Ephemeral : 0,
    allowed_mentions: { parse: [] },
  };
}

export function helpPayload(v: HelpView): DiscordPayload {
  const fields = v.commands.slice(0, LIMITS.fields).map((c) => ({
    name: fitSafe(c.usage, LIMITS.fieldName),
    value: fitSafe([c.description, ...c.options.map((o) => `${o.name}: ${o.description}`)].join("\n"), LIMITS.fieldValue),
  }));
  return {
    content: "",
    embeds: [{ title: fitSafe(v.title, LIMITS.embedTitle), fields, color: COLOUR.info }],
    components: [],
    flags: v.ephemeral ? MessageFlags.Ephemeral : 0,
    allowed_mentions: { parse: [] },
  };
}

/** A file as an attachment, with its description as the message; one over Discord's limit is not sent. */
export function filePayload(v: FileView): DiscordPayload {
  const data = Buffer.from(v.file.content, "utf8");
  if (data.length > LIMITS.attachmentBytes) {
    return messagePayload(
      errorView(
        `${v.text}: ${(data.length / 1024 / 1024).toFixed(1)} MB, more than Discord takes (${LIMITS.attachmentBytes / 1024 / 1024} MB).`,
        "Ask the operator for `paperhound library export` on the server.",
      ),
    );
  }
  return {
    content: fitSafe(`${v.text}: ${v.file.name}`, LIMITS.content),
    embeds: [],
    components: [],
    flags: v.ephemeral ? MessageFlags.Ephemeral : 0,
    allowed_mentions: { parse: [] },
    files: [{ name: v.file.name, data }],
  };
}

/** The payload of any view; `token` names stored results for their buttons (none: no buttons). */
export function renderDiscord(v: View, token?: string): DiscordPayload {
  switch (v.kind) {
    case "results":
      return resultsPayload(v, token);
    case "message":
      return messagePayload(v);
    case "help":
      return helpPayload(v);
    case "file":
      return filePayload(v);
  }
}
