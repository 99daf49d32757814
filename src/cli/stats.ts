/** `paperhound stats`: what the index holds and which model built it. */
import type { RegisterCommand } from "./context.js";
import { openIndexForQuery, type IndexOption } from "../app/open-index.js";
import { addIndexOption, bytesOnDisk } from "./search-common.js";
import { hnswlib } from "../search/vectors/hnswlib.js";

export const registerStats: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command("stats")
    .description("show what the paper index holds")
    .option("--json", "print one JSON object");
  addIndexOption(cmd).action(async (opts: IndexOption & { json?: boolean }) => {
    const open = await openIndexForQuery(ctx, opts);
    try {
      const s = open.index.stats();
      const stats = {
        papers: s.papers,
        vectors: s.vectors,
        passages: s.passages,
        pending: s.pending,
        embedded: s.embedded,
        deleted_vectors: s.deletedVectors,
        vector_storage: s.vectorStorage,
        model: s.model.modelId,
        dim: s.model.dim,
        checksum: s.model.checksum,
        index_dir: open.loc.dir,
        bytes_on_disk: bytesOnDisk(open.loc.dir),
        generation: s.generation,
        schema_version: s.schemaVersion,
        top_categories: s.topCategories,
        vector_search_build: hnswlib.build,
        ...(hnswlib.reason ? { vector_search_build_reason: hnswlib.reason } : {}),
      };
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(stats)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ["index", stats.index_dir],
        ["papers", `${stats.papers} (${stats.embedded} embedded, ${stats.pending} pending)`],
        ["passages", String(stats.passages)],
        ["vectors", `${stats.vectors}${stats.deleted_vectors > 0 ? ` (+${stats.deleted_vectors} deleted, reclaimed by reindex)` : ""}, stored as ${stats.vector_storage}`],
        ["model", `${stats.model} (dim ${stats.dim}, checksum ${stats.checksum.slice(0, 12)})`],
        ["on disk", formatBytes(stats.bytes_on_disk)],
        ["vector search", hnswlib.reason ? `hnswlib-node, stock build (${hnswlib.reason})` : `hnswlib-node, ${hnswlib.build} build (AVX2, FMA)`],
      ];
      if (stats.top_categories.length > 0) {
        rows.push(["categories", stats.top_categories.map((c) => `${c.category} ${c.count}`).join(", ")]);
      }
      const width = Math.max(...rows.map(([k]) => k.length));
      ctx.stdout.write(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n") + "\n");
      if (stats.pending > 0) {
        ctx.stdout.write(`${stats.pending} paper(s) are not embedded yet: rerun \`paperhound index\` on your files to embed them\n`);
      }
    } finally {
      await open.close();
    }
  });
};

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
