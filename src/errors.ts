/**
 * Every error paperhound reports to a user, in one catalogue: an identifier, what it means, what the
 * user can do, and the CLI's exit code (in the manner of Orama's `errors.ts` and Sapphire's
 * identifiers). Each error class names its entry with `identifier`; the CLI takes its exit code from
 * here and the "Errors" table of docs/operations.md is checked against this list by a test.
 *
 * The message of each error says the particulars (which file, which setting, which record); the
 * catalogue says what kind of failure it is, so scripts and logs can tell them apart without
 * matching text. Messages that more than one module shows live beside their family (the index
 * family in `src/index-errors.ts`) and are written once.
 */

/** Exit codes of the `paperhound` command. */
export const EXIT = {
  ok: 0,
  /** A known failure: the message says what happened and what to do. */
  error: 1,
  /** Bad options (commander prints the usage). */
  usage: 2,
} as const;

interface CatalogueEntry {
  /** The failure, as a user meets it. */
  readonly means: string;
  /** What to do about it. */
  readonly action: string;
  readonly exit: number;
}

export const ERROR_CATALOGUE = {
  // Input and configuration
  input: { means: "a command's argument or option is not allowed", action: "correct the value the message names", exit: EXIT.error },
  no_chat_platform: { means: "`paperhound bot` found no DISCORD_TOKEN or SLACK_BOT_TOKEN, no terminal and no commands on standard input", action: "set the tokens of your platform (.env), or run `paperhound bot --console` in a terminal", exit: EXIT.error },
  config_invalid: { means: "a setting (environment or .env) is not allowed", action: "fix the settings the message lists (`paperhound config` shows them all)", exit: EXIT.error },
  search_input: { means: "a search, related or lookup query cannot be used (empty, too long, not an arXiv id or URL)", action: "rephrase the query", exit: EXIT.error },
  paper_not_found: { means: "`related` found no paper, or several, for the id, URL or title given", action: "use one of the candidates listed, or index the paper first", exit: EXIT.error },
  arxiv_id: { means: "a text is not an arXiv identifier", action: "give an id like 2401.01234 or an arXiv URL", exit: EXIT.error },
  library_import: { means: "a file given to a library import is not BibTeX, CSL-JSON, RIS or a list of ids, or cannot be read", action: "export the library again from its program, or fix the part the message names", exit: EXIT.error },

  // The index
  model_mismatch: { means: "the index's vectors were made by another model than the configured one", action: "run `paperhound reindex --yes`, or set EMBED_MODEL back", exit: EXIT.error },
  vector_file_unusable: { means: "a vector file is missing, truncated or differs from its recorded hash", action: "run `paperhound reindex --yes`, or restore the index from a backup", exit: EXIT.error },
  store_corrupt: { means: "the paper store is damaged or not a paperhound database", action: "restore it from a backup, or rebuild it with `paperhound index`", exit: EXIT.error },
  index_unusable: { means: "the index cannot be used as it is (one of the three above, worded for the index opened)", action: "what the message says", exit: EXIT.error },
  store_schema: { means: "the paper store was written by a newer paperhound, or holds nothing yet (an indexer is creating it)", action: "upgrade paperhound, or restore an older backup; for a store being created, wait for the indexer's first commit", exit: EXIT.error },
  term_data: { means: "a paper's stored word counts are damaged", action: "restore the index from a backup, or rebuild it with `paperhound index`", exit: EXIT.error },
  vector_index: { means: "the vector index was used wrongly (a bug, or a dimension that does not fit the model)", action: "report it with LOG_LEVEL=debug output", exit: EXIT.error },
  index_locked: { means: "another process is writing the index", action: "wait for it (INDEX_LOCK_WAIT_SECONDS) or run the command again later", exit: EXIT.error },
  search_thread: { means: "a search worker thread stopped", action: "run the command again; report it if it repeats", exit: EXIT.error },
  backup: { means: "a backup or restore could not be made, or a backup failed its checks", action: "what the message says; nothing was replaced", exit: EXIT.error },

  // Models
  model_not_found: { means: "the embedding model's files are not where EMBED_MODEL says", action: "put the files there, or set EMBED_ALLOW_DOWNLOAD=1 where the Hub is reachable", exit: EXIT.error },
  model_weights: { means: "a built-in model's weight file is missing or damaged", action: "restore the file from the repository (`git checkout weights/`), or use EMBED_MODEL=use-lite", exit: EXIT.error },
  embed_input: { means: "a text given to the model is empty or not text", action: "give non-empty text", exit: EXIT.error },
  embed_output: { means: "the model returned numbers that are not finite", action: "check the model files; report it if the built-in model does this", exit: EXIT.error },
  device: { means: "EMBED_DEVICE asks for a device that cannot run", action: "install what the message names, or set EMBED_DEVICE=cpu or auto", exit: EXIT.error },

  // Papers: files, feeds and services
  paper_file: { means: "a paper file cannot be read (missing, a directory, empty, unknown format)", action: "check the path and the file", exit: EXIT.error },
  invalid_record: { means: "a paper record lacks a required field or has one of the wrong kind", action: "fix the record; the others are read", exit: EXIT.error },
  source_format: { means: "a feed or file is not in the format it claims (Atom, RSS, OAI-PMH, Hugging Face daily)", action: "check the file or the URL the message names", exit: EXIT.error },
  listing_parse: { means: "a daily listing page cannot be read", action: "check the listing file", exit: EXIT.error },
  arxiv_api: { means: "the arXiv API answered with an error entry", action: "correct the query the message quotes", exit: EXIT.error },
  oai_pmh: { means: "an OAI-PMH repository answered with an OAI error", action: "correct the request (set, dates, metadata format) the message names", exit: EXIT.error },
  oai_state: { means: "a saved OAI-PMH harvest state is damaged or belongs to another harvest", action: "delete the state file the message names to start the harvest over", exit: EXIT.error },
  fetch: { means: "a remote service could not be reached or answered an HTTP error after retries", action: "check the network and the URL; run again later", exit: EXIT.error },
  page: { means: "one page of a paged feed failed; the pages before it were kept", action: "run the same command again: it resumes", exit: EXIT.error },
  ingest: { means: "fetching papers from a source failed", action: "what the message says; papers fetched before the failure were kept", exit: EXIT.error },

  // Chat and the digest
  digest_store: { means: "a digest action does not fit the channel's digest state", action: "what the message says", exit: EXIT.error },
  discord_login: { means: "Discord refused the bot's token or could not be reached", action: "check DISCORD_TOKEN and the network", exit: EXIT.error },
  slack_start: { means: "the Slack app could not start (tokens, signing secret, port)", action: "check the SLACK_* settings the message names", exit: EXIT.error },
  setup: { means: "`paperhound setup` could not finish: a token was refused, an answer is not allowed, a step failed, or it was stopped", action: "what the message says, then run `paperhound setup` again (it keeps what was saved)", exit: EXIT.error },

  // Evaluation
  dataset: { means: "an evaluation dataset is missing or not in BEIR layout", action: "point --data at a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)", exit: EXIT.error },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorIdentifier = keyof typeof ERROR_CATALOGUE;

/** Base of every error paperhound reports to a user; `identifier` names its catalogue entry. */
export abstract class PaperhoundError extends Error {
  abstract readonly identifier: ErrorIdentifier;
}

/** The CLI's exit code for an error: its catalogue entry's, else the generic failure code. */
export function exitCodeOf(err: unknown): number {
  return err instanceof PaperhoundError ? ERROR_CATALOGUE[err.identifier].exit : EXIT.error;
}
