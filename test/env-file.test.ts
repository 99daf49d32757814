/** The .env reader: a directory, FIFO or unreadable file named .env is an error naming it or passed over, never a crash or a hang. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvFile, updateEnvText } from "../src/env-file.js";
import { parseEnv } from "node:util";
import { BIN, cleanEnv } from "./helpers/run-cli.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-envfile-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadEnvFile", () => {
  it("reads KEY=value lines; variables already set win", () => {
    const file = path.join(dir, "settings.env");
    writeFileSync(file, "# comment\nLOG_LEVEL=debug\nSEARCH_THREADS=3\n");
    const env: NodeJS.ProcessEnv = { PAPERHOUND_ENV_FILE: file, SEARCH_THREADS: "1" };
    expect(loadEnvFile(env)).toBeUndefined();
    expect(env.LOG_LEVEL).toBe("debug");
    expect(env.SEARCH_THREADS).toBe("1");
  });

  it("PAPERHOUND_ENV_FILE naming a directory, a FIFO or a missing file is a problem naming it", () => {
    expect(loadEnvFile({ PAPERHOUND_ENV_FILE: dir })).toMatch(/PAPERHOUND_ENV_FILE names .* is a directory/);
    expect(loadEnvFile({ PAPERHOUND_ENV_FILE: path.join(dir, "missing") })).toMatch(/does not exist/);
    if (process.platform !== "win32") {
      const fifo = path.join(dir, "fifo.env");
      execFileSync("mkfifo", [fifo]);
      expect(loadEnvFile({ PAPERHOUND_ENV_FILE: fifo })).toMatch(/is not a regular file/);
    }
  });

  it("the CLI with PAPERHOUND_ENV_FILE=<a directory> exits 1 with the message, no stack trace", () => {
    const r = spawnSync(process.execPath, [BIN, "--help"], { env: cleanEnv({ PAPERHOUND_ENV_FILE: os.tmpdir() }), encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^paperhound: PAPERHOUND_ENV_FILE names .* is a directory/);
    expect(r.stderr).not.toMatch(/ at /);
  });

  it("a directory named .env in the current directory (a virtualenv) is passed over", () => {
    const cwd = path.join(dir, "project");
    mkdirSync(path.join(cwd, ".env"), { recursive: true });
    const env = cleanEnv();
    delete env.PAPERHOUND_ENV_FILE; // the test run sets it empty
    const r = spawnSync(process.execPath, [BIN, "--help"], { cwd, env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("updateEnvText (what paperhound setup writes)", () => {
  it("replaces a key where it stands, drops its repeats, removes with undefined, appends new keys once under a heading; other lines kept", () => {
    const before = "# my notes\nLOG_LEVEL=debug\nexport DISCORD_TOKEN=old\n\nSEARCH_THREADS=2\nDISCORD_TOKEN=older\nHEALTH_PORT=9000\n";
    const after = updateEnvText(before, { DISCORD_TOKEN: "new.token-1", HEALTH_PORT: undefined, INGEST_CATEGORIES: "cs.LG,cs.CL" });
    expect(after).toBe("# my notes\nLOG_LEVEL=debug\nDISCORD_TOKEN=new.token-1\n\nSEARCH_THREADS=2\n\n# written by paperhound setup\nINGEST_CATEGORIES=cs.LG,cs.CL\n");
    // A second change appends under the same heading, not a new one.
    const again = updateEnvText(after, { PAPERHOUND_INDEX: "index/team" });
    expect(again.match(/# written by paperhound setup/g)).toHaveLength(1);
    expect(parseEnv(again)).toMatchObject({ DISCORD_TOKEN: "new.token-1", PAPERHOUND_INDEX: "index/team", LOG_LEVEL: "debug" });
  });

  it("quotes values that need it so they read back exactly; a value that cannot be written is refused", () => {
    const text = updateEnvText("", { PAPERHOUND_INDEX: "/srv/my papers/#1", PAPERHOUND_CONTACT_EMAIL: "a'b@example.org" });
    expect(parseEnv(text)).toEqual({ PAPERHOUND_INDEX: "/srv/my papers/#1", PAPERHOUND_CONTACT_EMAIL: "a'b@example.org" });
    expect(() => updateEnvText("", { X: "it's \"both\"" })).toThrow(/X cannot be written/);
  });
});
