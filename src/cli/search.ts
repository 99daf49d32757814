/** `paperhound search "<text>"`: hybrid (meaning + keyword) search of the paper index. */
import { withoutControls } from "../papers/display.js";
import { checkQuery } from "../search/paper-index.js";
import type { RegisterCommand } from "./context.js";
import { openIndexForQuery } from "../app/open-index.js";
import { addQueryOptions, checkQueryOptions, describeFilters, filtersFrom, hitJson, renderHits, type QueryCliOptions } from "./search-common.js";

export const registerSearch: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command("search")
    .description("find papers by meaning and keywords")
    .argument("<text...>", "what to look for (quote it, or give several words)");
  addQueryOptions(cmd).action(async (words: string[], opts: QueryCliOptions, command) => {
    checkQueryOptions(command, opts);
    const raw = words.join(" ");
    // Checked before the model loads: an empty query fails fast and never touches the index.
    const query = checkQuery(raw);
    const open = await openIndexForQuery(ctx, opts);
    try {
      const filters = filtersFrom(opts);
      const hits = await open.index.search(query, {
        k: opts.k,
        ...(filters ? { filters } : {}),
        ...(opts.weight !== undefined ? { denseWeight: opts.weight } : {}),
      });
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify({ query, hits: hits.map((h, i) => hitJson(h, i + 1)) })}\n`);
        return;
      }
      const filterText = describeFilters(opts);
      if (hits.length === 0) {
        ctx.stdout.write(withoutControls(`no papers match "${shorten(query)}"${filterText ? ` (${filterText})` : ""}\n`));
        return;
      }
      // Titles, authors and abstracts come from feeds and files: no terminal escape reaches the screen.
      ctx.stdout.write(withoutControls(`${hits.length} result${hits.length === 1 ? "" : "s"} for "${shorten(query)}"${filterText ? ` (${filterText})` : ""}\n\n`));
      ctx.stdout.write(withoutControls(`${renderHits(hits)}\n`));
    } finally {
      await open.close();
    }
  });
};

/** A long query echoed in the header is cut, so the header stays one line. */
function shorten(text: string, max = 50): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}
