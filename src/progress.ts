/**
 * A progress bar for long work, on stderr: items done/total, rate per second, ETA.
 * On a terminal it redraws one line (at most ~10 times a second); elsewhere (CI, log files) it
 * prints a plain line every ~5 s or each 10 % of the total, whichever comes first.
 */

export interface ProgressOptions {
  /** What is being counted, e.g. "embedding". */
  label: string;
  /** Total items, when known. */
  total?: number;
  /** Unit for the rate, e.g. "abstracts"; default "items". */
  unit?: string;
  /** Where to draw; stderr by default. */
  stream?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Overrides `stream.isTTY`. */
  tty?: boolean;
  /** Print nothing at all. */
  quiet?: boolean;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

export interface Progress {
  /** Adds `n` finished items (default 1). */
  tick(n?: number): void;
  /** Sets the number of finished items. */
  update(done: number): void;
  /** Prints a line above the bar without breaking it. */
  log(line: string): void;
  /** Stops the bar and prints the summary line; returns it. */
  finish(note?: string): string;
  readonly done: number;
}

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 5000;

/** "1.2 s", "3 m 05 s", "1 h 02 m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} m`;
}

function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return "?";
  return rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2);
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const unit = options.unit ?? "items";
  const total = options.total !== undefined && options.total > 0 ? options.total : undefined;
  const start = now();
  let done = 0;
  let lastDraw = -Infinity;
  let lastDecile = 0;
  let drawn = false; // a TTY bar is on screen
  let finished = false;

  const status = (): string => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const parts: string[] = [];
    if (total !== undefined) {
      const pct = Math.min(100, (100 * done) / total);
      if (tty) {
        const width = 24;
        const full = Math.round((width * pct) / 100);
        parts.push(`[${"#".repeat(full)}${"-".repeat(width - full)}]`);
      }
      parts.push(`${done}/${total} (${pct.toFixed(0)}%)`);
    } else {
      parts.push(`${done}`);
    }
    parts.push(`${formatRate(rate)} ${unit}/s`);
    if (total !== undefined && done < total && rate > 0) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
    return `${options.label} ${parts.join("  ")}`;
  };

  const clearLine = (): void => {
    if (drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };

  const maybeDraw = (): void => {
    if (options.quiet || finished) return;
    const t = now();
    if (tty) {
      if (t - lastDraw < TTY_INTERVAL_MS) return;
      lastDraw = t;
      stream.write(`\r\x1b[2K${status()}`);
      drawn = true;
      return;
    }
    const decile = total !== undefined ? Math.floor((10 * done) / total) : 0;
    const crossedDecile = decile > lastDecile && done < (total ?? Infinity);
    if (crossedDecile || t - Math.max(lastDraw, start) >= PLAIN_INTERVAL_MS) {
      lastDraw = t;
      lastDecile = decile;
      stream.write(`${status()}\n`);
    }
  };

  return {
    get done() {
      return done;
    },
    tick(n = 1) {
      done += n;
      maybeDraw();
    },
    update(value) {
      done = value;
      maybeDraw();
    },
    log(line) {
      if (options.quiet) return;
      clearLine();
      stream.write(`${line}\n`);
      lastDraw = -Infinity; // redraw the bar on the next tick
    },
    finish(note) {
      const elapsed = (now() - start) / 1000;
      const rate = elapsed > 0 ? done / elapsed : NaN;
      const summary = `${options.label} done: ${done}${total !== undefined ? `/${total}` : ""} ${unit} in ${formatDuration(elapsed)} (${formatRate(rate)} ${unit}/s)${note ? `; ${note}` : ""}`;
      if (!options.quiet && !finished) {
        clearLine();
        stream.write(`${summary}\n`);
      }
      finished = true;
      return summary;
    },
  };
}
