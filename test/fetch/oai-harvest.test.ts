import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PoliteHttpClient, type HttpResponse } from "../../src/papers/fetch/http-client.js";
import {
  OaiStateError,
  clearOaiState,
  harvestOai,
  loadOaiState,
  saveOaiState,
  type HarvestedPage,
  type OaiHarvestRequest,
  type OaiParsedPage,
} from "../../src/papers/fetch/oai-harvest.js";
import { PageError } from "../../src/papers/fetch/paging.js";
import { RequestScheduler } from "../../src/papers/fetch/scheduler.js";
import { LoopbackServer, fixture, type Reply } from "../helpers/loopback-server.js";
import { VirtualClock } from "./virtual-clock.js";

/** Just enough OAI-PMH for the driver (the real parser lives in src/papers/sources/): record ids and the token. */
function readListRecords(response: HttpResponse): OaiParsedPage<string[]> {
  const xml = response.text();
  if (!response.ok || !xml.includes("</OAI-PMH>")) throw new Error(`not an OAI-PMH response (HTTP ${response.status})`);
  const ids = [...xml.matchAll(/<identifier>([^<]+)<\/identifier>/g)].map((m) => m[1]!);
  const token = /<resumptionToken[^>]*>([^<]*)<\/resumptionToken>/.exec(xml)?.[1] ?? null;
  return { page: ids, resumptionToken: token };
}

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHILD = path.join(PROJECT, "test", "fetch", "oai-harvest-child.ts");

let server: LoopbackServer;
let client: PoliteHttpClient;
let dir: string;
let stateFile: string;
let request: OaiHarvestRequest;
/** What the server answers for the continuation page; tests change it to make page 2 fail. */
let page2: Reply;

