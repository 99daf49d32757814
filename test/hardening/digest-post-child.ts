/**
 * Child process for test/hardening/crash-points.test.ts: one digest tick on an index directory (its
 * digest.sqlite), posting through the real Discord poster to the test's fake channel, so that
 * PAPERHOUND_FAULT_AT kills this process and not the test runner. Exits 0 when the tick posted
 * without failures.
 *   node --import tsx test/hardening/digest-post-child.ts <index dir> <fake Discord api url> <ISO time>
 */
import { REST } from "discord.js";
import { createContext } from "../../src/app/context.js";
import { openEmbedder } from "../../src/app/open-index.js";
import { discordDigestPoster } from "../../src/chat/discord/digest.js";
import { runDigestTick } from "../../src/digest/digest-runner.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { PaperIndex } from "../../src/search/paper-index.js";

const [dir, api, iso] = process.argv.slice(2);
const embedder = await openEmbedder(createContext());
const index = await PaperIndex.open({ dir: dir!, embedder, readonly: true });
const store = DigestStore.open(dir!);
const rest = new REST({ api: api!, retries: 0, timeout: 10_000 }).setToken("fake.token.crash-points");
// One holder for every run: the rerun is the same bot restarted, so the lease is its own.
const report = await runDigestTick({ index, store, now: new Date(iso!), holder: "crash-points", post: discordDigestPoster(rest) });
process.stdout.write(`${JSON.stringify(report)}\n`);
store.close();
index.close();
await embedder.dispose();
process.exit(report.failed.length === 0 ? 0 : 1);
