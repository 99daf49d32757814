/**
 * One tick of the digest scheduler: for every subscribed channel whose local digest time has come
 * and whose last digest covered an earlier day, post the digest decided but not posted (after a
 * crash), else decide a new one for the papers announced since (a bot down for three days sends one
 * digest covering all three) and post it. Only the process holding the lease posts.
 */
import type { PaperIndex } from "../search/paper-index.js";
import type { DecidedDigest, DigestStore, Subscription } from "./digest-store.js";
import { CandidatePool, DEFAULT_WEIGHTS, MAX_LIBRARY_PAPERS, rankForChannel, toDigestItem, type ChannelProfile, type RankedPaper, type RankingWeights } from "./ranking.js";

/**
 * Where posting a digest got: a digest posted as several messages records its progress after each
 * one the platform accepted; a retry after a crash starts from `saved` and posts only the rest.
 */
export interface PostProgress {
  /** What an earlier, interrupted attempt saved (undefined on the first attempt). */
  readonly saved: PostedSoFar | undefined;
  save(progress: PostedSoFar): void;
}

/** Posts a digest to its channel; returns a reference to the message (adapter-specific). */
export type DigestPoster = (digest: DecidedDigest, sub: Subscription, progress: PostProgress) => Promise<string>;

/** What the posters save as progress: the platform's reference of the first message, and how many messages were accepted. */
export interface PostedSoFar {
  ref: string;
  sent: number;
}

/** The saved progress of a digest (JSON in the digest store); unreadable progress counts as none. */
function readPostedSoFar(saved: string | undefined): PostedSoFar | undefined {
  if (!saved) return undefined;
  try {
    const p = JSON.parse(saved) as { ref?: unknown; sent?: unknown };
    return typeof p.ref === "string" && Number.isInteger(p.sent) ? { ref: p.ref, sent: p.sent as number } : undefined;
  } catch {
    return undefined;
  }
}

function progressOf(store: DigestStore, digest: DecidedDigest): PostProgress {
  return { saved: readPostedSoFar(digest.progress), save: (progress) => store.recordProgress(digest.id, JSON.stringify(progress)) };
}

export interface DigestTickOptions {
  index: PaperIndex;
  store: DigestStore;
  now: Date;
  post: DigestPoster;
  /** Identifies this process for the lease. */
  holder: string;
  leaseMs?: number;
  weights?: RankingWeights;
  /**
   * Runs once per tick before any digest is decided, with the channels due now and the latest of
   * their local days: fetching their sources (DigestIngest). A failure is reported, not fatal.
   */
  beforeDeciding?: (due: Subscription[], today: string) => Promise<void>;
  /** Channels whose posts keep failing are tried less often (the scheduler keeps one across ticks). */
  backoff?: PostBackoff;
}

/**
 * A channel whose digest cannot be posted (the app was removed from it, its platform is down) is
 * tried again 1, 2, 4, … up to 60 minutes later rather than every minute, so a broken channel does
 * not fill the log; a success resets it. In memory: a restart tries every channel at once.
 */
export class PostBackoff {
  private readonly state = new Map<string, { failures: number; nextAt: number }>();

  constructor(private readonly maxMinutes = 60) {}

  /** True while `channel` waits for its next try. */
  waiting(channel: string, now: Date): boolean {
    const s = this.state.get(channel);
    return s !== undefined && now.getTime() < s.nextAt;
  }

  /** Records a failure; returns the minutes until the next try. */
  failed(channel: string, now: Date): number {
    const failures = (this.state.get(channel)?.failures ?? 0) + 1;
    const minutes = Math.min(this.maxMinutes, 2 ** (failures - 1));
    this.state.set(channel, { failures, nextAt: now.getTime() + minutes * 60_000 });
    return minutes;
  }

  succeeded(channel: string): void {
    this.state.delete(channel);
  }
}

export interface DigestTickReport {
  leased: boolean;
  /** Set when `beforeDeciding` failed; the digests were decided with what the index holds. */
  beforeDecidingError?: string;
  posted: { channel: string; digestId: number; papers: number; resumed: boolean }[];
  failed: { channel: string; error: string; retryInMinutes: number }[];
  /** Channels skipped because they wait after failed posts (PostBackoff). */
  waiting: string[];
}

/** Local calendar day and "HH:MM" of an instant in an IANA time zone (daylight saving included). */
export function localDayAndTime(now: Date, timeZone: string): { day: string; time: string } {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { day: `${get("year")}-${get("month")}-${get("day")}`, time: `${get("hour")}:${get("minute")}` };
}

/** The calendar day before `day` (YYYY-MM-DD). */
export function dayBefore(day: string): string {
  return addDays(day, -1);
}

/** The calendar day `n` days after `day` (before it when `n` < 0), YYYY-MM-DD. */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * Days before a channel's window end that its next digest looks back for papers that arrived late
 * (featured on Hugging Face after the last digest was posted, an arXiv feed published after it):
 * they are candidates if no earlier digest of the channel ranked them (DigestStore.seen).
 */
export const LATE_ARRIVAL_DAYS = 2;

