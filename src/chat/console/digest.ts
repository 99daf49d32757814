/** The console adapter's digest: printed as terminal text. */
import { digestView } from "../../../commands/digest.js";
import { withoutControls } from "../../papers/display.js";
import type { DigestPoster } from "../../digest/digest-runner.js";
import type { DecidedDigest, Subscription } from "../../digest/digest-store.js";

/** A digest as terminal text (the console adapter's poster, and the example in docs/digests.md). */
export function digestText(digest: DecidedDigest, sub: Pick<Subscription, "topics">): string {
  const view = digestView(digest, sub);
  const lines = [view.headline];
  for (const item of view.items) {
    lines.push("", `${item.rank}. ${item.title}`);
    if (item.authors) lines.push(`   ${item.authors}`);
    lines.push(`   ${item.why}`);
    lines.push(`   ${item.url ?? item.paperId}`);
  }
  return withoutControls(lines.join("\n"));
}

/** The console's poster: prints the digest. */
export function consoleDigestPoster(output: NodeJS.WritableStream): DigestPoster {
  return async (digest, sub) => {
    output.write(`${digestText(digest, sub)}\n\n`);
    return `console:${digest.id}`;
  };
}
