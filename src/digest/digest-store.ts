/**
 * The digest's own state, in `digest.sqlite` beside the paper store: channel subscriptions, every
 * digest decided (with its papers) and whether it was posted, the (channel, paper) delivery log, and a
 * lease so that only one process posts digests at a time.
 *
 * Exactly once: deciding a digest writes the digest row, its delivery rows (one per paper, unique per
 * channel and canonical paper id, so no version or source can deliver a paper twice) and the channel's
 * new window end in ONE transaction. Posting happens after; a crash in between leaves a digest
 * "decided" but not "posted", which the next run posts (with the same idempotency key) before
 * deciding anything new. So nothing decided is dropped and nothing is decided twice.
 */
import path from "node:path";
import { PaperhoundError } from "../errors.js";
import { faultPoint } from "../fault-points.js";
import { LibraryStore } from "../library/library-store.js";
import { makeDirSync } from "../make-dir.js";
import { Database, type SqliteDatabase } from "../search/store/sqlite.js";

export const DIGEST_FILE = "digest.sqlite";

export const DIGEST_SOURCES = ["hf", "arxiv"] as const;
export type DigestSource = (typeof DIGEST_SOURCES)[number];

export interface Subscription {
  /** "<platform>:<channel id>", e.g. "discord:123", "slack:C42", "console:main". */
  channel: string;
  topics: string[];
  /** Local time of day "HH:MM". */
  time: string;
  /** IANA zone, e.g. "Europe/Berlin". */
  timezone: string;
  count: number;
  categories: string[];
  exclude: string[];
  follow: string[];
  paused: boolean;
  quiet: boolean;
  /**
   * Where the channel's new papers come from: "hf" (Hugging Face daily papers) and/or "arxiv"
   * (arXiv announcements in its categories). Fetched before its digest is decided; an "hf"-only
   * channel gets only papers featured on Hugging Face. Older subscriptions: both.
   */
  sources: DigestSource[];
  /** Papers announced after this day (YYYY-MM-DD) are new for the next digest. */
  windowEnd: string;
  /** The window end the channel started with (papers announced before its subscription are never candidates). */
  since?: string;
}

export interface DigestItem {
  paperId: string;
  title: string;
  url?: string;
  authors: string[];
  score: number;
  /** One line: why the paper is in this channel's digest. */
  reason: string;
}

export interface DecidedDigest {
  id: number;
  channel: string;
  /** Papers announced in (windowStart, windowEnd]. */
  windowStart: string;
  windowEnd: string;
  items: DigestItem[];
  decidedAt: string;
  /** Stable across retries: adapters use it to find an already-posted message. */
  idempotencyKey: string;
  /** How far an interrupted attempt to post it got (adapter-specific, see `PostProgress`). */
  progress?: string;
  /** New papers it was chosen from (its items among them): an empty digest says why by it. */
  candidates?: number;
}

