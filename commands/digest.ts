/**
 * /digest action:<subscribe|show|preview|pause|resume|unsubscribe|exclude|follow> [topics] [time]
 * [timezone] [count] [categories] [sources] [quiet] [keywords] [author]: a channel's daily digest of new papers
 * (src/digest/). Changing a channel's digest needs `ctx.channel.canManage` (the adapter decides:
 * Discord's Manage Channels, Slack's admin allow-list, always in the console); `show` and `preview`
 * are for everyone. Also the platform-neutral text of a posted digest (headline and one line per
 * paper), which each adapter renders.
 */
import { addDays, chooseDigestPapers, dayBefore, localDayAndTime, windowStart } from "../src/digest/digest-runner.js";
import { DIGEST_SOURCES, type DecidedDigest, type DigestSource, type DigestStore, type Subscription } from "../src/digest/digest-store.js";
import { CandidatePool, MAX_LIBRARY_PAPERS } from "../src/digest/ranking.js";
import type { SearchHit } from "../src/search/types.js";
import { checkCategory } from "./options.js";
import { CommandInputError, type CommandContext, type CommandSpec, type ParsedOptions } from "./types.js";
import { shortAuthors } from "../src/papers/display.js";
import { errorView, itemOf, type DigestView, type MessageView, type View } from "./view.js";

export const DIGEST_ACTIONS = ["subscribe", "show", "preview", "pause", "resume", "unsubscribe", "exclude", "follow"] as const;
export type DigestAction = (typeof DIGEST_ACTIONS)[number];
const MANAGE: ReadonlySet<DigestAction> = new Set(["subscribe", "pause", "resume", "unsubscribe", "exclude", "follow"]);

export const DIGEST_DEFAULTS = { time: "09:00", timezone: "UTC", count: 10 } as const;
export const MAX_DIGEST_COUNT = 25;
const MAX_TOPICS = 10;

function checkAction(value: string): string {
  const v = value.toLowerCase();
  if (!(DIGEST_ACTIONS as readonly string[]).includes(v)) {
    throw new CommandInputError(`action must be one of ${DIGEST_ACTIONS.join(", ")}, not "${value.slice(0, 40)}"`, "action");
  }
  return v;
}

function checkTime(value: string): string {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new CommandInputError(`time must be a time of day like 09:00 (HH:MM, 24-hour), not "${value.slice(0, 40)}"`, "time");
  return `${m[1]!.padStart(2, "0")}:${m[2]}`;
}

/** An IANA time zone Intl knows (Europe/Berlin, UTC), in its canonical spelling. */
export function checkTimezone(value: string): string {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw new CommandInputError(`timezone must be an IANA time zone like Europe/Berlin or America/New_York, not "${value.slice(0, 40)}"`, "timezone");
  }
}

const SOURCE_NAMES: Record<DigestSource, string> = { hf: "Hugging Face daily papers", arxiv: "arXiv announcements" };

/** "hf,arxiv" (either order, any case) → the known sources, each once. */
function checkSources(value: string): string {
  const out: string[] = [];
  for (const s of splitList(value, ",")) {
    const v = s.toLowerCase();
    if (!(DIGEST_SOURCES as readonly string[]).includes(v)) {
      throw new CommandInputError(`sources must be ${DIGEST_SOURCES.join(", ")} or both, comma-separated, not "${s.slice(0, 40)}"`, "sources");
    }
    if (!out.includes(v)) out.push(v);
  }
  if (out.length === 0) throw new CommandInputError(`sources must name ${DIGEST_SOURCES.join(", ")} or both, comma-separated`, "sources");
  return out.join(",");
}

function checkCategories(value: string): string {
  return splitList(value, ",").map(checkCategory).join(",");
}

function splitList(value: string | undefined, sep: string): string[] {
  return (value ?? "")
    .split(sep)
    .map((s) => s.replace(/\s+/g, " ").trim())
    .filter(Boolean);
}

function addUnique(list: readonly string[], more: readonly string[]): string[] {
  const out = [...list];
  for (const m of more) if (!out.some((x) => x.toLowerCase() === m.toLowerCase())) out.push(m);
  return out;
}

function info(title: string, text: string, ephemeral: boolean, suggestion?: string): MessageView {
  return { kind: "message", tone: "info", title, text, ...(suggestion ? { suggestion } : {}), ephemeral };
}

