import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import stock from "hnswlib-node";
import { afterAll, describe, expect, it } from "vitest";
import { chooseHnswlib, hnswlib, hnswlibPackageDir, missingX86_64V3, SIMD_BUILD, SIMD_BUILD_DIR, SIMD_BUILD_REVISION } from "../../src/search/vectors/hnswlib.js";
import { withAdditions, withHugePages } from "../../scripts/build-vector-addon.js";
import { seededRandom } from "../../src/random.js";

const V3_FLAGS = "fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 movbe xsave avx f16c abm bmi1 avx2 bmi2";
const cpuinfo = (flags: string) => `processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: ${flags}\nbugs\t\t: sysret_ss_attrs\n\nprocessor\t: 1\nflags\t\t: ${flags}\n`;

describe("which hnswlib build runs", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  /** A stand-in for hnswlib-node's directory: its package.json and, optionally, a second build. */
  function packageDir(version: string, build?: { for: string; addon: boolean }): string {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-hnswlib-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "hnswlib-node", version }));
    if (build) {
      mkdirSync(path.join(dir, SIMD_BUILD_DIR), { recursive: true });
      writeFileSync(path.join(dir, SIMD_BUILD_DIR, "build.json"), JSON.stringify({ hnswlibNode: build.for, march: SIMD_BUILD, cxxflags: "" }));
      if (build.addon) writeFileSync(path.join(dir, SIMD_BUILD_DIR, "addon.node"), "not an addon");
    }
    return dir;
  }
  const linux = { platform: "linux", arch: "x64" };

  it("reads the CPU's x86-64-v3 features from /proc/cpuinfo", () => {
    expect(missingX86_64V3(cpuinfo(V3_FLAGS))).toEqual([]);
    // A Sandy Bridge: AVX, no AVX2, FMA, BMI or F16C.
    expect(missingX86_64V3(cpuinfo("fpu sse sse2 ssse3 sse4_1 sse4_2 xsave avx popcnt"))).toEqual(["avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"]);
    expect(missingX86_64V3("processor\t: 0\nmodel name\t: something\n")).toBeUndefined();
    // "avx2" alone does not count as "avx": words, not substrings.
    expect(missingX86_64V3(cpuinfo(V3_FLAGS.replace(" avx ", " ")))).toEqual(["avx"]);
  });

  it("keeps the stock build, saying why, when the setting, the platform, the CPU or the second build rule it out", () => {
    const ok = { ...linux, cpuinfo: cpuinfo(V3_FLAGS) };
    const cases: [ReturnType<typeof chooseHnswlib>, RegExp][] = [
      [chooseHnswlib({ ...ok, setting: "off" }), /VECTOR_SIMD=off/],
      [chooseHnswlib({ ...ok, setting: "fast" }), /VECTOR_SIMD=fast is neither "auto" nor "off"/],
      [chooseHnswlib({ ...ok, platform: "darwin" }), /Linux x86-64 only/],
      [chooseHnswlib({ ...ok, arch: "arm64" }), /Linux x86-64 only/],
      [chooseHnswlib({ ...linux, cpuinfo: cpuinfo("fpu sse sse2 avx") }), /this CPU lacks avx2, bmi1/],
      [chooseHnswlib({ ...linux, cpuinfo: "" }), /lists no CPU features/],
      [chooseHnswlib({ ...ok, packageDir: packageDir("3.0.0") }), /addon\.node is missing/],
      [chooseHnswlib({ ...ok, packageDir: packageDir("3.1.0", { for: "3.0.0", addon: true }) }), /built from hnswlib-node 3\.0\.0, not the installed 3\.1\.0/],
      [chooseHnswlib({ ...ok, packageDir: packageDir("3.0.0", { for: "3.0.0", addon: true }) }), /does not load/],
    ];
    for (const [choice, reason] of cases) {
      expect(choice.build).toBe("stock");
      expect(choice.addon).toBe(stock);
      expect(choice.reason).toMatch(reason);
    }
  });

  it("uses the x86-64-v3 build that npm install made on a CPU that has the features", () => {
    const own = process.platform === "linux" && process.arch === "x64" ? missingX86_64V3(readFileSync("/proc/cpuinfo", "utf8")) : undefined;
    if (own === undefined || own.length > 0 || process.env.VECTOR_SIMD) {
      // Another machine: whatever it chose, it says why it is not the second build.
      expect(hnswlib.build === SIMD_BUILD || hnswlib.reason !== undefined).toBe(true);
      return;
    }
    expect(hnswlib.reason).toBeUndefined();
    expect(hnswlib.build).toBe(SIMD_BUILD);
    expect(hnswlib.addon).not.toBe(stock);
  });
});

