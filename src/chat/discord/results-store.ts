/**
 * Results a message's buttons refer to (More, Related, Share): custom ids are limited to 100
 * characters, so they carry a short random token and the results stay here, in memory, for
 * `ttlMs` (default 24 h; at most `max` entries, oldest dropped first). A press on an expired token
 * gets a message saying to run the command again.
 */
import { randomBytes } from "node:crypto";
import type { ResultsView } from "../../../commands/view.js";

export class ResultsStore {
  private readonly entries = new Map<string, { view: ResultsView; expires: number }>();

  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 24 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  put(view: ResultsView): string {
    const token = randomBytes(9).toString("base64url");
    this.entries.set(token, { view, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return token;
  }

  get(token: string): ResultsView | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.expires < this.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return e.view;
  }

  get size(): number {
    return this.entries.size;
  }
}
