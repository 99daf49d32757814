/**
 * npm run build:vector-addon   (postinstall runs it without --force: only when missing or stale)
 *
 * Compiles hnswlib-node's addon a second time, for x86-64-v3 (AVX2, FMA), into
 * node_modules/hnswlib-node/build/x86-64-v3/. hnswlib picks its AVX distance functions only when
 * compiled with AVX; npm builds the addon for any x86-64, so the stock build computes distances
 * with SSE. The search core loads this build where the CPU has the features, the stock one
 * elsewhere (src/search/vectors/hnswlib.ts); both read and write the same files. Measured at 140k
 * papers (docs/benchmarks.md): about 1 ms less CPU per /paper.
 *
 * It lives inside hnswlib-node's directory so that reinstalling that package removes it with the
 * stock build it was made from (the next install builds it again). It never fails the install:
 * without a compiler, or on another architecture, it says why and the stock build is used.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { hnswlibPackageDir, packageVersion, SIMD_BUILD, SIMD_BUILD_DIR, SIMD_BUILD_REVISION, simdBuildInfo, type SimdBuildInfo } from "../src/search/vectors/hnswlib.js";

function say(message: string): void {
  process.stdout.write(`paperhound: ${message}\n`);
}

function nodeGypScript(): string | undefined {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  return candidates.find((p): p is string => typeof p === "string" && p.length > 0 && existsSync(p));
}

/**
 * Node's headers: npm passes its nodedir setting to scripts it runs; run by hand, the headers
 * installed with this node are used (node-gyp would otherwise download them).
 */
function nodeHeaders(): string[] {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.join(path.dirname(process.execPath), "..");
  return existsSync(path.join(prefix, "include", "node", "node.h")) ? [`--nodedir=${prefix}`] : [];
}

/** Where the addPoints method (scripts/hnswlib-add-points.cc) goes in hnswlib-node's addon.cc. */
const SPLICES = [
  { after: "#include <cmath>\n", insert: "#include <atomic>\n#include <mutex>\n#include <system_error>\n#include <thread>\n" },
  { after: '      InstanceMethod("addPoint", &HierarchicalNSW::addPoint),\n', insert: '      InstanceMethod("addPoints", &HierarchicalNSW::addPoints),\n' },
  { before: "  Napi::Value markDelete(const Napi::CallbackInfo& info) {\n", insert: "" }, // the method itself: filled in below
] as const;

/**
 * addon.cc with addPoints spliced into the HierarchicalNSW class, or undefined when an anchor is not
 * found exactly once (another hnswlib-node version): the build is then made without it.
 */
export function withAddPoints(addon: string, method: string): string | undefined {
  let out = addon;
  for (const s of SPLICES) {
    const anchor = "after" in s ? s.after : s.before;
    const at = out.indexOf(anchor);
    if (at < 0 || out.indexOf(anchor, at + 1) >= 0) return undefined;
    const text = "after" in s ? s.insert : method;
    const pos = "after" in s ? at + anchor.length : at;
    out = out.slice(0, pos) + text + out.slice(pos);
  }
  return out;
}

function main(): number {
  const force = process.argv.includes("--force");
  if (process.platform !== "linux" || process.arch !== "x64") {
    say(`vector search uses hnswlib-node's stock build (the ${SIMD_BUILD} build is made on Linux x86-64 only)`);
    return 0;
  }
  const pkgDir = hnswlibPackageDir();
  const version = packageVersion(pkgDir);
  const target = path.join(pkgDir, SIMD_BUILD_DIR);
  const made = simdBuildInfo(target);
  if (!force && made?.hnswlibNode === version && made.revision === SIMD_BUILD_REVISION) return 0;
  const gyp = nodeGypScript();
  if (!gyp) {
    say(`node-gyp not found: vector search uses hnswlib-node's stock build (\`npm run build:vector-addon\` makes the ${SIMD_BUILD} one with npm's node-gyp)`);
    return 0;
  }
  // Built inside node_modules so that binding.gyp finds node-addon-api as it would in the package.
  const work = mkdtempSync(path.join(pkgDir, "..", ".paperhound-hnswlib-"));
  try {
    cpSync(path.join(pkgDir, "binding.gyp"), path.join(work, "binding.gyp"));
    cpSync(path.join(pkgDir, "src"), path.join(work, "src"), { recursive: true });
    const addonSource = path.join(work, "src", "addon.cc");
    const spliced = withAddPoints(readFileSync(addonSource, "utf8"), readFileSync(new URL("./hnswlib-add-points.cc", import.meta.url), "utf8"));
    if (spliced) writeFileSync(addonSource, spliced);
    else say(`hnswlib-node ${version}'s addon.cc is not laid out as expected: its ${SIMD_BUILD} build inserts vectors on one thread`);
    const flags = `${process.env.CXXFLAGS ?? ""} -march=${SIMD_BUILD}`.trim();
    const run = spawnSync(process.execPath, [gyp, "rebuild", ...nodeHeaders()], { cwd: work, env: { ...process.env, CXXFLAGS: flags }, encoding: "utf8" });
    const built = path.join(work, "build", "Release", "addon.node");
    if (run.status !== 0 || !existsSync(built)) {
      const tail = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim().split("\n").slice(-5).join("\n");
      say(`the ${SIMD_BUILD} build of hnswlib-node failed (${run.error?.message ?? `exit ${run.status}`}); vector search uses the stock build\n${tail}`);
      return 0;
    }
    // Written whole in a new directory, then renamed over the old one: a reader sees one build or the other.
    const staged = path.join(work, "staged");
    cpSync(built, path.join(staged, "addon.node"));
    const info: SimdBuildInfo = { hnswlibNode: version, march: SIMD_BUILD, cxxflags: flags, revision: SIMD_BUILD_REVISION, addPoints: spliced !== undefined };
    writeFileSync(path.join(staged, "build.json"), `${JSON.stringify(info)}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(staged, target);
    say(`built hnswlib-node ${version} for ${SIMD_BUILD} (AVX2, FMA): used for vector search on CPUs that have them`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = main();
