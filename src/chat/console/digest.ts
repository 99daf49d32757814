/** The console adapter's digest: printed as terminal text. */
import { digestHeadline } from "../../../commands/digest.js";
import type { DigestPoster } from "../../digest/digest-runner.js";
import type { DecidedDigest, Subscription } from "../../digest/digest-store.js";
import { shortAuthors } from "../../papers/display.js";

/** A digest as terminal text (the console adapter's poster, and the README's example). */
export function digestText(digest: DecidedDigest, sub: Pick<Subscription, "topics">): string {
  const lines = [digestHeadline(digest, sub)];
  digest.items.forEach((item, n) => {
    lines.push("", `${n + 1}. ${item.title.replace(/\s+/g, " ").trim()}`);
    const authors = shortAuthors(item.authors);
    if (authors) lines.push(`   ${authors}`);
    lines.push(`   Why: ${item.reason || `score ${item.score.toFixed(2)}`}`);
    lines.push(`   ${item.url ?? item.paperId}`);
  });
  return lines.join("\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, " ");
}

/** The console's poster: prints the digest. */
export function consoleDigestPoster(output: NodeJS.WritableStream): DigestPoster {
  return async (digest, sub) => {
    output.write(`${digestText(digest, sub)}\n\n`);
    return `console:${digest.id}`;
  };
}