/** The settings of a subscription as lines of text. */
export function describeSubscription(sub: Subscription): string[] {
  return [
    `Topics: ${sub.topics.join("; ") || "(none)"}`,
    `Every day at ${sub.time} (${sub.timezone}), up to ${sub.count} papers${sub.paused ? " · PAUSED" : ""}${sub.quiet ? " · quiet on empty days" : ""}`,
    ...(sub.categories.length ? [`Categories: ${sub.categories.join(", ")}`] : []),
    `Sources: ${sub.sources.map((s) => SOURCE_NAMES[s]).join(", ")}${sub.sources.includes("arxiv") && sub.categories.length === 0 ? " (arXiv announcements are fetched per category: add categories to get them)" : ""}`,
    ...(sub.exclude.length ? [`Excluded keywords: ${sub.exclude.join("; ")}`] : []),
    ...(sub.follow.length ? [`Followed authors: ${sub.follow.join("; ")}`] : []),
    `Papers announced after ${sub.windowEnd} are new for the next digest.`,
  ];
}

interface DigestOptions {
  action: DigestAction;
  topics?: string;
  time?: string;
  timezone?: string;
  count?: number;
  categories?: string;
  sources?: string;
  quiet?: boolean;
  keywords?: string;
  author?: string;
}

export async function runDigest(raw: ParsedOptions, ctx: CommandContext): Promise<View> {
  const o = raw as unknown as DigestOptions;
  const store = ctx.digest;
  if (!store || !ctx.channel) return errorView("Daily digests are not available here.", "Run /digest in a channel of a server or workspace the bot is in.");
  const channel = ctx.channel.key;
  if (MANAGE.has(o.action) && !ctx.channel.canManage) {
    return errorView(`Only people who can manage this channel can ${o.action === "subscribe" ? "set up" : "change"} its digest.`, "Ask a channel manager, or use /digest show or /digest preview.");
  }
  const sub = store.subscription(channel);
  const none = () => errorView("This channel has no daily digest.", 'Set one up with /digest subscribe topics:"your topic; another topic".');
  switch (o.action) {
    case "subscribe":
      return subscribe(o, ctx, store, channel, sub);
    case "show": {
      if (!sub) return none();
      const fb = store.feedback(channel);
      const posted = store.posted(channel);
      const lines = [
        ...describeSubscription(sub),
        `Feedback: ${fb.votes} vote${fb.votes === 1 ? "" : "s"} shaped the topic profile (${fb.liked.length} liked, ${fb.disliked.length} disliked papers).`,
        libraryLine(store.library.count(channel)),
        `Digests posted: ${posted.length}${posted.length ? ` (last covered up to ${posted.at(-1)!.windowEnd})` : ""}.`,
      ];
      return info("Daily digest of this channel", lines.join("\n"), true);
    }
    case "preview":
      if (!sub) return none();
      return preview(sub, ctx, store);
    case "pause":
    case "resume": {
      if (!sub) return none();
      store.subscribe({ ...sub, paused: o.action === "pause" });
      return info(`Daily digest ${o.action === "pause" ? "paused" : "resumed"}`, o.action === "pause" ? "No digest is posted until /digest resume." : `The next digest comes at ${sub.time} (${sub.timezone}).`, false);
    }
    case "unsubscribe":
      if (!store.unsubscribe(channel)) return none();
      return info("Daily digest stopped", "This channel no longer gets a daily digest. Papers already delivered are remembered if it subscribes again.", false);
    case "exclude": {
      if (!sub) return none();
      const words = splitList(o.keywords, ";");
      if (words.length === 0) throw new CommandInputError('/digest exclude needs keywords: e.g. keywords:"survey; benchmark"', "keywords");
      const exclude = addUnique(sub.exclude, words);
      store.subscribe({ ...sub, exclude });
      return info("Keywords excluded", `Papers with ${words.map((w) => `“${w}”`).join(", ")} are left out. Excluded now: ${exclude.join("; ")}`, false);
    }
    case "follow": {
      if (!sub) return none();
      const name = o.author?.trim();
      if (!name) throw new CommandInputError('/digest follow needs author: e.g. author:"Yann LeCun"', "author");
      const follow = addUnique(sub.follow, [name]);
      store.subscribe({ ...sub, follow });
      return info("Author followed", `Papers by ${name} always make it into the digest. Followed now: ${follow.join("; ")}`, false);
    }
  }
}

function libraryLine(saved: number): string {
  if (saved === 0) return "Library: empty. Papers saved with /save or /library import also bring their like into the digest.";
  return `Library: ${saved} paper${saved === 1 ? "" : "s"}; new papers like ${saved === 1 ? "it" : "them"} (the newest ${MAX_LIBRARY_PAPERS}) come into the digest as “like …”.`;
}

