/**
 * Child process for the digest crash test: runs one digest tick on an existing index and digest
 * state, announces "POSTING <digest id>" when the post starts and then never finishes it, so the
 * parent can SIGKILL it between "decided" and "posted".
 *   node --import tsx test/helpers/digest-child.ts <index dir> <state dir> <ISO time>
 */
import { loadEmbedder } from "../../src/embed/load.js";
import { createLogger } from "../../src/log.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { runDigestTick } from "../../src/digest/digest-runner.js";

const [indexDir, stateDir, iso] = process.argv.slice(2);
const logger = createLogger({ level: "error", format: "json" });
const embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger });
const index = await PaperIndex.open({ dir: indexDir!, embedder, readonly: true });
const store = DigestStore.open(stateDir!);
await runDigestTick({
  index,
  store,
  now: new Date(iso!),
  holder: "child",
  leaseMs: 1000,
  post: (digest) => {
    process.stdout.write(`POSTING ${digest.id} ${digest.items.map((i) => i.paperId).join(",")}\n`);
    return new Promise<string>(() => undefined); // killed before this settles
  },
});
