import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import stock from "hnswlib-node";
import { afterAll, describe, expect, it } from "vitest";
import { chooseHnswlib, hnswlib, missingX86_64V3, SIMD_BUILD, SIMD_BUILD_DIR } from "../../src/search/vectors/hnswlib.js";
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
