/**
 * Ingest parsing benchmark: how fast the source parsers turn recorded responses into papers, and
 * how much memory they need.
 *
 *   npm run bench:ingest -- [--fixtures DIR] [--hf-archive PATH] [--oai PATH] [--rounds 5] [--scale 20]
 *
 *   --fixtures    folder of recorded responses; default ../shared/data/fixtures (from the project root)
 *   --hf-archive  the Hugging Face daily-papers archive, one day per line (gzipped JSON Lines);
 *                 default <fixtures>/hf-daily-papers/daily-papers-2024-05_2026-08.jsonl.gz
 *   --oai         an OAI-PMH ListRecords response; default <fixtures>/arxiv-oai-pmh/listrecords-oai_dc-2014-12-24.xml
 *   --rounds      timed runs of each dataset (after warm-up runs: at least 3 and 0.5 s); the median is reported
 *   --scale       the OAI records are also streamed this many times over in one response, to
 *                 show memory stays flat as the input grows (0: skip)
 *
 * Each dataset is parsed in its own child process through `readPapersFromFile` (the path
 * `paperhound index` takes: file reading, gunzip, format detection, parsing), so its peak RSS is
 * its own. Targets: 20,000 records/s for JSON, 5,000 records/s for XML. The last line of output is
 * one JSON object with every figure.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readPapersFromFile } from "../src/papers/sources/detect-format.js";
import { readOaiPmh } from "../src/papers/sources/oai-pmh.js";
import { projectRoot } from "../src/paths.js";

const TARGETS = { json: 20_000, xml: 5_000 };
const DEFAULT_FIXTURES = path.resolve(projectRoot, "..", "shared", "data", "fixtures");
const USAGE = `usage: npm run bench:ingest -- [--fixtures DIR] [--hf-archive PATH] [--oai PATH] [--rounds 5] [--scale 20]
  --fixtures defaults to ${DEFAULT_FIXTURES}`;

type Phase = "json" | "xml" | "xml-scaled";

interface PhaseResult {
  phase: Phase;
  file: string;
  records: number;
  /** Records that were errors (must be 0 for these recordings). */
  errors: number;
  /** Input size in bytes (uncompressed text for the gzipped archive). */
  bytes: number;
  rounds: number[];
  medianSeconds: number;
  recordsPerSec: number;
  bestRecordsPerSec: number;
  rssStartMB: number;
  peakRssMB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

// ---------------------------------------------------------------------------------------------
// Child: one dataset

/** The OAI response with its records repeated `times` times, streamed in 64 KB pieces. */
function scaledOai(file: string, times: number): { stream: Readable; bytes: number } {
  const text = readFileSync(file, "utf8");
  const open = text.indexOf("<ListRecords>") + "<ListRecords>".length;
  const close = text.lastIndexOf("</ListRecords>");
  const head = text.slice(0, open);
  const body = text.slice(open, close).replace(/<resumptionToken[\s\S]*?(?:\/>|<\/resumptionToken>)/, "");
  const tail = text.slice(close);
  function* pieces(): Generator<string> {
    yield head;
    for (let i = 0; i < times; i++) for (let at = 0; at < body.length; at += 1 << 16) yield body.slice(at, at + (1 << 16));
    yield tail;
  }
  return { stream: Readable.from(pieces()), bytes: Buffer.byteLength(head) + Buffer.byteLength(body) * times + Buffer.byteLength(tail) };
}

async function parseOnce(phase: Phase, file: string, scale: number): Promise<{ records: number; errors: number; bytes: number }> {
  let records = 0;
  let errors = 0;
  if (phase === "xml-scaled") {
    const { stream, bytes } = scaledOai(file, scale);
    for await (const item of readOaiPmh(stream)) {
      if (item.kind === "record") records++;
      else if (item.kind === "invalid") errors++;
    }
    return { records, errors, bytes };
  }
  for await (const e of readPapersFromFile(file)) {
    if (e.paper) records++;
    else errors++;
  }
  return { records, errors, bytes: 0 };
}

