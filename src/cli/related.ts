/** `paperhound related <arXiv id | URL | title>`: papers nearest to one in the index. */
import { analyseArxivRef } from "../papers/arxiv-id.js";
import { PaperNotFoundError } from "../search/paper-index.js";
import { CliInputError, type RegisterCommand } from "./context.js";
import {
  addQueryOptions,
  checkQueryOptions,
  describeFilters,
  filtersFrom,
  hitJson,
  openIndexForQuery,
  paperJson,
  paperUrl,
  renderHits,
  wrap,
  type QueryCliOptions,
} from "./search-common.js";

export const registerRelated: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command("related")
    .description("find papers related to one in the index, given by arXiv id, arXiv URL or title")
    .argument("<paper...>", "arXiv id (2401.00631), arXiv abs/pdf URL, or the paper's title");
  addQueryOptions(cmd).action(async (words: string[], opts: QueryCliOptions, command) => {
    checkQueryOptions(command, opts);
    const ref = words.join(" ").trim();
    if (ref === "") throw new CliInputError("give an arXiv id, an arXiv URL or a paper title");
    // A broken arXiv reference (month 13, an arXiv URL without an id) is reported before the model loads.
    const analysis = analyseArxivRef(ref);
    if (!analysis.ok && !analysis.unrecognised) throw new CliInputError(`${analysis.error}; give an arXiv id, an arXiv URL or a paper title`);
    const open = await openIndexForQuery(ctx, opts);
    try {
      const filters = filtersFrom(opts);
      let result;
      try {
        result = await open.index.related(ref, {
          k: opts.k,
          ...(filters ? { filters } : {}),
          ...(opts.weight !== undefined ? { denseWeight: opts.weight } : {}),
        });
      } catch (err) {
        if (err instanceof PaperNotFoundError && err.candidates.length > 0) {
          const list = err.candidates.map((p) => `\n  ${p.id}  ${p.title}`).join("");
          throw new PaperNotFoundError(`${err.message}:${list}\n(give the id, or more of the title)`, err.candidates);
        }
        throw err;
      }
      const { paper, hits } = result;
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify({ query: ref, paper: paperJson(paper), hits: hits.map((h, i) => hitJson(h, i + 1)) })}\n`);
        return;
      }
      const head = wrap(`Related to: ${paper.title}`, "");
      head.push(...wrap(paperUrl(paper) ?? paper.id, "  "));
      const filterText = describeFilters(opts);
      if (filterText) head.push(`  (${filterText})`);
      ctx.stdout.write(`${head.join("\n")}\n\n`);
      ctx.stdout.write(hits.length === 0 ? "no related papers found\n" : `${renderHits(hits)}\n`);
    } finally {
      await open.close();
    }
  });
};
