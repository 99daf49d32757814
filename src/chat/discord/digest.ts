/**
 * A decided digest as Discord messages: a headline (date, number of papers, the channel's topics)
 * and one embed per paper (title link, authors, why it matched, links) with a 👍 / 👎 / Save button row,
 * 5 papers (5 rows) and 6,000 embed characters per message, so a long digest is several messages. Paper text is escaped and mentions
 * neutralised as everywhere else; allowed_mentions is empty.
 */
import { ButtonStyle, ComponentType, Routes, type APIActionRowComponent, type APIComponentInMessageActionRow, type APIEmbed, type REST } from "discord.js";
import { digestView } from "../../../commands/digest.js";
import { truncateWords, type DigestItemView } from "../../../commands/view.js";
import type { DigestPoster } from "../../digest/digest-runner.js";
import type { DecidedDigest, Subscription } from "../../digest/digest-store.js";
import { COLOUR, CUSTOM_ID, fitSafe, LIMITS, safeUrl, totalEmbedChars } from "./render.js";

export interface DigestMessage {
  content: string;
  embeds: APIEmbed[];
  /** One row per paper: 👍 / 👎 (votes shape the channel's next digests) and Save (to the channel's library). */
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  allowed_mentions: { parse: [] };
}

/** custom_id of a vote button: ph:vote:<1|-1>:<paper id>. */
export const VOTE_ID = "ph:vote:";
/** Papers per message: one button row each, and Discord allows 5 rows. */
const PAPERS_PER_MESSAGE = 5;

function voteRow(item: DigestItemView): APIActionRowComponent<APIComponentInMessageActionRow> | undefined {
  const up = `${VOTE_ID}1:${item.paperId}`;
  if (up.length + 1 > LIMITS.customId) return undefined;
  const button = (label: string, customId: string) => ({ type: ComponentType.Button, style: ButtonStyle.Secondary, label, custom_id: customId }) as APIComponentInMessageActionRow;
  const components = [button(`👍 ${item.rank}`, `${VOTE_ID}1:${item.paperId}`), button(`👎 ${item.rank}`, `${VOTE_ID}-1:${item.paperId}`)];
  if (CUSTOM_ID.save.length + item.paperId.length <= LIMITS.customId) components.push(button(`Save ${item.rank}`, `${CUSTOM_ID.save}${item.paperId}`));
  return { type: ComponentType.ActionRow, components };
}

/** The vote and paper of a vote button's custom_id, or undefined. */
export function parseVoteId(customId: string): { vote: 1 | -1; paperId: string } | undefined {
  const m = /^ph:vote:(1|-1):(.+)$/.exec(customId);
  return m ? { vote: m[1] === "1" ? 1 : -1, paperId: m[2]! } : undefined;
}

function itemEmbed(item: DigestItemView): APIEmbed {
  const url = safeUrl(item.url);
  const pdf = safeUrl(item.pdfUrl);
  const lines = [fitSafe(item.authors, 300), fitSafe(item.why, 500)];
  if (pdf) lines.push(`[PDF](${pdf})`);
  const rank = item.rank;
  return {
    title: `${rank}. ${fitSafe(item.title, LIMITS.embedTitle - `${rank}. `.length)}`,
    ...(url ? { url } : {}),
    description: lines.filter(Boolean).join("\n"),
    footer: { text: truncateWords(item.paperId, 200) },
    color: COLOUR.results,
  };
}

/** The messages of a digest, in order: the first has the headline; each within Discord's limits. */
export function digestMessages(digest: DecidedDigest, sub: Pick<Subscription, "topics">): DigestMessage[] {
  const view = digestView(digest, sub);
  const headline = fitSafe(view.headline, LIMITS.content);
  const messages: DigestMessage[] = [{ content: headline, embeds: [], components: [], allowed_mentions: { parse: [] } }];
  view.items.forEach((item) => {
    const embed = itemEmbed(item);
    let last = messages.at(-1)!;
    if (last.embeds.length >= PAPERS_PER_MESSAGE || totalEmbedChars([...last.embeds, embed]) > LIMITS.embedTotal) {
      last = { content: "", embeds: [], components: [], allowed_mentions: { parse: [] } };
      messages.push(last);
    }
    last.embeds.push(embed);
    const row = voteRow(item);
    if (row) last.components.push(row);
  });
  return messages;
}

/**
 * Posts digests of "discord:<channel id>" channels through the bot's REST client. The first
 * message carries a nonce from the digest's idempotency key with enforce_nonce, so a retry shortly
 * after a crash is deduplicated by Discord itself. Returns the first message's id.
 */
export function discordDigestPoster(rest: REST): DigestPoster {
  return async (digest, sub, progress) => {
    const channelId = digest.channel.replace(/^discord:/, "");
    // After a crash: messages already accepted (saved progress) are not posted again; a nonce on
    // each message lets Discord itself drop a repeat of the one in flight (within minutes).
    const done = progress.saved;
    let first = done?.ref;
    const messages = digestMessages(digest, sub);
    for (let n = done?.sent ?? 0; n < messages.length; n++) {
      const body = { ...messages[n]!, nonce: `ph${digest.id}.${n}`.slice(0, 25), enforce_nonce: true };
      const sent = (await rest.post(Routes.channelMessages(channelId), { body })) as { id: string };
      first ??= sent.id;
      progress.save({ ref: first!, sent: n + 1 });
    }
    return `discord:${channelId}/${first}`;
  };
}
