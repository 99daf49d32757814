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

/** The HierarchicalNSW class of addon.cc; splices marked `inClass` go after its first line. */
const CLASS_START = "class HierarchicalNSW : public Napi::ObjectWrap<HierarchicalNSW> {\n";

/** Text put before or after an anchor, or in its place. */
type Splice = { anchor: string; inClass?: true } & ({ before: string } | { after: string } | { replace: string });

/** What paperhound adds to hnswlib-node's addon.cc (scripts/hnswlib-add-points.cc, scripts/hnswlib-float16.cc, scripts/hnswlib-search.cc). */
export interface AddonAdditions {
  /** The addPoints method, for the HierarchicalNSW class. */
  addPoints: string;
  /** The searchKnnAsync (and its worker) and similarities methods, for the HierarchicalNSW class. */
  search: string;
  /** The "cosine-f16" space and its conversions, at namespace level. */
  float16: string;
}

/** HierarchicalNSW's members that convert points for the "cosine-f16" space (float32 elsewhere). */
const FLOAT16_MEMBERS = `  // paperhound: true for the "cosine-f16" space (scripts/hnswlib-float16.cc), whose points go in
  // and come out as float32 like the others'.
  bool half_ = false;
  void* storedPoint(std::vector<float>& vec) {
#ifdef PAPERHOUND_FLOAT16
    if (half_) paperhoundToFloat16InPlace(vec);
#endif
    return reinterpret_cast<void*>(vec.data());
  }
  std::vector<float> storedPointOf(size_t label) {
#ifdef PAPERHOUND_FLOAT16
    if (half_) {
      const std::vector<uint16_t> half = index_->getDataByLabel<uint16_t>(label);
      std::vector<float> vec(half.size());
      for (size_t i = 0; i < half.size(); i++) vec[i] = _cvtsh_ss(half[i]);
      return vec;
    }
#endif
    return index_->getDataByLabel<float>(label);
  }
`;

/** The constructor's branch for "cosine-f16", before it rejects names it does not know. */
const FLOAT16_CONSTRUCTOR = `#ifdef PAPERHOUND_FLOAT16
    if (space_name == "cosine-f16") {
      dim_ = info[1].As<Napi::Number>().Uint32Value();
      try {
        space_ = new PaperhoundFloat16Space(static_cast<size_t>(dim_));
      } catch (const std::bad_alloc& err) {
        Napi::Error::New(env, err.what()).ThrowAsJavaScriptException();
        return;
      }
      normalize_ = true;
      half_ = true;
      return;
    }
#endif
`;

function splices(parts: AddonAdditions): Splice[] {
  return [
    { anchor: "#include <cmath>\n", after: "#include <atomic>\n#include <limits>\n#include <mutex>\n#include <system_error>\n#include <thread>\n" },
    { anchor: CLASS_START, before: parts.float16 },
    { anchor: "  bool normalize_;\n", inClass: true, after: FLOAT16_MEMBERS },
    { anchor: '    if (space_name != "l2" && space_name != "ip" && space_name != "cosine") {\n', inClass: true, before: FLOAT16_CONSTRUCTOR },
    { anchor: '      InstanceMethod("addPoint", &HierarchicalNSW::addPoint),\n', inClass: true, after: '      InstanceMethod("addPoints", &HierarchicalNSW::addPoints),\n      InstanceMethod("searchKnnAsync", &HierarchicalNSW::searchKnnAsync),\n      InstanceMethod("similarities", &HierarchicalNSW::similarities),\n' },
    { anchor: "index_->addPoint(reinterpret_cast<void*>(vec.data()), ", inClass: true, replace: "index_->addPoint(storedPoint(vec), " },
    { anchor: "index_->searchKnn(reinterpret_cast<void*>(vec.data()), ", inClass: true, replace: "index_->searchKnn(storedPoint(vec), " },
    { anchor: "index_->getDataByLabel<float>(static_cast<size_t>(label))", inClass: true, replace: "storedPointOf(static_cast<size_t>(label))" },
    { anchor: "  Napi::Value markDelete(const Napi::CallbackInfo& info) {\n", inClass: true, before: parts.addPoints + parts.search },
  ];
}

/**
 * addon.cc with paperhound's additions spliced in (addPoints, searchKnnAsync, similarities, the "cosine-f16" space), or undefined
 * when an anchor is not found exactly once where it is looked for (another hnswlib-node version):
 * the build is then made without them.
 */