beforeEach(async () => {
  server = await LoopbackServer.start();
  const clock = new VirtualClock();
  client = new PoliteHttpClient({ contactEmail: "team@example.org", clock, scheduler: new RequestScheduler(clock), maxAttempts: 2, arxivMinIntervalMs: 0 });
  dir = await mkdtemp(path.join(os.tmpdir(), "paperhound-oai-"));
  stateFile = path.join(dir, "harvest", "oai-cs.json");
  request = { baseUrl: server.url("/oai"), metadataPrefix: "oai_dc", set: "cs", from: "2026-11-01" };
  page2 = { body: fixture("oai-listrecords-2.xml") };
  server.route("/oai", (req) => {
    if (req.query.get("resumptionToken") === "7101554|1001") return page2;
    if (req.query.get("metadataPrefix") === "oai_dc" && req.query.get("set") === "cs") return { body: fixture("oai-listrecords-1.xml") };
    return { status: 400, body: "unexpected request" };
  });
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function harvest(onPage: (p: HarvestedPage<string[]>) => void = () => {}): Promise<{ pages: HarvestedPage<string[]>[]; error?: unknown }> {
  const pages: HarvestedPage<string[]>[] = [];
  try {
    for await (const p of harvestOai({ client, request, stateFile, parse: readListRecords })) {
      onPage(p);
      pages.push(p);
    }
    return { pages };
  } catch (error) {
    return { pages, error };
  }
}

describe("harvestOai", () => {
  it("harvests every page and records the harvest as complete", async () => {
    const { pages, error } = await harvest();
    expect(error).toBeUndefined();
    expect(pages.flatMap((p) => p.page)).toEqual(["oai:arXiv.org:2611.00101", "oai:arXiv.org:2611.00102", "oai:arXiv.org:2611.00250"]);
    expect(pages.map((p) => p.resumptionToken)).toEqual(["7101554|1001", null]);
    // The continuation carries the token alone.
    expect(Object.fromEntries(server.requests[1]!.query)).toEqual({ verb: "ListRecords", resumptionToken: "7101554|1001" });
    expect(Object.fromEntries(server.requests[0]!.query)).toEqual({ verb: "ListRecords", metadataPrefix: "oai_dc", set: "cs", from: "2026-11-01" });
    const state = await loadOaiState(stateFile);
    expect(state).toMatchObject({ version: 1, request, resumptionToken: null, pagesDone: 2, complete: true });
  });

  it("resumes from the last saved token after a failure, without fetching the finished pages again", async () => {
    page2 = { status: 500, body: "internal error" };
    const first = await harvest();
    expect(first.pages).toHaveLength(1);
    expect(first.error).toBeInstanceOf(PageError);
    expect(await loadOaiState(stateFile)).toMatchObject({ resumptionToken: "7101554|1001", pagesDone: 1, complete: false });

    page2 = { body: fixture("oai-listrecords-2.xml") };
    const before = server.requests.length;
    const second = await harvest();
    expect(second.error).toBeUndefined();
    expect(second.pages.flatMap((p) => p.page)).toEqual(["oai:arXiv.org:2611.00250"]);
    expect(second.pages[0]!.resumed).toBe(true);
    const resumedRequests = server.requests.slice(before);
    expect(resumedRequests).toHaveLength(1);
    expect(Object.fromEntries(resumedRequests[0]!.query)).toEqual({ verb: "ListRecords", resumptionToken: "7101554|1001" });
    expect(await loadOaiState(stateFile)).toMatchObject({ complete: true, pagesDone: 2 });
  });

  it("resumes after the harvesting process is killed", async () => {
    // Page 2 does not answer during the child's run: the child is killed while waiting for it,
    // that is after it finished page 1 and asked for the next one.
    page2 = { headerDelayMs: 60_000 };
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(request), stateFile], {
      cwd: PROJECT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let exited = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => {
        exited = true;
        resolve(signal);
      }),
    );
    while (!server.requests.some((r) => r.query.has("resumptionToken"))) {
      if (exited) throw new Error(`child exited before asking for page 2: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    expect(await exit).toBe("SIGKILL");
    expect(stdout).toBe("page 1\n");
    expect(await loadOaiState(stateFile)).toMatchObject({ resumptionToken: "7101554|1001", pagesDone: 1, complete: false });

    // Back in this process, with page 2 answering again.
    page2 = { body: fixture("oai-listrecords-2.xml") };
    const before = server.requests.length;
    const resumed = await harvest();
    expect(resumed.error).toBeUndefined();
    expect(resumed.pages.map((p) => [p.resumed, p.page])).toEqual([[true, ["oai:arXiv.org:2611.00250"]]]);
    expect(server.requests.slice(before).map((r) => Object.fromEntries(r.query))).toEqual([
      { verb: "ListRecords", resumptionToken: "7101554|1001" },
    ]);
  });

  it("does not mark a page done when the caller failed while processing it", async () => {
    const run = await harvest((p) => {
      if (p.index === 0) throw new Error("crash while indexing page 1");
    });
    expect((run.error as Error).message).toBe("crash while indexing page 1");
    expect(await loadOaiState(stateFile)).toBeUndefined();
    // The next run starts over and gets page 1 again.
    const again = await harvest();
    expect(again.pages[0]!.resumed).toBe(false);
    expect(again.pages.flatMap((p) => p.page)).toHaveLength(3);
  });

  it("starts over when the saved harvest is of another request or already complete", async () => {
    await saveOaiState(stateFile, {
      version: 1,
      request: { ...request, set: "math" },
      resumptionToken: "7101554|1001",
      pagesDone: 1,
      complete: false,
      updatedAt: new Date().toISOString(),
    });
    const other = await harvest();
    expect(other.pages[0]!.resumed).toBe(false);
    expect(other.pages).toHaveLength(2);
    // Now complete: a new run is a new harvest from the first page.
    const rerun = await harvest();
    expect(rerun.pages[0]!.resumed).toBe(false);
    expect(rerun.pages).toHaveLength(2);
  });
});

describe("OAI harvest state file", () => {
  it("is written atomically, leaving no temp files, and read back", async () => {
    const state = {
      version: 1 as const,
      request,
      resumptionToken: "abc|2001",
      pagesDone: 2,
      complete: false,
      updatedAt: "2026-11-03T00:00:00.000Z",
    };
    await saveOaiState(stateFile, state);
    await saveOaiState(stateFile, { ...state, resumptionToken: "abc|3001", pagesDone: 3 });
    expect(await readdir(path.dirname(stateFile))).toEqual(["oai-cs.json"]);
    expect(await loadOaiState(stateFile)).toEqual({ ...state, resumptionToken: "abc|3001", pagesDone: 3 });
    expect(JSON.parse(await readFile(stateFile, "utf8"))).toMatchObject({ pagesDone: 3 });
    await clearOaiState(stateFile);
    expect(await loadOaiState(stateFile)).toBeUndefined();
  });

  it("refuses a damaged state file with a message that says what to do", async () => {
    await saveOaiState(stateFile, {
      version: 1,
      request,
      resumptionToken: null,
      pagesDone: 0,
      complete: false,
      updatedAt: "2026-11-03T00:00:00.000Z",
    });
    await writeFile(stateFile, '{"version": 1, "request": ');
    await expect(loadOaiState(stateFile)).rejects.toThrow(OaiStateError);
    await expect(loadOaiState(stateFile)).rejects.toThrow(/delete it to start the harvest over/);
    await writeFile(stateFile, '{"version": 2}');
    await expect(loadOaiState(stateFile)).rejects.toThrow(/not a paperhound OAI harvest state/);
    const run = await harvest();
    expect(run.error).toBeInstanceOf(OaiStateError);
    expect(server.requests).toHaveLength(0);
  });
});
