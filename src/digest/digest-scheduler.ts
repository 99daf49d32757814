/**
 * Runs the digest tick once a minute (croner; `protect` so a slow tick is never overlapped by the
 * next). Each tick works out which channels are due in their own time zone (digest-runner.ts), so
 * the schedule itself needs no time zone and daylight saving changes need no rescheduling.
 */
import { Cron } from "croner";
import type { Logger } from "../log.js";
import type { DigestTickOptions, DigestTickReport } from "./digest-runner.js";
import { PostBackoff, runDigestTick } from "./digest-runner.js";

export interface DigestSchedulerOptions extends Omit<DigestTickOptions, "now" | "backoff"> {
  logger: Logger;
  /** The clock (tests); default the system clock. */
  now?: () => Date;
  onTick?: (report: DigestTickReport) => void;
}

export class DigestScheduler {
  private job: Cron | undefined;
  /** Channels whose posts failed wait 1, 2, 4, … 60 minutes between tries. */
  private readonly backoff = new PostBackoff();

  constructor(private readonly opts: DigestSchedulerOptions) {}

  /** `quiet`: the start is a debug line (the console, whose user reads its output, not logs). */
  start(opts: { quiet?: boolean } = {}): void {
    if (this.job) return;
    this.job = new Cron("* * * * *", { protect: true }, async () => {
      await this.tick();
    });
    this.opts.logger[opts.quiet ? "debug" : "info"]("digest scheduler started", { next: this.job.nextRun()?.toISOString() });
  }

  stop(): void {
    this.job?.stop();
    this.job = undefined;
  }

  /** One tick now; errors are logged, never thrown (failed channels are tried again later, see PostBackoff). */
  async tick(): Promise<DigestTickReport | undefined> {
    const { logger, onTick, now, ...tick } = this.opts;
    try {
      const report = await runDigestTick({ ...tick, backoff: this.backoff, now: (now ?? (() => new Date()))() });
      if (report.beforeDecidingError) logger.warn("fetching the channels' sources failed; digests use what the index holds", { error: report.beforeDecidingError });
      for (const p of report.posted) logger.info("digest posted", { channel: p.channel, digest: p.digestId, papers: p.papers, resumed: p.resumed });
      for (const f of report.failed) logger.warn(`digest failed; retried in ${f.retryInMinutes} min`, { channel: f.channel, error: f.error });
      onTick?.(report);
      return report;
    } catch (err) {
      logger.error("digest tick failed", { error: (err as Error).message });
      return undefined;
    }
  }
}
