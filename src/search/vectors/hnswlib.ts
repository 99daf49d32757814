/**
 * hnswlib-node, as the search core uses it: the x86-64-v3 build that postinstall makes
 * (scripts/build-vector-addon.ts; AVX2 and FMA distance functions) on a CPU that has those
 * features, otherwise the stock build npm made (SSE). Same source, same file layout, same results
 * up to float rounding. Chosen once per thread, at first import. VECTOR_SIMD=off keeps
 * the stock build (to compare, or to rule the build out).
 *
 * The CPU is checked before the build is loaded: running an AVX2 instruction on a CPU without it
 * kills the process, which no try/catch can stop (a Docker image built on one machine may run on
 * an older one).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import stock from "hnswlib-node";

export type HnswlibAddon = typeof stock;

/** The -march the second build is made for. */
export const SIMD_BUILD = "x86-64-v3";
/** Where in hnswlib-node's directory it is written. */
export const SIMD_BUILD_DIR = path.join("build", SIMD_BUILD);

/** build.json beside the second build's addon.node. */
export interface SimdBuildInfo {
  /** The hnswlib-node version whose source was compiled: another installed version means it is stale. */
  hnswlibNode: string;
  march: string;
  cxxflags: string;
  /** SIMD_BUILD_REVISION of the build script that made it (absent: before revisions were kept). */
  revision?: number;
  /** Whether addPoints (inserts on several threads) was compiled in. */
  addPoints?: boolean;
  /** Whether searchKnnAsync (a search on one of libuv's threads) was compiled in. */
  searchAsync?: boolean;
  /** Whether similarities (scores of given labels, without a search) was compiled in. */
  similarities?: boolean;
  /** Whether the "cosine-f16" space (vectors stored as half floats) was compiled in. */
  float16?: boolean;
  /** Whether hnswlib asks for huge pages for its base layer (scripts/build-vector-addon.ts, HUGE_PAGES). */
  hugePages?: boolean;
}

/**
 * What the build script adds to hnswlib-node's source; a build of another revision is made again
 * by the next install. 2: addPoints (scripts/hnswlib-add-points.cc). 3: the "cosine-f16" space
 * (scripts/hnswlib-float16.cc). 4: huge pages for hnswlib's base layer. 5: searchKnnAsync
 * (scripts/hnswlib-search.cc). 6: similarities (the same file).
 */
export const SIMD_BUILD_REVISION = 6;

/** hnswlib's space for unit vectors stored as half floats: in the x86-64-v3 build only. */
export const FLOAT16_SPACE = "cosine-f16";

/** Linux's /proc/cpuinfo names of x86-64-v3's features (lzcnt is reported as abm). */
const X86_64_V3_FLAGS = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"] as const;

/** The x86-64-v3 features /proc/cpuinfo's first "flags" line lacks; undefined when it has no such line. */
export function missingX86_64V3(cpuinfo: string): string[] | undefined {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return undefined;
  const has = new Set(line[1]!.trim().split(/\s+/));
  return X86_64_V3_FLAGS.filter((f) => !has.has(f));
}

export function simdBuildInfo(dir: string): SimdBuildInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path.join(dir, "build.json"), "utf8")) as Partial<SimdBuildInfo>;
    return typeof info.hnswlibNode === "string" && typeof info.march === "string" ? (info as SimdBuildInfo) : undefined;
  } catch {
    return undefined;
  }
}

export interface HnswlibChoice {
  addon: HnswlibAddon;
  /** "x86-64-v3", or "stock". */
  build: string;
  /** Why the stock build is used (absent when the x86-64-v3 one is). */
  reason?: string;
  /** Whether this build has the FLOAT16_SPACE (asked of the addon itself). */
  float16: boolean;
  /** Whether this build's graphs search on libuv's threads too (searchKnnAsync, asked of the addon itself). */
  searchAsync: boolean;
}

export interface ChooseOptions {
  /** VECTOR_SIMD: "off" keeps the stock build. */
  setting?: string;
  platform?: string;
  arch?: string;
  /** /proc/cpuinfo's text; read when not given. */
  cpuinfo?: string;
  /** hnswlib-node's directory; resolved when not given. */
  packageDir?: string;
}

const requireHere = createRequire(import.meta.url);

/** hnswlib-node's installed directory. */
export function hnswlibPackageDir(): string {
  return path.dirname(requireHere.resolve("hnswlib-node/package.json"));
}

/** The version in a package directory's package.json. */
export function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
}

export function chooseHnswlib(opts: ChooseOptions = {}): HnswlibChoice {
  const stockBecause = (reason: string): HnswlibChoice => ({ addon: stock, build: "stock", reason, float16: false, searchAsync: false });
  const setting = (opts.setting ?? "").trim().toLowerCase();
  if (setting === "off") return stockBecause("VECTOR_SIMD=off");
  if (setting !== "" && setting !== "auto") return stockBecause(`VECTOR_SIMD=${opts.setting} is neither "auto" nor "off"`);
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  if (platform !== "linux" || arch !== "x64") return stockBecause(`the ${SIMD_BUILD} build is made on Linux x86-64 only`);
  let cpuinfo = opts.cpuinfo;
  if (cpuinfo === undefined) {
    try {
      cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return stockBecause("/proc/cpuinfo cannot be read to check the CPU");
    }
  }
  const missing = missingX86_64V3(cpuinfo);
  if (missing === undefined) return stockBecause("/proc/cpuinfo lists no CPU features");
  if (missing.length > 0) return stockBecause(`this CPU lacks ${missing.join(", ")}`);
  const packageDir = opts.packageDir ?? hnswlibPackageDir();
  const dir = path.join(packageDir, SIMD_BUILD_DIR);
  const file = path.join(dir, "addon.node");
  if (!existsSync(file)) return stockBecause(`${file} is missing (npm install builds it; npm run build:vector-addon makes it now)`);
  const version = packageVersion(packageDir);
  const info = simdBuildInfo(dir);
  if (info?.hnswlibNode !== version) {
    return stockBecause(`${file} was built from hnswlib-node ${info?.hnswlibNode ?? "(unknown)"}, not the installed ${version}: run npm run build:vector-addon`);
  }
  try {
    const addon = requireHere(file) as HnswlibAddon;
    if (typeof addon.HierarchicalNSW !== "function" || typeof addon.BruteforceSearch !== "function") return stockBecause(`${file} is not hnswlib-node's addon`);
    return { addon, build: SIMD_BUILD, float16: hasSpace(addon, FLOAT16_SPACE), searchAsync: typeof (addon.HierarchicalNSW.prototype as Partial<Record<"searchKnnAsync", unknown>>).searchKnnAsync === "function" };
  } catch (err) {
    return stockBecause(`${file} does not load: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Whether the addon's HierarchicalNSW accepts a space name (it throws for one it does not know). */
function hasSpace(addon: HnswlibAddon, space: string): boolean {
  try {
    new addon.HierarchicalNSW(space as "cosine", 16);
    return true;
  } catch {
    return false;
  }
}

/** The build this thread uses. */
export const hnswlib: HnswlibChoice = chooseHnswlib({ setting: process.env.VECTOR_SIMD });
