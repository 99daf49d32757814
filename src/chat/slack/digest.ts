/**
 * A decided digest in Slack: the headline (date, number of papers, topics) as a channel message,
 * and the ranked papers in its thread (chat.postMessage with thread_ts), each with 👍 / 👎 buttons
 * (votes shape the channel's next digests), in as many thread replies as Block Kit's limits need. Paper text is escaped; links are http(s) only.
 */
import { digestView } from "../../../commands/digest.js";
import type { DigestItemView } from "../../../commands/view.js";
import type { DigestPoster, PostProgress } from "../../digest/digest-runner.js";
import type { DecidedDigest, Subscription } from "../../digest/digest-store.js";
import { ACTION, fitMrkdwn, LIMITS, MAX_MESSAGE_CHARS, safeUrl, blocksSize, type Block } from "./render.js";
import type { SlackAdapter } from "./adapter.js";
import { slackApiError } from "./api-error.js";

function itemText(item: DigestItemView): string {
  const url = safeUrl(item.url);
  const title = fitMrkdwn(item.title, 250);
  const head = `*${item.rank}. ${url ? `<${url}|${title}>` : title}*`;
  return [head, fitMrkdwn(item.authors, 300), `_${fitMrkdwn(item.why, 500)}_`].filter(Boolean).join("\n").slice(0, LIMITS.sectionText);
}

/** The headline message and the thread replies (each within the blocks limits). */
export function digestSlackMessages(digest: DecidedDigest, sub: Pick<Subscription, "topics">): { headline: string; thread: { text: string; blocks: Block[] }[] } {
  const view = digestView(digest, sub);
  const headline = fitMrkdwn(view.headline, LIMITS.fallbackText);
  const thread: { text: string; blocks: Block[] }[] = [];
  view.items.forEach((item) => {
    const n = item.rank - 1;
    const item_blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text: itemText(item), verbatim: true } }];
    // 👍 / 👎 and Save per paper (the value is the paper id; Slack allows 2,000 characters).
    if (item.paperId.length <= LIMITS.value) {
      const button = (label: string, vote: "up" | "down") => ({ type: "button" as const, text: { type: "plain_text" as const, text: label, emoji: true }, action_id: `${ACTION.vote}:${vote}:${n + 1}`, value: item.paperId });
      const save = { type: "button" as const, text: { type: "plain_text" as const, text: `Save ${n + 1}`, emoji: false }, action_id: `${ACTION.save}:${n + 1}`, value: item.paperId };
      item_blocks.push({ type: "actions", elements: [button(`👍 ${n + 1}`, "up"), button(`👎 ${n + 1}`, "down"), save] });
    }
    let last = thread.at(-1);
    if (!last || last.blocks.length + item_blocks.length > LIMITS.blocks || blocksSize([...last.blocks, ...item_blocks]) > MAX_MESSAGE_CHARS) {
      last = { text: "", blocks: [] };
      thread.push(last);
    }
    last.blocks.push(...item_blocks);
  });
  for (const m of thread) m.text = fitMrkdwn(`${digest.items.length} papers of the ${digest.windowEnd} digest`, LIMITS.fallbackText);
  return { headline, thread };
}

/** Slack errors that say the app cannot post in the channel; the operator or the channel has to act. */
const CANNOT_POST_HERE: Record<string, string> = {
  not_in_channel: "the app is not a member of this channel: invite it with /invite @paperhound (needed in private channels; public ones need the chat:write.public scope of slack-manifest.json)",
  channel_not_found: "the channel does not exist or the app cannot see it (a private channel it was not invited to): invite it with /invite @paperhound, or unsubscribe the channel",
  is_archived: "the channel is archived: unarchive it, or unsubscribe it",
  restricted_action: "the workspace does not let the app post in this channel",
  missing_scope: "the app lacks a scope it needs: reinstall it from slack-manifest.json (scopes commands, chat:write, chat:write.public)",
};

/** Posts digests of "slack:<channel id>" channels with the adapter's Web API client; returns "slack:<channel>/<ts>". */
export function slackDigestPoster(adapter: SlackAdapter): DigestPoster {
  return async (digest, sub, progress) => {
    const channel = digest.channel.replace(/^slack:/, "");
    try {
      return await postDigest(adapter, channel, digest, sub, progress);
    } catch (err) {
      const code = slackApiError(err);
      const why = code !== undefined ? CANNOT_POST_HERE[code] : undefined;
      // The runner logs the message and tries again later (PostBackoff), so it is posted once the channel is fixed.
      if (why) throw new Error(`cannot post the digest in Slack channel ${channel} (${code}): ${why}`);
      throw err;
    }
  };
}

async function postDigest(adapter: SlackAdapter, channel: string, digest: DecidedDigest, sub: Subscription, progress: PostProgress): Promise<string> {
  const { headline, thread } = digestSlackMessages(digest, sub);
  const client = adapter.app.client;
  // After a crash: the headline and the thread replies already accepted are not posted again.
  const done = progress.saved;
  let ts = done?.ref;
  if (!ts) {
    const top = await client.chat.postMessage({ channel, text: headline, unfurl_links: false, unfurl_media: false });
    ts = top.ts as string;
    progress.save({ ref: ts, sent: 0 });
  }
  for (let n = done?.sent ?? 0; n < thread.length; n++) {
    const m = thread[n]!;
    await client.chat.postMessage({ channel, thread_ts: ts, text: m.text, blocks: m.blocks as never, unfurl_links: false, unfurl_media: false });
    progress.save({ ref: ts, sent: n + 1 });
  }
  return `slack:${channel}/${ts}`;
}
