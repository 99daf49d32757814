/**
 * Digest quality with and without the channel's library: synthetic "team libraries" from an index
 * of real arXiv papers, their later papers hidden among a real day's announcements.
 *   npm run eval:digest -- --index DIR [--teams 150] [--split 2026-01-01] [--seed 1]
 * Two kinds of team: an author (library: their papers before --split, newest 100; later: 5 of
 * their papers after it) and a narrow arXiv category (≤ 1% of the index; library: 40 papers before,
 * later: 5 after). Each team's digest is decided over one day after --split (≥ 200 papers, the
 * team's own papers of that day removed) with its 5 later papers added. A team's typed topics are
 * what its library's titles say most distinctively (3 word pairs by tf × idf), standing in for the
 * phrases a user would type. Prints, per ranking: precision@5, recall@10 (digest of 10), papers
 * carried on the same day without the team's papers and on a day of 30 of them (padding: none is
 * the team's), and how library similarity
 * separates the later papers from the day's others (the floor's calibration); then one JSON line.
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { embedderSettings, loadConfig } from "../src/config.js";
import { dayBefore } from "../src/digest/digest-runner.js";
import { CandidatePool, DEFAULT_WEIGHTS, libraryFloor, loadLibraryVectors, rankForChannel, type ChannelProfile, type RankingWeights } from "../src/digest/ranking.js";
import { loadEmbedder } from "../src/embed/load.js";
import { createLogger } from "../src/log.js";
import { seededRandom } from "../src/random.js";
import { tuningFor } from "../src/search/model-tuning.js";
import { PaperIndex } from "../src/search/paper-index.js";
import { foldText } from "../src/search/store/titles.js";
import type { StoredPaper } from "../src/search/types.js";
import { percentile } from "./percentile.js";

/** Papers of a small day (Hugging Face features 10–50 a day). */
const SMALL_DAY = 30;

interface Team {
  kind: "author" | "category";
  name: string;
  library: StoredPaper[];
  later: StoredPaper[];
  /** Papers of the team that are neither (kept out of the day's pool: they would be relevant too). */
  isOwn: (p: StoredPaper) => boolean;
  day: string;
  topics: string[];
}

const STOP = new Set(
  "a an and are as at based be by for from in into is it its of on or over the their this to towards under using via what when where which with without we our new study approach approaches method methods model models".split(" "),
);

const wordsOf = (title: string) =>
  foldText(title)
    .split(/[^a-z0-9-]+/)
    .filter((w) => w.length > 2 && !STOP.has(w));

function pairsOf(title: string): string[] {
  const w = wordsOf(title);
  return [...new Set(w.slice(1).map((x, i) => `${w[i]} ${x}`))];
}

/** Three distinctive word pairs (then words) of a library's titles: what the team would type as topics. */
function topicsOf(library: readonly StoredPaper[], df: Map<string, number>, n: number): string[] {
  const score = (terms: string[][]) => {
    const tf = new Map<string, number>();
    for (const ts of terms) for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
    return [...tf]
      .filter(([, c]) => c >= 2)
      .map(([t, c]) => ({ t, s: c * Math.log(n / (df.get(t) ?? 1)) }))
      .sort((a, b) => b.s - a.s || (a.t < b.t ? -1 : 1));
  };
  const topics: string[] = [];
  for (const { t } of [...score(library.map((p) => pairsOf(p.title))), ...score(library.map((p) => [...new Set(wordsOf(p.title))]))]) {
    if (topics.length === 3) break;
    if (!topics.some((x) => x.split(" ").some((w) => t.split(" ").includes(w)))) topics.push(t);
  }
  return topics;
}