function subscribe(o: DigestOptions, ctx: CommandContext, store: DigestStore, channel: string, existing: Subscription | undefined): View {
  const topics = o.topics !== undefined ? splitList(o.topics, ";") : (existing?.topics ?? []);
  if (topics.length === 0) throw new CommandInputError('/digest subscribe needs topics, separated by ";": e.g. topics:"equivariant networks; 3D representation learning"', "topics");
  if (topics.length > MAX_TOPICS) throw new CommandInputError(`at most ${MAX_TOPICS} topics per channel`, "topics");
  const timezone = o.timezone ?? existing?.timezone ?? DIGEST_DEFAULTS.timezone;
  const sub: Subscription = {
    channel,
    topics,
    time: o.time ?? existing?.time ?? DIGEST_DEFAULTS.time,
    timezone,
    count: o.count ?? existing?.count ?? DIGEST_DEFAULTS.count,
    categories: o.categories !== undefined ? splitList(o.categories, ",") : (existing?.categories ?? []),
    sources: o.sources !== undefined ? (splitList(o.sources, ",") as DigestSource[]) : (existing?.sources ?? [...DIGEST_SOURCES]),
    exclude: existing?.exclude ?? [],
    follow: existing?.follow ?? [],
    paused: existing?.paused ?? false,
    quiet: o.quiet ?? existing?.quiet ?? false,
    // A new channel's first digest has the papers announced today (its window starts yesterday).
    windowEnd: existing?.windowEnd ?? dayBefore(localDayAndTime(ctx.clock(), timezone).day),
  };
  // Papers announced before the first window are never candidates (a subscription made before this field had none).
  const since = existing ? existing.since : sub.windowEnd;
  if (since !== undefined) sub.since = since;
  store.subscribe(sub);
  return info(existing ? "Daily digest updated" : "Daily digest set up", describeSubscription(sub).join("\n"), false, "See it with /digest show, and what today's would contain with /digest preview.");
}

/** What the channel's next digest would contain today, with each paper's score parts (only the caller sees it). */
async function preview(sub: Subscription, ctx: CommandContext, store: DigestStore): Promise<View> {
  const today = localDayAndTime(ctx.clock(), sub.timezone).day;
  const candidates = ctx.index.store.papersAnnouncedBetween(windowStart(sub), today);
  const { ranked } = await chooseDigestPapers(ctx.index, store, sub, new CandidatePool(ctx.index, candidates), ctx.clock());
  if (ranked.length === 0) {
    return {
      kind: "message",
      tone: "empty",
      title: "Nothing yet",
      text: `No new paper announced after ${sub.windowEnd} (up to ${today}) matches this channel's digest (${candidates.length} candidate${candidates.length === 1 ? "" : "s"}).`,
      suggestion:
        candidates.length > 0
          ? "Broaden the topics or categories with /digest subscribe, or /save papers like the ones you want."
          : "arXiv does not announce on weekends, and the day's papers may not be fetched yet.",
      ephemeral: true,
    };
  }
  return {
    kind: "results",
    header: `Digest preview · ${today} · ${ranked.length} of ${candidates.length} new papers`,
    items: ranked.map((r, i) => {
      const item = itemOf({ paper: r.paper, score: r.score } as SearchHit, i + 1);
      const p = r.parts;
      const parts = `dense ${p.dense.toFixed(2)} · bm25 ${p.bm25.toFixed(2)} · library ${p.library.toFixed(2)} · trending ${p.trending.toFixed(2)} · feedback ${p.feedback.toFixed(2)}${p.followed ? " · followed" : ""}`;
      return { ...item, excerpt: `Why: ${r.reason}. Score parts: ${parts}` };
    }),
    ephemeral: true,
    page: 1,
    pageSize: ranked.length,
  };
}

/** A 👍 or 👎 pressed on a paper of a channel's digest, as any adapter reads it. */
export interface DigestVote {
  /** The channel's digest key ("discord:123", "slack:C1"). */
  channel: string;
  paperId: string;
  /** Who voted (one vote per user and paper: pressing again replaces it). */
  user: string;
  vote: 1 | -1;
}

/** Records a digest vote for the channel; the answer is for the voter alone. */
export function recordDigestVote(ctx: Pick<CommandContext, "digest" | "clock">, v: DigestVote): MessageView {
  if (!ctx.digest) return errorView("Daily digests are not available here.");
  ctx.digest.recordVote(v.channel, v.paperId, v.user, v.vote, ctx.clock());
  const text = `${v.vote > 0 ? "👍" : "👎"} for ${v.paperId}: this channel's next digests lean ${v.vote > 0 ? "toward" : "away from"} papers like it.`;
  return { kind: "message", tone: "info", title: "Vote recorded", text, ephemeral: true };
}

