/**
 * A decided digest in Slack: the headline (date, number of papers, topics) as a channel message,
 * and the ranked papers in its thread (chat.postMessage with thread_ts), in as many thread replies
 * as Block Kit's limits need. Paper text is escaped; links are http(s) only.
 */
import { digestHeadline } from "../../../commands/digest.js";
import { shortAuthors } from "../../cli/search-common.js";
import type { DigestPoster } from "../../digest/digest-runner.js";
import type { DecidedDigest, DigestItem, Subscription } from "../../digest/digest-store.js";
import { fitMrkdwn, LIMITS, MAX_MESSAGE_CHARS, safeUrl, blocksSize, type Block } from "./render.js";
import type { SlackAdapter } from "./adapter.js";

function itemText(item: DigestItem, rank: number): string {
  const url = safeUrl(item.url);
  const title = fitMrkdwn(item.title.replace(/\s+/g, " ").trim(), 250);
  const head = `*${rank}. ${url ? `<${url}|${title}>` : title}*`;
  return [head, fitMrkdwn(shortAuthors(item.authors), 300), `_${fitMrkdwn(`Why: ${item.reason || `score ${item.score.toFixed(2)}`}`, 500)}_`].filter(Boolean).join("\n").slice(0, LIMITS.sectionText);
}

/** The headline message and the thread replies (each within the blocks limits). */
export function digestSlackMessages(digest: DecidedDigest, sub: Pick<Subscription, "topics">): { headline: string; thread: { text: string; blocks: Block[] }[] } {
  const headline = fitMrkdwn(digestHeadline(digest, sub), LIMITS.fallbackText);
  const thread: { text: string; blocks: Block[] }[] = [];
  digest.items.forEach((item, n) => {
    const block: Block = { type: "section", text: { type: "mrkdwn", text: itemText(item, n + 1), verbatim: true } };
    let last = thread.at(-1);
    if (!last || last.blocks.length >= LIMITS.blocks || blocksSize([...last.blocks, block]) > MAX_MESSAGE_CHARS) {
      last = { text: "", blocks: [] };
      thread.push(last);
    }
    last.blocks.push(block);
  });
  for (const m of thread) m.text = fitMrkdwn(`${digest.items.length} papers of the ${digest.windowEnd} digest`, LIMITS.fallbackText);
  return { headline, thread };
}

/** Posts digests of "slack:<channel id>" channels with the adapter's Web API client; returns "slack:<channel>/<ts>". */
export function slackDigestPoster(adapter: SlackAdapter): DigestPoster {
  return async (digest, sub) => {
    const channel = digest.channel.replace(/^slack:/, "");
    const { headline, thread } = digestSlackMessages(digest, sub);
    const client = adapter.app.client;
    const top = await client.chat.postMessage({ channel, text: headline, unfurl_links: false, unfurl_media: false });
    const ts = top.ts as string;
    for (const m of thread) {
      await client.chat.postMessage({ channel, thread_ts: ts, text: m.text, blocks: m.blocks as never, unfurl_links: false, unfurl_media: false });
    }
    return `slack:${channel}/${ts}`;
  };
}
