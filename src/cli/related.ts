/**
 * `paperhound related <arXiv id | URL | title>`: papers nearest to one in the index. An arXiv id
 * (or URL) of a paper the index does not hold is looked up through the arXiv API and indexed
 * first; a paper already in the index is answered offline, without any request.
 */
import { analyseArxivRef, arxivDoesNotKnow, RELATED_REF_HINT } from "../papers/arxiv-id.js";
import type { Paper } from "../papers/types.js";
import { PaperNotFoundError } from "../search/paper-index.js";
import { PaperStore } from "../search/paper-store.js";
import { InputError, type AppContext } from "../app/context.js";
import { type RegisterCommand } from "./context.js";
import { lookupArxivIds } from "../ingest/arxiv-lookup.js";
import { explainIndexError, indexLocation, openIndexForQuery, paperCount, storeFileOf } from "../app/open-index.js";
import { addQueryOptions, checkQueryOptions, describeFilters, filtersFrom, hitJson, paperJson, renderHits, type QueryCliOptions } from "./search-common.js";
import { paperUrl, withoutControls, wrap } from "../papers/display.js";

export const registerRelated: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command("related")
    .description("find papers related to one in the index, given by arXiv id, arXiv URL or title")
    .argument("<paper...>", "arXiv id (2401.00631), arXiv abs/pdf URL, or the paper's title")
    .option("--offline", "never look a paper up on arXiv: answer only from the index");
  addQueryOptions(cmd).action(async (words: string[], opts: QueryCliOptions & { offline?: boolean }, command) => {
    checkQueryOptions(command, opts);
    const ref = words.join(" ").trim();
    if (ref === "") throw new InputError(RELATED_REF_HINT);
    // A broken arXiv reference (month 13, an arXiv URL without an id) is reported before the model loads.
    const analysis = analyseArxivRef(ref);
    if (!analysis.ok && !analysis.unrecognised) throw new InputError(`${analysis.error}; ${RELATED_REF_HINT}`);
    const fetched = analysis.ok && !opts.offline ? await fetchIfMissing(ctx, opts, analysis.ref.id, analysis.ref.version) : [];
    const open = await openIndexForQuery(ctx, opts, { add: fetched });
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
      // Titles, authors and abstracts come from feeds and files: no terminal escape reaches the screen.
      ctx.stdout.write(withoutControls(`${head.join("\n")}\n\n`));
      ctx.stdout.write(hits.length === 0 ? "no related papers found\n" : withoutControls(`${renderHits(hits)}\n`));
    } finally {
      await open.close();
    }
  });
};

/**
 * The paper from arXiv when the index does not hold `id` (nothing when it does: no request then).
 * Unknown to arXiv or arXiv unreachable: a InputError / IngestError saying so.
 */
async function fetchIfMissing(ctx: AppContext, opts: QueryCliOptions, id: string, version: number | undefined): Promise<Paper[]> {
  const loc = indexLocation(ctx, opts);
  const storeFile = storeFileOf(loc.dir);
  try {
    // Also reports a damaged store, and migrates an old one, before anything is fetched.
    if (paperCount(storeFile) > 0) {
      const store = PaperStore.open(storeFile, { readonly: true });
      try {
        if (store.get(id)) return [];
      } finally {
        store.close();
      }
    }
  } catch (err) {
    throw explainIndexError(err, loc);
  }
  const asked = version === undefined ? id : `${id}v${version}`;
  ctx.stderr.write(`arXiv ${id} is not in the index: looking it up on arXiv\n`);
  const { papers } = await lookupArxivIds(ctx, [asked]);
  const paper = papers.find((p) => p.id === id);
  if (!paper) throw new InputError(arxivDoesNotKnow(asked));
  ctx.stderr.write(`fetched arXiv ${id} ("${paper.title}"); adding it to the index\n`);
  return [paper];
}