export const digestCommand: CommandSpec = {
  name: "digest",
  description: "This channel's daily digest of new papers",
  options: [
    { name: "action", description: "subscribe, show, preview, pause, resume, unsubscribe, exclude or follow", type: "string", required: true, maxLength: 20, check: checkAction, choices: [...DIGEST_ACTIONS] },
    { name: "topics", description: 'subscribe: topics separated by ";"', type: "string", maxLength: 500 },
    { name: "time", description: `subscribe: local time of the digest, HH:MM (default ${DIGEST_DEFAULTS.time})`, type: "string", maxLength: 5, check: checkTime },
    { name: "timezone", description: `subscribe: IANA time zone, e.g. Europe/Berlin (default ${DIGEST_DEFAULTS.timezone})`, type: "string", maxLength: 64, check: checkTimezone },
    { name: "count", description: `subscribe: papers per digest (1 to ${MAX_DIGEST_COUNT}, default ${DIGEST_DEFAULTS.count})`, type: "integer", min: 1, max: MAX_DIGEST_COUNT },
    { name: "categories", description: "subscribe: arXiv categories, comma-separated (cs.LG,cs.CV)", type: "string", maxLength: 200, check: checkCategories },
    { name: "sources", description: "subscribe: where new papers come from: hf, arxiv or both (default hf,arxiv)", type: "string", maxLength: 40, check: checkSources },
    { name: "quiet", description: "subscribe: post nothing on days without new papers", type: "boolean" },
    { name: "keywords", description: 'exclude: keywords separated by ";"', type: "string", maxLength: 300 },
    { name: "author", description: "follow: an author whose papers always make it in", type: "string", maxLength: 100 },
  ],
  // What the channel's digest is and would be: for the caller; changes are announced to the channel.
  isPrivate: (o) => o.action === "show" || o.action === "preview",
  run: runDigest,
};

// ---------------------------------------------------------------------------------------------
// A posted digest as platform-neutral text

/**
 * Why a digest has no paper, as the channel reads it: the new papers did not match, the window held
 * only a weekend (arXiv announces nothing then), or nothing arrived at all.
 */
export function emptyDigestText(d: Pick<DecidedDigest, "windowStart" | "windowEnd" | "candidates">): string {
  const n = d.candidates ?? 0;
  if (n > 0) return `No paper matched: none of the ${n} new paper${n === 1 ? "" : "s"} is on this channel's topics or like its library.`;
  if (weekendOnly(d.windowStart, d.windowEnd)) return "No new papers: arXiv does not announce on weekends.";
  return "No new papers arrived (a holiday, or the sources could not be reached).";
}

/** Whether every day after `start` up to `end` (YYYY-MM-DD) is a Saturday or a Sunday. */
function weekendOnly(start: string, end: string): boolean {
  let any = false;
  for (let day = addDays(start, 1); day <= end; day = addDays(day, 1)) {
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) return false;
    any = true;
  }
  return any;
}

/** A decided digest as the view every adapter renders. */
export function digestView(digest: DecidedDigest, sub: Pick<Subscription, "topics">): DigestView {
  return {
    kind: "digest",
    headline: digestHeadline(digest, sub),
    windowEnd: digest.windowEnd,
    items: digest.items.map((item, n) => ({
      rank: n + 1,
      paperId: item.paperId,
      title: item.title.replace(/\s+/g, " ").trim(),
      ...(item.url ? { url: item.url } : {}),
      ...(ARXIV_ID_RE.test(item.paperId) ? { pdfUrl: `https://arxiv.org/pdf/${item.paperId}` } : {}),
      authors: shortAuthors(item.authors),
      why: `Why: ${item.reason || `score ${item.score.toFixed(2)}`}`,
    })),
  };
}

/** A new-style arXiv id with an optional version (the ids a PDF link is made for). */
const ARXIV_ID_RE = /^\d{4}\.\d{4,5}(v\d+)?$/;

/** "Daily digest · 2026-11-24 · 3 papers · equivariant networks; 3D representation learning" */
export function digestHeadline(digest: DecidedDigest, sub: Pick<Subscription, "topics">): string {
  const n = digest.items.length;
  if (n === 0) return `Daily digest · ${digest.windowEnd} · ${emptyDigestText(digest)}`;
  return `Daily digest · ${digest.windowEnd} · ${n} paper${n === 1 ? "" : "s"} · ${sub.topics.join("; ")}`;
}
