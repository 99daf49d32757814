import { describe, expect, it } from "vitest";
import { createLogger, isSecretKey, type LoggerOptions } from "../src/log.js";
import { createProgress, formatDuration } from "../src/progress.js";

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (c: string) => chunks.push(c) }, text: () => chunks.join("") };
}

const fixedNow = () => new Date("2026-01-02T03:04:05.678Z");

function jsonLogger(level: LoggerOptions["level"] = "debug") {
  const out = sink();
  const logger = createLogger({ level, format: "json", stream: out.stream, now: fixedNow });
  const lines = () =>
    out
      .text()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, out };
}

describe("createLogger (json)", () => {
  it("writes one JSON object per line with time, level, msg and fields", () => {
    const { logger, lines, out } = jsonLogger();
    logger.info("model loaded", { model: "use-lite", dim: 512 });
    logger.warn("falling back", { device: "cpu" });
    expect(out.text().endsWith("\n")).toBe(true);
    expect(lines()).toEqual([
      { time: "2026-01-02T03:04:05.678Z", level: "info", msg: "model loaded", model: "use-lite", dim: 512 },
      { time: "2026-01-02T03:04:05.678Z", level: "warn", msg: "falling back", device: "cpu" },
    ]);
  });

  it("drops lines below the level", () => {
    const { logger, lines } = jsonLogger("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines().map((l) => l.level)).toEqual(["warn", "error"]);
    expect(logger.enabled("info")).toBe(false);
    expect(logger.enabled("error")).toBe(true);
  });

  it("redacts fields whose key looks secret, at any depth", () => {
    const { logger, lines, out } = jsonLogger();
    logger.info("connect", {
      token: "t0ps3cret",
      SLACK_BOT_TOKEN: "xoxb-123",
      apiKey: "k-123",
      nested: { client_secret: "cs-1", password: "pw-1", list: [{ authorization: "Bearer abc" }] },
      tokens: 42,
      keywords: ["graph"],
    });
    const text = out.text();
    for (const secret of ["t0ps3cret", "xoxb-123", "k-123", "cs-1", "pw-1", "Bearer abc"]) expect(text).not.toContain(secret);
    const line = lines()[0]!;
    expect(line.token).toBe("[redacted]");
    expect(line.SLACK_BOT_TOKEN).toBe("[redacted]");
    expect(line.tokens).toBe(42);
    expect(line.keywords).toEqual(["graph"]);
  });

  it("keeps its own time/level/msg when a field has the same name", () => {
    const { logger, lines } = jsonLogger();
    logger.info("real", { msg: "fake", level: "error" });
    expect(lines()[0]).toMatchObject({ msg: "real", level: "info", "field.msg": "fake", "field.level": "error" });
  });

  it("serialises errors, bigints and cycles; stacks only at debug level", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const debug = jsonLogger("debug");
    debug.logger.error("failed", { err: new RangeError("boom"), big: 10n, cyclic });
    expect(debug.lines()[0]).toMatchObject({ err: { name: "RangeError", message: "boom" }, big: "10", cyclic: { a: 1, self: "[circular]" } });
    expect((debug.lines()[0]!.err as { stack?: string }).stack).toContain("RangeError: boom");
    const info = jsonLogger("info");
    info.logger.error("failed", { err: new Error("boom") });
    expect(info.lines()[0]!.err).toEqual({ name: "Error", message: "boom" });
  });

  it("child loggers add their fields to every line", () => {
    const { logger, lines } = jsonLogger();
    logger.child({ component: "embed", token: "x" }).info("hi", { n: 1 });
    expect(lines()[0]).toMatchObject({ component: "embed", token: "[redacted]", n: 1 });
  });
});

describe("createLogger (pretty)", () => {
  it("writes one readable line with its fields and no colour off a terminal, synchronously", () => {
    const out = sink(false);
    const logger = createLogger({ level: "info", format: "pretty", stream: out.stream, now: fixedNow });
    logger.info("model loaded", { model: "use-lite", path: "/a b", password: "pw" });
    logger.debug("not written");
    const line = out.text();
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: model loaded \{"model":"use-lite","path":"\/a b","password":"\[redacted\]"\}\n$/);
    expect(line).not.toContain("\x1b");
  });

  it.skipIf(Boolean(process.env.NO_COLOR))("colours the level on a terminal", () => {
    const out = sink(true);
    const logger = createLogger({ level: "info", format: "pretty", stream: out.stream, now: fixedNow });
    logger.warn("careful");
    expect(out.text()).toContain("\x1b[");
    expect(out.text()).toContain("careful");
  });
});

describe("isSecretKey", () => {
  it.each(["token", "botToken", "DISCORD_TOKEN", "secret", "clientSecret", "password", "key", "apiKey", "api_key", "signing-secret"])(
    "%s is secret",
    (k) => expect(isSecretKey(k)).toBe(true),
  );
  it.each(["tokens", "maxTokens", "keywords", "monkey", "model", "truncated"])("%s is not secret", (k) =>
    expect(isSecretKey(k)).toBe(false),
  );
});

describe("createProgress", () => {
  function clock() {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  }

  it("off a terminal prints a line each 10% and a summary at the end", () => {
    const out = sink(false);
    const c = clock();
    const p = createProgress({ label: "embedding", total: 100, unit: "abstracts", stream: out.stream, now: c.now });
    for (let i = 0; i < 100; i++) {
      c.advance(10);
      p.tick();
    }
    const summary = p.finish();
    const lines = out.text().trimEnd().split("\n");
    expect(lines).toHaveLength(10); // 10%..90%, then the summary
    expect(lines[0]).toBe("embedding 10/100 (10%)  100 abstracts/s  ETA 0.9 s");
    expect(lines.at(-1)).toBe(summary);
    expect(summary).toBe("embedding done: 100/100 abstracts in 1.0 s (100 abstracts/s)");
  });

  it("off a terminal prints at least every 5 s when progress is slow", () => {
    const out = sink(false);
    const c = clock();
    const p = createProgress({ label: "x", total: 1000, stream: out.stream, now: c.now });
    c.advance(5000);
    p.tick();
    c.advance(1000);
    p.tick();
    expect(out.chunks).toEqual(["x 1/1000 (0%)  0.20 items/s  ETA 1 h 23 m\n"]);
  });

  it("on a terminal redraws one line, at most every 100 ms", () => {
    const out = sink(true);
    const c = clock();
    const p = createProgress({ label: "x", total: 10, stream: out.stream, now: c.now });
    for (let i = 0; i < 10; i++) {
      c.advance(20);
      p.tick();
    }
    const draws = out.chunks.filter((s) => s.startsWith("\r"));
    expect(draws.length).toBe(2); // at 20 ms and 140 ms
    expect(out.chunks.every((s) => !s.includes("\n"))).toBe(true);
    p.finish("ok");
    expect(out.text()).toMatch(/\r\x1b\[2Kx done: 10\/10 items in 0\.2 s \(50\.0 items\/s\); ok\n$/);
  });

  it("quiet prints nothing; unknown totals show a count and rate", () => {
    const out = sink(false);
    const p = createProgress({ label: "x", stream: out.stream, quiet: true });
    p.tick(5);
    expect(p.finish()).toContain("x done: 5 items");
    expect(out.chunks).toEqual([]);
  });

  it("formats durations", () => {
    expect(formatDuration(1.234)).toBe("1.2 s");
    expect(formatDuration(75)).toBe("1 m 15 s");
    expect(formatDuration(3725)).toBe("1 h 02 m");
    expect(formatDuration(Infinity)).toBe("?");
  });
});
