/**
 * What paperhound tells a user when an index cannot be used as it is, written once: each entry an
 * identifier of the error catalogue (src/errors.ts) and a message that says what happened and what
 * to run. The search core's errors
 * (ModelMismatchError, IndexCorruptError, StoreCorruptError) carry these messages, and the CLI and
 * the bot (src/app/open-index.ts) word them again for the index they opened, with its `--index`
 * argument in the commands they suggest.
 */
import type { ErrorIdentifier } from "./errors.js";
import type { ModelFingerprint } from "./search/types.js";

/** Where the index is, for the commands a message suggests: ` --index <dir>` when the user gave one, else "". */
export interface IndexPlace {
  dir: string;
  indexArg: string;
}

const describeModel = (f: ModelFingerprint) => `"${f.modelId}" (dim ${f.dim}, checksum ${f.checksum.slice(0, 12)})`;

export const INDEX_ERRORS = {
  /** The vectors were made by another model than the configured one. */
  model_mismatch: (a: IndexPlace & { found: ModelFingerprint; expected: ModelFingerprint }) =>
    `the index in ${a.dir} was built with model ${describeModel(a.found)}, but the configured model (EMBED_MODEL) is ${describeModel(a.expected)}; ` +
    `run \`paperhound reindex --yes${a.indexArg}\` to rebuild its vectors with the configured model, or set EMBED_MODEL back`,

  /** A vector file is missing, truncated or does not match its recorded hash. */
  vector_file_unusable: (a: IndexPlace & { file: string; reason: string }) =>
    `vector index file ${a.file} is unusable: ${a.reason}; it was left untouched. ` +
    `Run \`paperhound reindex --yes${a.indexArg}\` to rebuild the vectors from the paper store, or restore ${a.dir} from a backup`,

  /** The paper store is not a paperhound database or is damaged (`reindex` rebuilds vectors from the store, so it cannot repair the store itself). */
  store_corrupt: (a: IndexPlace & { file: string; detail: string }) =>
    `paper store ${a.file} is corrupt or not a paperhound database (${a.detail.replace(/\.$/, "")}); it was left untouched. ` +
    `Restore it from a backup, or move ${a.dir} aside and rebuild it from your paper files with \`paperhound index <file...>${a.indexArg}\``,
} as const;

/** Index-family identifiers; each is also an entry of the error catalogue. */
export type IndexErrorCode = keyof typeof INDEX_ERRORS & ErrorIdentifier;