export function withAdditions(addon: string, parts: AddonAdditions): string | undefined {
  return spliced(addon, splices(parts));
}

/** `source` with each splice made, or undefined when an anchor is not found exactly once where it is looked for. */
function spliced(source: string, all: Splice[]): string | undefined {
  let out = source;
  for (const s of all) {
    const from = s.inClass ? out.indexOf(CLASS_START) : 0;
    if (from < 0) return undefined;
    const at = out.indexOf(s.anchor, from);
    if (at < 0 || out.indexOf(s.anchor, at + 1) >= 0) return undefined;
    if ("replace" in s) out = out.slice(0, at) + s.replace + out.slice(at + s.anchor.length);
    else if ("before" in s) out = out.slice(0, at) + s.before + out.slice(at);
    else out = out.slice(0, at + s.anchor.length) + s.after + out.slice(at + s.anchor.length);
  }
  return out;
}

/**
 * hnswlib's base layer (every vector and its links: 160 MB at 140k papers as half floats, 2.2 GB at
 * a million as float32) asked for in 2 MB pages where the kernel gives them on request (Linux's
 * transparent huge pages in "madvise" mode, the common default): an HNSW search reads thousands of
 * elements at random, and with 4 KB pages nearly each read also misses the TLB. Measured: 1.90-2.00 →
 * 1.59-1.67 ms per search at 140k, 2.0-2.45 → 1.57-1.77 ms at 1M (docs/benchmarks.md).
 */
const HUGE_PAGES = `#include <sys/mman.h>
// paperhound: spliced in by scripts/build-vector-addon.ts. Asks for 2 MB pages over [p, p + bytes)
// (its whole 4 KB pages); where the kernel has none to give, nothing changes.
inline void paperhoundHugePages(void* p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t page = 4096;
  const uintptr_t from = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t to = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(page - 1);
  if (p != nullptr && to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
#endif
}

`;

/** hnswalg.h's allocations of the base layer, each followed by the request for huge pages (before it is written). */
function hnswalgSplices(): Splice[] {
  return [
    { anchor: "namespace hnswlib {\n", before: HUGE_PAGES },
    {
      anchor: "        data_level0_memory_ = (char *) malloc(max_elements_ * size_data_per_element_);\n",
      after: "        paperhoundHugePages(data_level0_memory_, max_elements_ * size_data_per_element_);\n",
    },
    {
      anchor: "        data_level0_memory_ = data_level0_memory_new;\n",
      after: "        paperhoundHugePages(data_level0_memory_, new_max_elements * size_data_per_element_);\n",
    },
    {
      anchor: "        data_level0_memory_ = (char *) malloc(max_elements * size_data_per_element_);\n",
      after: "        paperhoundHugePages(data_level0_memory_, max_elements * size_data_per_element_);\n",
    },
  ];
}

/** hnswlib's hnswalg.h asking for huge pages for its base layer, or undefined when not laid out as expected. */
export function withHugePages(hnswalg: string): string | undefined {
  return spliced(hnswalg, hnswalgSplices());
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
    const read = (name: string): string => readFileSync(new URL(name, import.meta.url), "utf8");
    const additions = withAdditions(readFileSync(addonSource, "utf8"), {
      addPoints: read("./hnswlib-add-points.cc"),
      search: read("./hnswlib-search.cc"),
      float16: read("./hnswlib-float16.cc"),
    });
    if (additions) writeFileSync(addonSource, additions);
    else say(`hnswlib-node ${version}'s addon.cc is not laid out as expected: its ${SIMD_BUILD} build inserts vectors on one thread, searches on the calling thread and stores vectors as float32 only`);
    const hnswalgSource = path.join(work, "src", "hnswlib", "hnswalg.h");
    const hugePages = withHugePages(readFileSync(hnswalgSource, "utf8"));
    if (hugePages) writeFileSync(hnswalgSource, hugePages);
    else say(`hnswlib-node ${version}'s hnswalg.h is not laid out as expected: its ${SIMD_BUILD} build does not ask for huge pages`);
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
    const info: SimdBuildInfo = { hnswlibNode: version, march: SIMD_BUILD, cxxflags: flags, revision: SIMD_BUILD_REVISION, addPoints: additions !== undefined, searchAsync: additions !== undefined, similarities: additions !== undefined, float16: additions !== undefined, hugePages: hugePages !== undefined };
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
