/** Single papers fetched by arXiv id into memory (`related` and `library import` on the CLI, which then add them themselves). */
import type { AppContext } from "../app/context.js";
import { commandLogger } from "../app/open-index.js";
import { createSourceHttpClient, PageError } from "../papers/fetch/index.js";
import type { Paper } from "../papers/types.js";
import { arxivIdsSource, describeFailure, IngestError } from "./sources.js";

/**
 * Fetches papers by arXiv id through the arXiv API (the same source the bot's chat lookups index
 * from): the papers arXiv knows; throws IngestError when arXiv cannot be reached or answers with an
 * error.
 */
export async function lookupArxivIds(ctx: AppContext, ids: readonly string[]): Promise<{ papers: Paper[] }> {
  const config = ctx.config();
  const client = createSourceHttpClient(config, commandLogger(ctx));
  const source = arxivIdsSource(config, ids);
  const papers: Paper[] = [];
  try {
    for await (const page of source.pages(client)) papers.push(...page.papers);
  } catch (err) {
    if (!(err instanceof PageError)) throw err;
    throw new IngestError(`looking up ${ids.join(", ")} on arXiv failed: ${describeFailure(err, source)}`);
  }
  return { papers };
}
