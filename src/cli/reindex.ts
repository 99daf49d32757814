/**
 * `paperhound reindex --yes`: rebuilds every vector of the index with the configured model, from the
 * papers in the store. The way out of a model change (ModelMismatchError) or an unusable vector file
 * (IndexCorruptError); it also reclaims the slots of deleted vectors.
 *
 * Steps: (1) load the model, so a model that cannot load stops before anything changes, and take the
 * index's writer lock (waiting INDEX_LOCK_WAIT_SECONDS for another writer), so a reindex that cannot
 * have the index changes nothing; (2) in one store transaction, drop every paper's passages (which marks it not embedded) and record the
 * configured model's fingerprint; (3) delete the vector files (pointer first); (4) open the index and
 * embed all pending papers, with checkpoints. A crash after (2) leaves the store consistent and the
 * index refusing to open until `reindex --yes` is run again, which then completes; a crash during (4)
 * loses only the work since the last checkpoint.
 */
import { existsSync } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import path from "node:path";
import { createProgress, formatDuration, type Progress } from "../progress.js";
import { fingerprintOf, PaperIndex } from "../search/paper-index.js";
import { PaperStore } from "../search/paper-store.js";
import { POINTER_FILE } from "../search/vector-index.js";
import { IndexLockedError, WriterLock } from "../search/writer-lock.js";
import { InputError } from "../app/context.js";
import { type RegisterCommand } from "./context.js";
import { explainIndexError, indexLocation, openEmbedder, storeFileOf, writerOpenOptions, type IndexOption } from "../app/open-index.js";
import { addIndexOption } from "./search-common.js";

/** The vector index's files: generations, the pointer, and temp files of an interrupted save. */
const VECTOR_FILE_RE = /^vectors-\d+\.hnsw(?:\.tmp-.*)?$|^vectors\.json\.tmp-/;

export const registerReindex: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command("reindex")
    .description("rebuild all vectors of the index with the configured model (after changing EMBED_MODEL)")
    .option("--yes", "do it (required: it re-embeds every paper)");
  addIndexOption(cmd).action(async (opts: IndexOption & { yes?: boolean }) => {
    const loc = indexLocation(ctx, opts);
    const storeFile = storeFileOf(loc.dir);
    if (!existsSync(storeFile)) {
      throw new InputError(`there is no index in ${loc.dir} (no ${path.basename(storeFile)}): nothing to reindex; add papers with \`paperhound index <file...>${loc.indexArg}\``);
    }
    let papers: number;
    let builtWith: string | undefined;
    try {
      const store = PaperStore.open(storeFile, { readonly: true });
      try {
        papers = store.count();
        builtWith = store.getModelFingerprint()?.modelId;
      } finally {
        store.close();
      }
    } catch (err) {
      throw explainIndexError(err, loc);
    }
    const configured = ctx.config().embedModel;
    if (!opts.yes) {
      throw new InputError(
        `reindex re-embeds all ${papers} papers in ${loc.dir} with the configured model "${configured}"` +
          `${builtWith ? ` (the index was built with "${builtWith}")` : ""}; run \`paperhound reindex --yes${loc.indexArg}\` to do it`,
      );
    }

    const started = performance.now();
    const embedder = await openEmbedder(ctx);
    let progress: Progress | undefined;
    let lock: WriterLock | undefined;
    try {
      // (1) Nothing is changed before this process is the index's only writer.
      const { lockWaitMs, onLockWait, graphThreads } = writerOpenOptions(ctx, loc.dir);
      try {
        lock = await WriterLock.acquire(loc.dir, { waitMs: lockWaitMs, onWait: onLockWait });
      } catch (err) {
        if (err instanceof IndexLockedError) throw new InputError(`${err.message} Nothing was changed.`);
        throw err;
      }
      // (2) Forget every vector in the store and record the model that will build the new ones.
      try {
        const store = PaperStore.open(storeFile);
        try {
          store.integrityCheck(); // vectors are rebuilt from the store: a damaged one is not used
          store.transaction(() => {
            for (const rowid of store.rowidsWithMissingLabels(() => false)) store.removeVectorLabels(rowid);
            store.setModelFingerprint(fingerprintOf(embedder));
          });
        } finally {
          store.close();
        }
      } catch (err) {
        throw explainIndexError(err, loc);
      }
      // (3) The pointer first: without it, leftover generation files are never loaded.
      await removeIfPresent(path.join(loc.dir, POINTER_FILE));
      for (const name of await readdir(loc.dir)) {
        if (VECTOR_FILE_RE.test(name)) await removeIfPresent(path.join(loc.dir, name));
      }
      // (4) Embed everything again.
      let index: PaperIndex;
      try {
        index = await PaperIndex.open({ dir: loc.dir, embedder, writerLock: lock, graphThreads });
        lock = undefined; // the index holds it now and releases it on close
      } catch (err) {
        throw explainIndexError(err, loc);
      }
      try {
        const pending = index.pendingCount();
        ctx.stderr.write(`reindexing ${pending} papers in ${loc.dir} with model "${embedder.modelId}"\n`);
        progress = createProgress({ label: "embedding", total: pending, unit: "papers", stream: ctx.stderr });
        const report = await index.add([], (p) => {
          if (p.phase === "embed") progress!.update(p.done);
        });
        progress.finish();
        progress = undefined;
        const s = index.stats();
        ctx.stdout.write(
          `reindexed ${loc.dir}: embedded ${report.embedded} papers, ${report.passages} passages, model ${s.model.modelId} (dim ${s.model.dim}), ` +
            `time ${formatDuration((performance.now() - started) / 1000)}\n`,
        );
      } finally {
        index.close();
      }
    } finally {
      progress?.finish();
      lock?.release();
      await embedder.dispose();
    }
  });
};

async function removeIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
