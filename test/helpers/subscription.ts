/** A digest subscription for tests: two topics, 09:00 Europe/Berlin, 10 papers, both sources; `over` changes any of it. */
import type { Subscription } from "../../src/digest/digest-store.js";

export function testSubscription(channel: string, over: Partial<Subscription> = {}): Subscription {
  return {
    channel,
    topics: ["equivariant networks", "3D representation learning"],
    time: "09:00",
    timezone: "Europe/Berlin",
    count: 10,
    categories: [],
    exclude: [],
    follow: [],
    paused: false,
    quiet: false,
    sources: ["hf", "arxiv"],
    windowEnd: "2026-03-26",
    ...over,
  };
}
