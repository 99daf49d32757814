/**
 * The daily digest inside `paperhound bot`: the digest store (digest.sqlite in the index
 * directory), the per-minute scheduler (src/digest/digest-scheduler.ts, lease holder
 * "<hostname>:<pid>") and one poster per running platform, chosen by the channel key's prefix
 * ("discord:", "slack:", "console:"). A channel whose platform is not running in this process fails
 * its tick (logged) and is retried later (PostBackoff); its digest stays decided and unposted until
 * then, so nothing is lost.
 */
import os from "node:os";
import type { CommandContext } from "../../commands/types.js";
import type { DigestPoster, DigestTickOptions, DigestTickReport, PostProgress } from "../digest/digest-runner.js";
import { DigestScheduler } from "../digest/digest-scheduler.js";
import { DigestStore, type DecidedDigest, type Subscription } from "../digest/digest-store.js";
import type { Logger } from "../log.js";

export type Platform = "discord" | "slack" | "console";

export interface DigestServiceOptions {
  logger: Logger;
  holder?: string;
  now?: () => Date;
  /** Fetches the due channels' sources before their digests are decided (DigestIngest.before). */
  beforeDeciding?: DigestTickOptions["beforeDeciding"];
  /** Told what each tick did (metrics: digests posted). */
  onTick?: (report: DigestTickReport) => void;
}

export class DigestService {
  readonly scheduler: DigestScheduler;
  private readonly posters = new Map<string, DigestPoster>();

  constructor(
    readonly store: DigestStore,
    ctx: CommandContext,
    opts: DigestServiceOptions,
  ) {
    this.scheduler = new DigestScheduler({
      ...(opts.beforeDeciding ? { beforeDeciding: opts.beforeDeciding } : {}),
      ...(opts.onTick ? { onTick: opts.onTick } : {}),
      index: ctx.index,
      store,
      logger: opts.logger.child({ component: "digest" }),
      holder: opts.holder ?? `${os.hostname()}:${process.pid}`,
      ...(opts.now ? { now: opts.now } : {}),
      post: (digest, sub, progress) => this.post(digest, sub, progress),
    });
  }

  /** Opens digest.sqlite in the index directory. */
  static open(ctx: CommandContext, opts: DigestServiceOptions): DigestService {
    return new DigestService(DigestStore.open(ctx.index.dir), ctx, opts);
  }

  addPoster(platform: Platform, poster: DigestPoster): void {
    this.posters.set(platform, poster);
  }

  private post(digest: DecidedDigest, sub: Subscription, progress: PostProgress): Promise<string> {
    const platform = digest.channel.split(":")[0]!;
    const poster = this.posters.get(platform);
    if (!poster) throw new Error(`no ${platform} adapter runs in this process to post the digest of ${digest.channel}`);
    return poster(digest, sub, progress);
  }

  start(opts: { quiet?: boolean } = {}): void {
    this.scheduler.start(opts);
  }

  stop(): void {
    this.scheduler.stop();
  }

  close(): void {
    this.scheduler.stop();
    this.store.close();
  }
}