async function runChild(phase: Phase, file: string, rounds: number, scale: number): Promise<void> {
  const rssStart = process.memoryUsage().rss;
  // Warm-up (JIT, file cache): at least 3 runs and 0.5 s, so a small file is not timed while the
  // parser is still being compiled; the figures are steady-state throughput.
  const warmStart = performance.now();
  for (let i = 0; phase !== "xml-scaled" && i < 20 && (i < 3 || performance.now() - warmStart < 500); i++) await parseOnce(phase, file, scale);
  const times: number[] = [];
  let last = { records: 0, errors: 0, bytes: 0 };
  const roundsToRun = phase === "xml-scaled" ? 1 : rounds;
  for (let i = 0; i < roundsToRun; i++) {
    const t0 = performance.now();
    last = await parseOnce(phase, file, scale);
    times.push((performance.now() - t0) / 1000);
  }
  const med = median(times);
  const result: PhaseResult = {
    phase,
    file,
    records: last.records,
    errors: last.errors,
    bytes: last.bytes,
    rounds: times.map((t) => Math.round(t * 1000) / 1000),
    medianSeconds: Math.round(med * 1000) / 1000,
    recordsPerSec: Math.round(last.records / med),
    bestRecordsPerSec: Math.round(last.records / Math.min(...times)),
    rssStartMB: mb(rssStart),
    // maxRSS is in kilobytes.
    peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent

function runPhase(phase: Phase, file: string, rounds: number, scale: number): Promise<PhaseResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, "--child", phase, "--file", file, "--rounds", String(rounds), "--scale", String(scale)], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`the ${phase} benchmark child exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as PhaseResult);
      } catch {
        reject(new Error(`the ${phase} benchmark child printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

function uncompressedSize(file: string): number {
  // The archive is gzipped; the text size is what the JSON parser reads.
  const buf = readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) return Number(buf.readUInt32LE(buf.length - 4)); // ISIZE (mod 2^32; fine below 4 GB)
  return buf.length;
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fixtures: { type: "string" },
      "hf-archive": { type: "string" },
      oai: { type: "string" },
      rounds: { type: "string", default: "5" },
      scale: { type: "string", default: "20" },
      child: { type: "string" },
      file: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const rounds = Number(values.rounds);
  const scale = Number(values.scale);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(scale) || scale < 0) throw new Error(`--rounds must be ≥ 1 and --scale ≥ 0\n${USAGE}`);
  if (values.child) return runChild(values.child as Phase, values.file!, rounds, scale);

  const fixtures = path.resolve(values.fixtures ?? DEFAULT_FIXTURES);
  const hfArchive = path.resolve(values["hf-archive"] ?? path.join(fixtures, "hf-daily-papers", "daily-papers-2024-05_2026-08.jsonl.gz"));
  const oai = path.resolve(values.oai ?? path.join(fixtures, "arxiv-oai-pmh", "listrecords-oai_dc-2014-12-24.xml"));
  for (const f of [hfArchive, oai]) if (!existsSync(f)) throw new Error(`${f} does not exist (give --fixtures, --hf-archive or --oai)\n${USAGE}`);

  const json = await runPhase("json", hfArchive, rounds, scale);
  json.bytes = uncompressedSize(hfArchive);
  process.stdout.write(
    `JSON  ${path.basename(hfArchive)}: ${fmt(json.records)} papers (${fmt(json.errors)} errors), ${mb(json.bytes)} MB of JSON (${mb(statSync(hfArchive).size)} MB gzipped)\n` +
      `      ${json.medianSeconds} s median of ${rounds} → ${fmt(json.recordsPerSec)} records/s (best ${fmt(json.bestRecordsPerSec)}; target ${fmt(TARGETS.json)}), ` +
      `peak RSS ${json.peakRssMB} MB (process start ${json.rssStartMB} MB)\n`,
  );
  const xml = await runPhase("xml", oai, rounds, scale);
  xml.bytes = statSync(oai).size;
  process.stdout.write(
    `XML   ${path.basename(oai)}: ${fmt(xml.records)} records (${fmt(xml.errors)} errors), ${mb(xml.bytes)} MB\n` +
      `      ${xml.medianSeconds} s median of ${rounds} → ${fmt(xml.recordsPerSec)} records/s (best ${fmt(xml.bestRecordsPerSec)}; target ${fmt(TARGETS.xml)}), ` +
      `peak RSS ${xml.peakRssMB} MB (process start ${xml.rssStartMB} MB)\n`,
  );
  let scaled: PhaseResult | undefined;
  if (scale > 0) {
    scaled = await runPhase("xml-scaled", oai, rounds, scale);
    process.stdout.write(
      `XML×${scale} the same records streamed ${scale} times in one response: ${fmt(scaled.records)} records, ${mb(scaled.bytes)} MB\n` +
        `      ${scaled.medianSeconds} s → ${fmt(scaled.recordsPerSec)} records/s, peak RSS ${scaled.peakRssMB} MB ` +
        `(vs ${xml.peakRssMB} MB for the ${mb(xml.bytes)} MB file: memory does not grow with the input)\n`,
    );
  }
  const summary = {
    json,
    xml,
    ...(scaled ? { xmlScaled: scaled } : {}),
    targets: TARGETS,
    met: { json: json.recordsPerSec >= TARGETS.json, xml: xml.recordsPerSec >= TARGETS.xml },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ingest: ${(err as Error).message}\n`);
  process.exit(1);
});