describe("the x86-64-v3 build against the stock one", () => {
  const dim = 96;
  const n = 3000;
  const rand = seededRandom(4242);
  const unit = () => {
    const v = Array.from({ length: dim }, () => rand() - 0.5);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const points = Array.from({ length: n }, unit);
  const queries = Array.from({ length: 40 }, unit);
  const build = (addon: typeof stock) => {
    const index = new addon.HierarchicalNSW("cosine", dim);
    index.initIndex(n, 16, 100, 100, false);
    points.forEach((p, i) => index.addPoint(p, i));
    index.setEf(200);
    return index;
  };
  const exactTop = (q: number[], k: number) =>
    points
      .map((p, i) => ({ i, d: 1 - p.reduce((s, x, j) => s + x * q[j]!, 0) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, k)
      .map((h) => h.i);

  it.runIf(hnswlib.build === SIMD_BUILD)("finds the same neighbours at the same distances, and reads the other's files", () => {
    const a = build(stock);
    const b = build(hnswlib.addon);
    const dir = mkdtempSync(path.join(tmpdir(), "ph-hnswlib-file-"));
    try {
      a.writeIndexSync(path.join(dir, "stock.bin"));
      const fromStock = new hnswlib.addon.HierarchicalNSW("cosine", dim);
      fromStock.readIndexSync(path.join(dir, "stock.bin"), false);
      fromStock.setEf(200);
      let agree = 0;
      let found = 0;
      for (const q of queries) {
        const ra = a.searchKnn(q, 10);
        const rb = b.searchKnn(q, 10);
        const rf = fromStock.searchKnn(q, 10);
        // The same graph read by the other build: the same answer, distances equal to float rounding.
        expect(rf.neighbors).toEqual(ra.neighbors);
        rf.distances.forEach((d, i) => expect(d).toBeCloseTo(ra.distances[i]!, 5));
        // Graphs built by each: nearly the same neighbours, both near the exact answer.
        agree += rb.neighbors.filter((x) => ra.neighbors.includes(x)).length;
        const exact = exactTop(q, 10);
        found += rb.neighbors.filter((x) => exact.includes(x)).length;
        rb.neighbors.forEach((label, i) => expect(rb.distances[i]).toBeCloseTo(1 - points[label]!.reduce((s, x, j) => s + x * q[j]!, 0), 5));
      }
      expect(agree / (10 * queries.length)).toBeGreaterThanOrEqual(0.98);
      expect(found / (10 * queries.length)).toBeGreaterThanOrEqual(0.95);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("addPoints, compiled into the x86-64-v3 build: inserts on several threads", () => {
  const dim = 64;
  const n = 4000;
  const rand = seededRandom(99);
  const rows = new Float32Array(n * dim).map(() => rand() - 0.5);
  const labels = Uint32Array.from({ length: n }, (_, i) => 10 * i + 7);
  type WithAddPoints = { addPoints(points: Float32Array, labels: Uint32Array, threads: number): void };
  const withAddPoints = (index: unknown) => index as WithAddPoints;

  it("is in the x86-64-v3 build npm install made (build.json says so)", () => {
    if (hnswlib.build !== SIMD_BUILD) return; // another machine: the stock build has no addPoints
    expect(typeof withAddPoints(hnswlib.addon.HierarchicalNSW.prototype).addPoints).toBe("function");
    const info = JSON.parse(readFileSync(path.join(hnswlibPackageDir(), SIMD_BUILD_DIR, "build.json"), "utf8")) as { revision?: number; addPoints?: boolean };
    expect(info).toMatchObject({ revision: SIMD_BUILD_REVISION, addPoints: true, searchAsync: true, similarities: true, float16: true, hugePages: true });
    expect(hnswlib.float16).toBe(true);
    expect(hnswlib.searchAsync).toBe(true);
  });

  it.runIf(hnswlib.build === SIMD_BUILD)("stores every vector under its label (normalised, as addPoint does) and finds the exact neighbours", () => {
    const index = new hnswlib.addon.HierarchicalNSW("cosine", dim);
    index.initIndex(n, 16, 100, 100, false);
    for (let start = 0; start < n; start += 1000) withAddPoints(index).addPoints(rows.subarray(start * dim, (start + 1000) * dim), labels.subarray(start, start + 1000), 2);
    expect(index.getCurrentCount()).toBe(n);
    expect(new Set(index.getIdsList())).toEqual(new Set(labels));
    const one = new hnswlib.addon.HierarchicalNSW("cosine", dim);
    one.initIndex(1, 16, 100, 100, false);
    one.addPoint(Array.from(rows.subarray(5 * dim, 6 * dim)), 1);
    const stored = index.getPoint(labels[5]!);
    one.getPoint(1).forEach((x, d) => expect(stored[d]).toBeCloseTo(x, 6));
    index.setEf(200);
    let found = 0;
    for (let q = 0; q < 40; q++) {
      const query = Array.from({ length: dim }, () => rand() - 0.5);
      const norm = Math.hypot(...query);
      const exact = Array.from({ length: n }, (_, i) => {
        let dot = 0;
        let sq = 0;
        for (let d = 0; d < dim; d++) {
          dot += rows[i * dim + d]! * query[d]!;
          sq += rows[i * dim + d]! ** 2;
        }
        return { label: labels[i]!, cos: dot / Math.sqrt(sq) / norm };
      })
        .sort((a, b) => b.cos - a.cos)
        .slice(0, 10)
        .map((h) => h.label);
      found += index.searchKnn(query, 10).neighbors.filter((l) => exact.includes(l)).length;
    }
    expect(found / 400).toBeGreaterThanOrEqual(0.95);
  });

  it.runIf(hnswlib.build === SIMD_BUILD)("refuses wrong arguments, and reports hnswlib's own error (a full index) once the threads stopped", () => {
    const index = withAddPoints(new hnswlib.addon.HierarchicalNSW("cosine", dim));
    expect(() => index.addPoints(rows.subarray(0, dim), labels.subarray(0, 1), 2)).toThrow(/initIndex/);
    (index as unknown as InstanceType<typeof stock.HierarchicalNSW>).initIndex(100, 16, 100, 100, false);
    expect(() => index.addPoints(Array.from(rows.subarray(0, dim)) as unknown as Float32Array, labels.subarray(0, 1), 2)).toThrow(/Float32Array, labels: Uint32Array/);
    expect(() => index.addPoints(rows.subarray(0, dim), Int32Array.from([1]) as unknown as Uint32Array, 2)).toThrow(/Uint32Array/);
    expect(() => index.addPoints(rows.subarray(0, 2 * dim), labels.subarray(0, 1), 2)).toThrow(/expected 1 x 64, but got 128/);
    expect(() => index.addPoints(rows.subarray(0, 300 * dim), labels.subarray(0, 300), 2)).toThrow(/Hnswlib Error: .*exceeds the specified limit/);
  });
});

describe("searchKnnAsync, compiled into the x86-64-v3 build: a search on one of libuv's threads", () => {
  const dim = 32;
  const n = 3000;
  const rand = seededRandom(7);
  const rows = Array.from({ length: n }, () => Array.from({ length: dim }, () => rand() - 0.5));
  type WithAsync = { searchKnnAsync(query: Float32Array, k: number): Promise<{ distances: Float32Array; neighbors: Uint32Array }> };
  const graph = (space: string) => {
    const index = new hnswlib.addon.HierarchicalNSW(space as "cosine", dim);
    index.initIndex(n, 16, 100, 100, false);
    rows.forEach((row, i) => index.addPoint(row, 3 * i + 1));
    index.setEf(64);
    return index;
  };

  it.runIf(hnswlib.build === SIMD_BUILD).each(["cosine", "cosine-f16"])("finds what searchKnn finds, nearest first, in the %s space, many at once", async (space) => {
    const index = graph(space);
    const queries = Array.from({ length: 30 }, () => Float32Array.from({ length: dim }, () => rand() - 0.5));
    // All queued before any settles: they run side by side on the pool's threads.
    const answers = await Promise.all(queries.map((q) => (index as unknown as WithAsync).searchKnnAsync(q, 10)));
    answers.forEach((got, i) => {
      const want = index.searchKnn(Array.from(queries[i]!), 10);
      expect(got.neighbors).toBeInstanceOf(Uint32Array);
      expect(Array.from(got.neighbors)).toEqual(want.neighbors);
      Array.from(got.distances).forEach((d, j) => expect(d).toBeCloseTo(want.distances[j]!, 6));
      expect([...got.distances].every((d, j, all) => j === 0 || all[j - 1]! <= d)).toBe(true);
    });
  });

  it.runIf(hnswlib.build === SIMD_BUILD)("refuses wrong arguments at once, with the sync search's messages", () => {
    const empty = new hnswlib.addon.HierarchicalNSW("cosine", dim) as unknown as WithAsync;
    expect(() => empty.searchKnnAsync(new Float32Array(dim), 1)).toThrow(/initIndex/);
    const index = graph("cosine") as unknown as WithAsync;
    expect(() => index.searchKnnAsync(Array.from(new Float32Array(dim)) as unknown as Float32Array, 1)).toThrow(/searchKnnAsync\(query: Float32Array, k: number\)/);
    expect(() => index.searchKnnAsync(new Float32Array(dim - 1), 1)).toThrow(/expected 32, but got 31/);
    expect(() => index.searchKnnAsync(new Float32Array(dim), 0)).toThrow(/k-nearest neighbors/);
    expect(() => index.searchKnnAsync(new Float32Array(dim), n + 1)).toThrow(/k-nearest neighbors/);
  });

  it.runIf(hnswlib.build === SIMD_BUILD).each(["cosine", "cosine-f16"])("similarities (%s): the scores searchKnn gives the labels asked for, NaN for unknown and deleted ones", (space) => {
    type WithScores = { similarities(query: Float32Array, labels: Uint32Array): Float32Array };
    const index = graph(space);
    index.markDelete(3 * 7 + 1);
    const query = Float32Array.from({ length: dim }, () => rand() - 0.5);
    const near = index.searchKnn(Array.from(query), 20);
    const scores = (index as unknown as WithScores).similarities(query, Uint32Array.from([...near.neighbors, 3 * 7 + 1, 2]));
    near.neighbors.forEach((_, i) => expect(scores[i]).toBeCloseTo(1 - near.distances[i]!, 6));
    expect(scores.slice(20).every(Number.isNaN)).toBe(true);
    expect((index as unknown as WithScores).similarities(query, new Uint32Array(0))).toHaveLength(0);
    expect(() => (index as unknown as WithScores).similarities(query, Int32Array.from([1]) as unknown as Uint32Array)).toThrow(/similarities\(query: Float32Array, labels: Uint32Array\)/);
    expect(() => (index as unknown as WithScores).similarities(new Float32Array(dim + 1), Uint32Array.from([1]))).toThrow(/expected 32, but got 33/);
  });

  it.runIf(hnswlib.build === SIMD_BUILD)("keeps its graph alive while searching, though nothing else holds it", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const pending = (graph("cosine") as unknown as WithAsync).searchKnnAsync(Float32Array.from(rows[5]!), 3);
    gc(); // would free the graph under the running search if the promise did not hold it
    expect((await pending).neighbors[0]).toBe(16);
  });
});

describe("the build script's splices into hnswlib-node's addon.cc (addPoints, searchKnnAsync, the cosine-f16 space)", () => {
  const addon = readFileSync(path.join(hnswlibPackageDir(), "src", "addon.cc"), "utf8");
  const parts = { addPoints: "  /* METHOD */\n", search: "  /* ASYNC */\n", float16: "/* FLOAT16 */\n" };

  it("puts the includes, the space, the method and its registration where they belong, in the HierarchicalNSW class", () => {
    const spliced = withAdditions(addon, parts);
    expect(spliced).toBeDefined();
    const classAt = spliced!.indexOf("class HierarchicalNSW");
    expect(spliced!.indexOf("#include <thread>")).toBeLessThan(classAt);
    expect(spliced).toContain("/* FLOAT16 */\nclass HierarchicalNSW : public");
    expect(spliced).toContain(
      'InstanceMethod("addPoint", &HierarchicalNSW::addPoint),\n      InstanceMethod("addPoints", &HierarchicalNSW::addPoints),\n      InstanceMethod("searchKnnAsync", &HierarchicalNSW::searchKnnAsync),\n      InstanceMethod("similarities", &HierarchicalNSW::similarities),',
    );
    expect(spliced!.indexOf("/* METHOD */")).toBeGreaterThan(classAt);
    expect(spliced).toContain("  /* METHOD */\n  /* ASYNC */\n  Napi::Value markDelete(");
    // HierarchicalNSW's points pass through the conversion; BruteforceSearch's (before it) do not.
    expect(spliced!.indexOf("bool half_ = false;")).toBeGreaterThan(classAt);
    expect(spliced!.indexOf('if (space_name == "cosine-f16")')).toBeGreaterThan(classAt);
    expect(spliced!.slice(classAt)).not.toContain("reinterpret_cast<void*>(vec.data()), ");
    expect(spliced!.slice(0, classAt)).toContain("index_->addPoint(reinterpret_cast<void*>(vec.data()), ");
    expect(spliced).toContain("index_->searchKnn(storedPoint(vec), ");
    expect(spliced).toContain("storedPointOf(static_cast<size_t>(label))");
  });

  it("gives up (the build is made without them) when an anchor is missing or not unique where it is looked for", () => {
    expect(withAdditions(addon.replace("#include <cmath>\n", ""), parts)).toBeUndefined();
    expect(withAdditions(addon.replace("Napi::Value markDelete(", "Napi::Value markDeleted("), parts)).toBeUndefined();
    expect(withAdditions(`${addon}\n#include <cmath>\n`, parts)).toBeUndefined();
    expect(withAdditions(addon.replace("class HierarchicalNSW : public", "class HNSW : public"), parts)).toBeUndefined();
    expect(withAdditions(addon.replace("std::vector<float> vec = index_->getDataByLabel<float>", "auto vec = index_->getDataByLabel<double>"), parts)).toBeUndefined();
  });
});

describe("huge pages for hnswlib's base layer (the x86-64-v3 build)", () => {
  const hnswalg = readFileSync(path.join(hnswlibPackageDir(), "src", "hnswlib", "hnswalg.h"), "utf8");
  /** Linux's transparent huge pages: given on request in "madvise" mode (and always in "always"). */
  const thp = (() => {
    try {
      return /\[(always|madvise)\]/.exec(readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"))?.[1];
    } catch {
      return undefined;
    }
  })();
  const anonHugeKb = () => Number(/AnonHugePages:\s+(\d+) kB/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))?.[1] ?? 0);

  it("asks for them right after each allocation of the base layer (new, loaded, resized), and gives up on another layout", () => {
    const spliced = withHugePages(hnswalg)!;
    expect(spliced).toBeDefined();
    expect(spliced.indexOf("inline void paperhoundHugePages(")).toBeLessThan(spliced.indexOf("namespace hnswlib {"));
    expect(spliced).toContain("malloc(max_elements_ * size_data_per_element_);\n        paperhoundHugePages(data_level0_memory_, max_elements_ * size_data_per_element_);");
    expect(spliced).toContain("malloc(max_elements * size_data_per_element_);\n        paperhoundHugePages(data_level0_memory_, max_elements * size_data_per_element_);");
    expect(spliced).toContain("data_level0_memory_ = data_level0_memory_new;\n        paperhoundHugePages(data_level0_memory_, new_max_elements * size_data_per_element_);");
    expect(spliced.match(/paperhoundHugePages\(data_level0_memory_/g)).toHaveLength(3);
    expect(withHugePages(hnswalg.replace("data_level0_memory_ = data_level0_memory_new;", "data_level0_memory_ = grown;"))).toBeUndefined();
    expect(withHugePages(`${hnswalg}\nnamespace hnswlib {\n}\n`)).toBeUndefined();
  });

  it.runIf(hnswlib.build === SIMD_BUILD && thp !== undefined)("an index's vectors land in 2 MB pages where the kernel gives them on request", () => {
    const dim = 512;
    const n = 3000; // 6.5 MB of base layer: whole 2 MB pages inside it whatever its alignment
    const rand = seededRandom(5);
    const before = anonHugeKb();
    const index = new hnswlib.addon.HierarchicalNSW("cosine", dim);
    index.initIndex(n, 16, 200, 100, false);
    for (let i = 0; i < n; i++) index.addPoint(Array.from({ length: dim }, () => rand() - 0.5), i);
    expect(anonHugeKb() - before).toBeGreaterThanOrEqual(2048);
    expect(index.getCurrentCount()).toBe(n);
  });
});