/** The day after which a channel's next digest takes candidates: a little before its window end, never before it subscribed. */
export function windowStart(sub: Pick<Subscription, "windowEnd" | "since">): string {
  const from = addDays(sub.windowEnd, -LATE_ARRIVAL_DAYS);
  return sub.since !== undefined && sub.since > from ? sub.since : from;
}

/** Whether the channel's digest for its current local day is due. */
export function isDue(sub: Subscription, now: Date): { due: boolean; day: string } {
  const { day, time } = localDayAndTime(now, sub.timezone);
  return { due: !sub.paused && sub.windowEnd < day && time >= sub.time, day };
}

/** What the channel told the digest besides its subscription: its votes and its newest library papers, as of `now`. */
export function channelProfile(store: DigestStore, channel: string, now: Date): ChannelProfile & { asOf: Date } {
  const library = store.library.list(channel, { limit: MAX_LIBRARY_PAPERS }).entries.map((e) => ({ paperId: e.paper.id, title: e.paper.title, savedAt: e.savedAt }));
  return { ...store.feedback(channel), library, asOf: now };
}

/**
 * What a channel's digest carries from a pool of candidates (the papers announced in its window):
 * those it was never sent, ranked for it with its votes and library, at most `sub.count`.
 * `considered`: the candidates it had not been sent. The tick and `/digest preview` both choose with this.
 */
export async function chooseDigestPapers(
  index: PaperIndex,
  store: DigestStore,
  sub: Subscription,
  pool: CandidatePool,
  now: Date,
  weights: RankingWeights = DEFAULT_WEIGHTS,
): Promise<{ ranked: RankedPaper[]; considered: string[] }> {
  const seen = store.seen(
    sub.channel,
    pool.papers.map((p) => p.id),
  );
  const ranked = (await rankForChannel(index, { ...sub, count: sub.count + seen.size }, pool, weights, channelProfile(store, sub.channel, now)))
    .filter((r) => !seen.has(r.paper.id))
    .slice(0, sub.count);
  return { ranked, considered: pool.papers.map((p) => p.id).filter((id) => !seen.has(id)) };
}

export async function runDigestTick(opts: DigestTickOptions): Promise<DigestTickReport> {
  const report: DigestTickReport = { leased: false, posted: [], failed: [], waiting: [] };
  if (!opts.store.acquireLease(opts.holder, opts.now, opts.leaseMs ?? 5 * 60_000)) return report;
  report.leased = true;
  if (opts.beforeDeciding) {
    const due = opts.store
      .subscriptions()
      .filter((sub) => !opts.store.unposted(sub.channel))
      .map((sub) => ({ sub, ...isDue(sub, opts.now) }))
      .filter((d) => d.due);
    if (due.length > 0) {
      const today = due.map((d) => d.day).reduce((a, b) => (a > b ? a : b));
      await opts.beforeDeciding(
        due.map((d) => d.sub),
        today,
      ).catch((err: unknown) => (report.beforeDecidingError = (err as Error).message));
    }
  }
  // Papers the indexer added since the bot opened the index: their vectors, for ranking by topic.
  await opts.index.refresh();
  const pools = new Map<string, CandidatePool>();
  for (const sub of opts.store.subscriptions()) {
    if (opts.backoff?.waiting(sub.channel, opts.now)) {
      report.waiting.push(sub.channel);
      continue;
    }
    try {
      // A digest decided before a crash is posted first, as it was decided.
      const pending = opts.store.unposted(sub.channel);
      if (pending) {
        const ref = await opts.post(pending, sub, progressOf(opts.store, pending));
        opts.store.markPosted(pending.id, ref, opts.now);
        report.posted.push({ channel: sub.channel, digestId: pending.id, papers: pending.items.length, resumed: true });
        opts.backoff?.succeeded(sub.channel);
        continue;
      }
      const { due, day } = isDue(sub, opts.now);
      if (!due) continue;
      const from = windowStart(sub);
      const key = `${from}/${day}`;
      let pool = pools.get(key);
      if (!pool) {
        pool = new CandidatePool(opts.index, opts.index.store.papersAnnouncedBetween(from, day));
        pools.set(key, pool);
      }
      const { ranked, considered } = await chooseDigestPapers(opts.index, opts.store, sub, pool, opts.now, opts.weights);
      const digest = opts.store.decide(sub.channel, day, ranked.map(toDigestItem), opts.now, considered);
      const ref = digest.items.length === 0 && sub.quiet ? "quiet" : await opts.post(digest, sub, progressOf(opts.store, digest));
      opts.store.markPosted(digest.id, ref, opts.now);
      report.posted.push({ channel: sub.channel, digestId: digest.id, papers: digest.items.length, resumed: false });
      opts.backoff?.succeeded(sub.channel);
    } catch (err) {
      // One channel failing (its platform is down) must not stop the others; it is retried later.
      report.failed.push({ channel: sub.channel, error: (err as Error).message, retryInMinutes: opts.backoff?.failed(sub.channel, opts.now) ?? 1 });
    }
  }
  return report;
}