export class DigestStoreError extends PaperhoundError {
  readonly identifier = "digest_store";
  override readonly name = "DigestStoreError";
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS subscriptions (
  channel    TEXT PRIMARY KEY,
  settings   TEXT NOT NULL,
  window_end TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS digests (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  channel     TEXT NOT NULL,
  window_start TEXT NOT NULL,
  window_end  TEXT NOT NULL,
  items       TEXT NOT NULL,
  decided_at  TEXT NOT NULL,
  posted_at   TEXT,
  message_ref TEXT,
  progress    TEXT
);
CREATE INDEX IF NOT EXISTS digests_unposted ON digests(channel) WHERE posted_at IS NULL;
CREATE TABLE IF NOT EXISTS deliveries (
  channel   TEXT NOT NULL,
  paper_id  TEXT NOT NULL,
  digest_id INTEGER NOT NULL REFERENCES digests(id),
  PRIMARY KEY (channel, paper_id)
);
CREATE TABLE IF NOT EXISTS considered (
  channel   TEXT NOT NULL,
  paper_id  TEXT NOT NULL,
  digest_id INTEGER NOT NULL,
  PRIMARY KEY (channel, paper_id)
);
CREATE TABLE IF NOT EXISTS votes (
  channel  TEXT NOT NULL,
  paper_id TEXT NOT NULL,
  user     TEXT NOT NULL,
  vote     INTEGER NOT NULL CHECK (vote IN (-1, 1)),
  at       TEXT NOT NULL,
  PRIMARY KEY (channel, paper_id, user)
);
CREATE TABLE IF NOT EXISTS lease (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

export class DigestStore {
  /** The channels' libraries (saved and imported papers), kept in the same file. */
  readonly library: LibraryStore;

  private constructor(private readonly db: SqliteDatabase) {
    this.library = new LibraryStore(db);
  }

  static open(dir: string): DigestStore {
    makeDirSync(dir);
    const db = new Database(path.join(dir, DIGEST_FILE), { timeout: 5000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(SCHEMA);
    // digest.sqlite files made before posting progress was recorded.
    const columns = (db.prepare("SELECT name FROM pragma_table_info('digests')").pluck().all() as string[]) ?? [];
    if (!columns.includes("progress")) db.exec("ALTER TABLE digests ADD COLUMN progress TEXT");
    return new DigestStore(db);
  }

  close(): void {
    this.db.close();
  }

  subscribe(sub: Subscription): void {
    const { channel, windowEnd, ...settings } = sub;
    this.db
      .prepare("INSERT INTO subscriptions(channel, settings, window_end) VALUES (?, ?, ?) ON CONFLICT(channel) DO UPDATE SET settings = excluded.settings")
      .run(channel, JSON.stringify(settings), windowEnd);
  }

  unsubscribe(channel: string): boolean {
    return this.db.prepare("DELETE FROM subscriptions WHERE channel = ?").run(channel).changes > 0;
  }

  subscription(channel: string): Subscription | undefined {
    const row = this.db.prepare("SELECT channel, settings, window_end FROM subscriptions WHERE channel = ?").get(channel) as
      | { channel: string; settings: string; window_end: string }
      | undefined;
    if (!row) return undefined;
    const settings = JSON.parse(row.settings) as Omit<Subscription, "channel" | "windowEnd" | "sources"> & { sources?: DigestSource[] };
    // Subscriptions made before the sources option had both.
    return { channel: row.channel, ...settings, sources: settings.sources ?? [...DIGEST_SOURCES], windowEnd: row.window_end };
  }

  subscriptions(): Subscription[] {
    return (this.db.prepare("SELECT channel FROM subscriptions ORDER BY channel").pluck().all() as string[]).map((c) => this.subscription(c)!);
  }

  /** Canonical ids already delivered to the channel (among `paperIds`). */
  delivered(channel: string, paperIds: readonly string[]): Set<string> {
    if (paperIds.length === 0) return new Set();
    const rows = this.db
      .prepare("SELECT paper_id FROM deliveries WHERE channel = ? AND paper_id IN (SELECT value FROM json_each(?))")
      .pluck()
      .all(channel, JSON.stringify(paperIds)) as string[];
    return new Set(rows);
  }

  /**
   * Canonical ids (among `paperIds`) the channel already had: delivered, or ranked for an earlier
   * digest and left out. Windows overlap (late arrivals), so this is what keeps a digest "new".
   */
  seen(channel: string, paperIds: readonly string[]): Set<string> {
    if (paperIds.length === 0) return new Set();
    const rows = this.db
      .prepare(
        "SELECT value FROM json_each(?) WHERE value IN (SELECT paper_id FROM deliveries WHERE channel = ?) OR value IN (SELECT paper_id FROM considered WHERE channel = ?)",
      )
      .pluck()
      .all(JSON.stringify(paperIds), channel, channel) as string[];
    return new Set(rows);
  }

  /**
   * Records a digest and its deliveries and moves the channel's window, in one transaction; the
   * other candidates it ranked (`considered`) are recorded too, so a later, overlapping window does
   * not offer them again. Papers delivered meanwhile (another process) are dropped from the digest,
   * never delivered twice.
   */
  decide(channel: string, windowEnd: string, items: DigestItem[], now: Date, considered: readonly string[] = []): DecidedDigest {
    const decided = this.db.transaction(() => {
      const sub = this.subscription(channel);
      if (!sub) throw new DigestStoreError(`channel ${channel} has no digest subscription`);
      if (this.unposted(channel)) throw new DigestStoreError(`channel ${channel} has a digest decided but not posted: post it first`);
      const already = this.delivered(
        channel,
        items.map((i) => i.paperId),
      );
      const kept = items.filter((i) => !already.has(i.paperId));
      const info = this.db
        .prepare("INSERT INTO digests(channel, window_start, window_end, items, decided_at) VALUES (?, ?, ?, ?, ?)")
        .run(channel, sub.windowEnd, windowEnd, JSON.stringify(kept), now.toISOString());
      const id = Number(info.lastInsertRowid);
      const insert = this.db.prepare("INSERT INTO deliveries(channel, paper_id, digest_id) VALUES (?, ?, ?)");
      for (const item of kept) insert.run(channel, item.paperId, id);
      const consider = this.db.prepare("INSERT OR IGNORE INTO considered(channel, paper_id, digest_id) VALUES (?, ?, ?)");
      for (const paperId of considered) consider.run(channel, paperId, id);
      this.db.prepare("UPDATE subscriptions SET window_end = ? WHERE channel = ?").run(windowEnd, channel);
      faultPoint("commit", "digest: before decide commit");
      return { id, channel, windowStart: sub.windowEnd, windowEnd, items: kept, decidedAt: now.toISOString(), idempotencyKey: `paperhound-digest-${id}`, candidates: considered.length };
    })();
    faultPoint("commit", "digest: after decide commit");
    return decided;
  }

  /** The channel's digest that was decided but not posted (after a crash), if any. */
  unposted(channel: string): DecidedDigest | undefined {
    const row = this.db
      .prepare("SELECT id, channel, window_start, window_end, items, decided_at, progress FROM digests WHERE channel = ? AND posted_at IS NULL ORDER BY id LIMIT 1")
      .get(channel) as { id: number; channel: string; window_start: string; window_end: string; items: string; decided_at: string; progress: string | null } | undefined;
    if (!row) return undefined;
    return {
      ...(row.progress !== null ? { progress: row.progress } : {}),
      id: row.id,
      channel: row.channel,
      windowStart: row.window_start,
      windowEnd: row.window_end,
      items: JSON.parse(row.items) as DigestItem[],
      decidedAt: row.decided_at,
      idempotencyKey: `paperhound-digest-${row.id}`,
      candidates: this.db.prepare("SELECT count(*) FROM considered WHERE digest_id = ?").pluck().get(row.id) as number,
    };
  }

  /**
   * Records how far posting a digest got (after each message the platform accepted), so that a
   * retry after a crash continues where it stopped instead of posting those messages again.
   */
  recordProgress(digestId: number, progress: string): void {
    faultPoint("commit", "digest: before progress");
    this.db.prepare("UPDATE digests SET progress = ? WHERE id = ? AND posted_at IS NULL").run(progress, digestId);
    faultPoint("commit", "digest: after progress");
  }

  markPosted(digestId: number, messageRef: string, now: Date): void {
    faultPoint("commit", "digest: before posted");
    const info = this.db.prepare("UPDATE digests SET posted_at = ?, message_ref = ? WHERE id = ? AND posted_at IS NULL").run(now.toISOString(), messageRef, digestId);
    if (info.changes === 0) throw new DigestStoreError(`digest ${digestId} is unknown or already posted`);
    faultPoint("commit", "digest: after posted");
  }

  /** Digests posted to a channel, oldest first (for /digest show and tests). */
  posted(channel: string): { id: number; windowEnd: string; items: DigestItem[]; messageRef: string }[] {
    return (
      this.db.prepare("SELECT id, window_end, items, message_ref FROM digests WHERE channel = ? AND posted_at IS NOT NULL ORDER BY id").all(channel) as {
        id: number;
        window_end: string;
        items: string;
        message_ref: string;
      }[]
    ).map((r) => ({ id: r.id, windowEnd: r.window_end, items: JSON.parse(r.items) as DigestItem[], messageRef: r.message_ref }));
  }

  /**
   * A user's thumbs up (1) or down (-1) on a digest paper; 0 takes the vote back. One vote per user
   * and paper: reacting again replaces it.
   */
  recordVote(channel: string, paperId: string, user: string, vote: -1 | 0 | 1, now: Date): void {
    if (vote === 0) {
      this.db.prepare("DELETE FROM votes WHERE channel = ? AND paper_id = ? AND user = ?").run(channel, paperId, user);
      return;
    }
    this.db
      .prepare("INSERT INTO votes(channel, paper_id, user, vote, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(channel, paper_id, user) DO UPDATE SET vote = excluded.vote, at = excluded.at")
      .run(channel, paperId, user, vote, now.toISOString());
  }

  /** The channel's feedback: papers with a positive and a negative vote balance, and the vote count. */
  feedback(channel: string): { liked: string[]; disliked: string[]; votes: number } {
    const rows = this.db.prepare("SELECT paper_id, sum(vote) AS balance, count(*) AS n FROM votes WHERE channel = ? GROUP BY paper_id").all(channel) as {
      paper_id: string;
      balance: number;
      n: number;
    }[];
    return {
      liked: rows.filter((r) => r.balance > 0).map((r) => r.paper_id),
      disliked: rows.filter((r) => r.balance < 0).map((r) => r.paper_id),
      votes: rows.reduce((s, r) => s + r.n, 0),
    };
  }

  /**
   * Takes or renews the posting lease for `holder` until now + ttl; false while another holder's
   * lease is live. Several processes on one database: only the holder posts.
   */
  acquireLease(holder: string, now: Date, ttlMs: number): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT holder, expires_at FROM lease WHERE name = 'digest'").get() as { holder: string; expires_at: number } | undefined;
      if (row && row.holder !== holder && row.expires_at > now.getTime()) return false;
      this.db
        .prepare("INSERT INTO lease(name, holder, expires_at) VALUES ('digest', ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at")
        .run(holder, now.getTime() + ttlMs);
      return true;
    })();
  }
}