function sample<T>(xs: readonly T[], k: number, rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

/** A candidate pool whose vectors come from one cache for the whole evaluation (each read costs ~40 µs). */
class CachedPool extends CandidatePool {
  constructor(
    index: PaperIndex,
    papers: readonly StoredPaper[],
    private readonly cache: Map<number, Float32Array | undefined>,
    private readonly source: PaperIndex,
  ) {
    super(index, papers);
  }
  override vectorOf(rowid: number): Float32Array | undefined {
    if (!this.cache.has(rowid)) this.cache.set(rowid, this.source.paperVector(rowid));
    return this.cache.get(rowid);
  }
}

interface Variant {
  name: string;
  topics: boolean;
  library: boolean;
  weights: Partial<RankingWeights>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { index: { type: "string" }, teams: { type: "string", default: "150" }, split: { type: "string", default: "2026-01-01" }, seed: { type: "string", default: "1" }, "min-library": { type: "string" } },
  });
  if (!values.index) throw new Error("--index DIR is required: an index of the arXiv papers (`npm run bench:search -- --keep` builds one)");
  const teamCount = Number(values.teams);
  if (!Number.isSafeInteger(teamCount) || teamCount < 1) throw new Error(`--teams must be a positive integer, got ${values.teams}`);
  const split = values.split!;
  const config = loadConfig();
  const embedder = await loadEmbedder({ ...embedderSettings(config), logger: createLogger({ level: "warn", format: config.logFormat }) });
  const index = await PaperIndex.open({ dir: path.resolve(values.index), embedder, readonly: true, warm: true });
  try {
    const rnd = seededRandom(Number(values.seed));
    const all = index.store.papersAnnouncedBetween("0000", "9999").filter((p) => p.published);
    const df = new Map<string, number>();
    for (const p of all) for (const t of [...pairsOf(p.title), ...new Set(wordsOf(p.title))]) df.set(t, (df.get(t) ?? 0) + 1);
    const byDay = new Map<string, StoredPaper[]>();
    for (const p of all) if (p.published! >= split) byDay.set(p.published!.slice(0, 10), [...(byDay.get(p.published!.slice(0, 10)) ?? []), p]);
    const days = [...byDay].filter(([, ps]) => ps.length >= 200).map(([d]) => d).sort();
    if (days.length === 0) throw new Error(`no day after ${split} with 200 papers or more in this index`);
    const byNewest = (a: StoredPaper, b: StoredPaper) => (a.published! < b.published! ? 1 : -1);

    const teams: Team[] = [];
    const byAuthor = new Map<string, StoredPaper[]>();
    for (const p of all) for (const a of new Set(p.authors.map((x) => foldText(x).trim()))) if (a) byAuthor.set(a, [...(byAuthor.get(a) ?? []), p]);
    const authors = [...byAuthor].filter(([, ps]) => ps.filter((p) => p.published! < split).length >= 8 && ps.filter((p) => p.published! >= split).length >= 5);
    const byCategory = new Map<string, StoredPaper[]>();
    for (const p of all) if (p.categories[0]) byCategory.set(p.categories[0], [...(byCategory.get(p.categories[0]) ?? []), p]);
    const categories = [...byCategory].filter(([, ps]) => ps.length <= all.length / 100 && ps.filter((p) => p.published! < split).length >= 40 && ps.filter((p) => p.published! >= split).length >= 5);
    const categoryTeams = Math.min(categories.length, Math.round(teamCount / 5));
    for (const [name, ps] of sample(authors, teamCount - categoryTeams, rnd)) {
      const later = sample(ps.filter((p) => p.published! >= split), 5, rnd);
      teams.push({ kind: "author", name, library: ps.filter((p) => p.published! < split).sort(byNewest).slice(0, 100), later, isOwn: (p) => p.authors.some((a) => foldText(a).trim() === name), day: "", topics: [] });
    }
    for (const [name, ps] of sample(categories, categoryTeams, rnd)) {
      teams.push({ kind: "category", name, library: sample(ps.filter((p) => p.published! < split), 40, rnd).sort(byNewest), later: sample(ps.filter((p) => p.published! >= split), 5, rnd), isOwn: (p) => p.categories[0] === name, day: "", topics: [] });
    }
    for (const t of teams) {
      t.day = days[Math.floor(rnd() * days.length)]!;
      t.topics = topicsOf(t.library, df, all.length);
    }

    // The lowest library floor: the model's unless --min-library (to calibrate it).
    const lowest = values["min-library"] !== undefined ? Number(values["min-library"]) : tuningFor(index.fingerprint.modelId).digestMinLibrary;
    if (!Number.isFinite(lowest)) throw new Error(`--min-library must be a number, got ${values["min-library"]}`);
    const variants: Variant[] = [
      { name: "topics (before: any shared word)", topics: true, library: false, weights: { minTermCoverage: 0, library: 0 } },
      { name: "topics, words cover ½ of the topic", topics: true, library: false, weights: { minTermCoverage: 0.5, library: 0 } },
      { name: "library, nearest 1", topics: false, library: true, weights: { libraryNeighbours: 1 } },
      { name: "library, nearest 3, floor p10", topics: false, library: true, weights: { libraryNeighbours: 3, libraryFloorPercentile: 10 } },
      { name: "library, nearest 3", topics: false, library: true, weights: { libraryNeighbours: 3 } },
      { name: "library, nearest 3, floor p30", topics: false, library: true, weights: { libraryNeighbours: 3, libraryFloorPercentile: 30 } },
      { name: "library, nearest 10", topics: false, library: true, weights: { libraryNeighbours: 10 } },
      { name: "library, nearest 3, no recency", topics: false, library: true, weights: { libraryNeighbours: 3, libraryRecency: 0 } },
      { name: "topics + library ×1", topics: true, library: true, weights: { library: 1 } },
      { name: "topics + library ×3 (default)", topics: true, library: true, weights: {} },
    ];
    const cache = new Map<number, Float32Array | undefined>();
    const results = variants.map(() => ({ p5: [] as number[], r10: [] as number[], carried: [] as number[], padding: [] as number[], small: [] as number[] }));
    const FLOOR_PERCENTILES = [0, 10, 20, 30, 50];
    const floorPasses = new Map(FLOOR_PERCENTILES.map((q) => [q, { floors: [] as number[], later: [] as number[], others: [] as number[] }]));
    const heldSims: number[] = [];
    const otherSims: number[] = [];
    const started = performance.now();
    for (const [n, team] of teams.entries()) {
      const laterIds = new Set(team.later.map((p) => p.id));
      const others = (byDay.get(team.day) ?? []).filter((p) => !team.isOwn(p) && !laterIds.has(p.id));
      const withLater = new CachedPool(index, [...others, ...team.later], cache, index);
      const without = new CachedPool(index, others, cache, index);
      // A day the size of a Hugging Face daily-papers day, none of it the team's.
      const smallDay = new CachedPool(index, sample(others, SMALL_DAY, rnd), cache, index);
      const asOf = new Date(`${team.day}T12:00:00Z`);
      const profile: ChannelProfile & { asOf: Date } = {
        liked: [],
        disliked: [],
        library: team.library.map((p) => ({ paperId: p.id, title: p.title, savedAt: `${p.published!.slice(0, 10)}T12:00:00Z` })),
        asOf,
      };
      const sub = (topics: boolean) => ({ topics: topics ? team.topics : [], categories: [], exclude: [], follow: [], count: 10 });
      for (const [v, variant] of variants.entries()) {
        const weights: RankingWeights = { ...DEFAULT_WEIGHTS, minLibrary: lowest, ...variant.weights };
        const p = variant.library ? profile : { liked: [], disliked: [] };
        const ranked = await rankForChannel(index, sub(variant.topics), withLater, weights, p);
        const hits = (k: number) => ranked.slice(0, k).filter((r) => laterIds.has(r.paper.id)).length;
        results[v]!.p5.push(hits(5) / 5);
        results[v]!.r10.push(hits(10) / team.later.length);
        results[v]!.carried.push(ranked.length);
        results[v]!.padding.push((await rankForChannel(index, sub(variant.topics), without, weights, p)).length);
        results[v]!.small.push((await rankForChannel(index, sub(variant.topics), smallDay, weights, p)).length);
      }
      // Library similarity of every paper of the day against the channel's floor at each percentile.
      const vectors = loadLibraryVectors(index, withLater, profile, DEFAULT_WEIGHTS);
      const sims = withLater.papers.map((p) => ({ later: laterIds.has(p.id), s: vectors.like(withLater.vectorOf(p.rowid)!, DEFAULT_WEIGHTS.libraryNeighbours, p.id)?.similarity ?? -1 }));
      for (const { later, s } of sims) (later ? heldSims : otherSims).push(s);
      for (const q of FLOOR_PERCENTILES) {
        const floor = libraryFloor(vectors, { ...DEFAULT_WEIGHTS, libraryFloorPercentile: q }, lowest);
        const passing = floorPasses.get(q)!;
        passing.floors.push(floor);
        for (const { later, s } of sims) (later ? passing.later : passing.others).push(s >= floor ? 1 : 0);
      }
      if ((n + 1) % 25 === 0) process.stderr.write(`eval-digest: ${n + 1}/${teams.length} teams, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    }

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const f = (x: number) => x.toFixed(3);
    console.log(
      `${teams.length} teams (${teams.filter((t) => t.kind === "author").length} authors, ${teams.filter((t) => t.kind === "category").length} narrow categories) over ${new Set(teams.map((t) => t.day)).size} days after ${split}; ` +
        `model ${index.fingerprint.modelId}, lowest library floor ${lowest}, index of ${all.length} papers. Example topics: ${teams
          .slice(0, 3)
          .map((t) => `"${t.topics.join("; ")}"`)
          .join(", ")}`,
    );
    console.log(`ranking                               P@5    R@10   carried  padding  small day (papers carried: the day with the team's 5; without them; ${SMALL_DAY} papers of the day, none the team's)`);
    const rows = variants.map((v, i) => {
      const r = results[i]!;
      const row = { ranking: v.name, p_at_5: Number(f(mean(r.p5))), r_at_10: Number(f(mean(r.r10))), carried: Number(mean(r.carried).toFixed(2)), padding: Number(mean(r.padding).toFixed(2)), small_day: Number(mean(r.small).toFixed(2)) };
      console.log(`${v.name.padEnd(37)} ${f(row.p_at_5)}  ${f(row.r_at_10)}  ${row.carried.toFixed(2).padStart(7)}  ${row.padding.toFixed(2).padStart(7)}  ${row.small_day.toFixed(2).padStart(9)}`);
      return row;
    });
    const pct = (xs: number[]) => [10, 25, 50, 90, 99].map((q) => percentile(xs, q).toFixed(3)).join(" / ");
    console.log(`library similarity (nearest 3 + recency), p10/p25/p50/p90/p99: later papers ${pct(heldSims)}; the day's others ${pct(otherSims)}`);
    const floors = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8];
    const pass = (xs: number[], t: number) => xs.filter((x) => x >= t).length / xs.length;
    for (const [q, p] of floorPasses) {
      console.log(`channel floor at p${q} of its library's held-out similarities (median ${percentile(p.floors, 50).toFixed(3)}): passes ${(100 * mean(p.later)).toFixed(0)}% of later papers, ${(100 * mean(p.others)).toFixed(2)}% of the day's others`);
    }
    console.log(`fixed floor: ${floors.map((t) => `${t} passes ${(100 * pass(heldSims, t)).toFixed(0)}% later / ${(100 * pass(otherSims, t)).toFixed(2)}% others`).join("; ")}`);
    console.log(
      JSON.stringify({
        teams: teams.length,
        papers: all.length,
        model: index.fingerprint.modelId,
        floor: lowest,
        rankings: rows,
        channelFloors: [...floorPasses].map(([q, p]) => ({ percentile: q, medianFloor: Number(percentile(p.floors, 50).toFixed(3)), later: Number(mean(p.later).toFixed(3)), others: Number(mean(p.others).toFixed(4)) })),
        floors: floors.map((t) => ({ floor: t, later: Number(pass(heldSims, t).toFixed(3)), others: Number(pass(otherSims, t).toFixed(4)) })),
        cpu: os.cpus()[0]?.model.trim(),
        date: new Date().toISOString(),
      }),
    );
  } finally {
    index.close();
    await embedder.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`eval-digest: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
