/**
 * Child process for the OAI crash test: runs the harvest `<request JSON>` (an OaiHarvestRequest)
 * with state in `<stateFile>` and prints "page <n>" after each page. The test kills it with
 * SIGKILL mid-harvest.
 *
 *   node --import tsx test/fetch/oai-harvest-child.ts '<request JSON>' <stateFile>
 */
import { PoliteHttpClient } from "../../src/papers/fetch/http-client.js";
import { harvestOai, type OaiHarvestRequest } from "../../src/papers/fetch/oai-harvest.js";

const [requestJson, stateFile] = process.argv.slice(2);
if (!requestJson || !stateFile) throw new Error("usage: oai-harvest-child.ts <request JSON> <stateFile>");
const request = JSON.parse(requestJson) as OaiHarvestRequest;

const client = new PoliteHttpClient({ contactEmail: "team@example.org", arxivMinIntervalMs: 0, headersTimeoutMs: 60_000 });
for await (const page of harvestOai({
  client,
  request,
  stateFile,
  parse: (response) => ({
    page: response.text().length,
    resumptionToken: /<resumptionToken[^>]*>([^<]*)<\/resumptionToken>/.exec(response.text())?.[1] ?? null,
  }),
})) {
  process.stdout.write(`page ${page.index + 1}\n`);
}
