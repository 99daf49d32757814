/** Single papers fetched by arXiv id (`related` with a paper the index does not hold yet). */
import type { AppContext } from "../app/context.js";
import { commandLogger } from "../app/open-index.js";
import { createSourceHttpClient, fetchArxivIds, PageError } from "../papers/fetch/index.js";
import { missingArxivIds, parseArxivAtom } from "../papers/sources/arxiv-atom.js";
import type { Paper } from "../papers/types.js";
import { describeFailure, IngestError, URL_SETTINGS } from "./sources.js";

/**
 * Fetches papers by arXiv id through the arXiv API. Returns the papers arXiv knows and the ids it
 * does not; throws IngestError when arXiv cannot be reached or answers with an error.
 */
export async function lookupArxivIds(ctx: AppContext, ids: readonly string[]): Promise<{ papers: Paper[]; missing: string[] }> {
  const config = ctx.config();
  const client = createSourceHttpClient(config, commandLogger(ctx));
  const papers: Paper[] = [];
  const missing: string[] = [];
  try {
    for await (const batch of fetchArxivIds(client, config.arxivApiUrl, ids, (res) => parseArxivAtom(res.text()))) {
      papers.push(...batch.page.entries.map((e) => e.paper));
      missing.push(...missingArxivIds(batch.ids, batch.page));
    }
  } catch (err) {
    if (!(err instanceof PageError)) throw err;
    const source = { what: "the arXiv API", setting: { env: URL_SETTINGS.arxiv, value: config.arxivApiUrl } };
    throw new IngestError(`looking up ${ids.join(", ")} on arXiv failed: ${describeFailure(err, source)}`);
  }
  return { papers, missing };
}
