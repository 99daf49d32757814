/**
 * The Dockerfiles pass a Dockerfile linter (dockerfilelint, from npm; no Docker engine is needed).
 * A Dockerfile with known mistakes is flagged, so the lint really runs. .dockerignore lets into the
 * build context exactly what the Dockerfiles copy.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.js";

const LINTER = path.join(projectRoot, "node_modules", "dockerfilelint", "bin", "dockerfilelint");

function lint(file: string): { code: number | null; issues: { line: string; title: string }[] } {
  const r = spawnSync(process.execPath, [LINTER, "-o", "json", file], { encoding: "utf8" });
  const report = JSON.parse(r.stdout) as { files: { issues: { line: string; title: string }[] }[] };
  return { code: r.status, issues: report.files.flatMap((f) => f.issues) };
}

describe("Dockerfiles", () => {
  it.each(["Dockerfile", "Dockerfile.cuda"])("%s has no lint issues", (name) => {
    const { code, issues } = lint(path.join(projectRoot, name));
    expect(issues).toEqual([]);
    expect(code).toBe(0);
  });

  it("the linter flags a Dockerfile with mistakes", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-dockerfile-"));
    try {
      const bad = path.join(dir, "Dockerfile");
      writeFileSync(bad, "FROM node\nRUN apt-get install foo\nEXPOSE 99999\n");
      const { code, issues } = lint(bad);
      expect(code).not.toBe(0);
      expect(issues.map((i) => i.title)).toEqual(expect.arrayContaining(["Base Image Missing Tag", "Invalid Port Exposed"]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(".dockerignore excludes everything but what the Dockerfiles COPY (no node_modules, models, indexes or .git in the build context)", () => {
    const lines = readFileSync(path.join(projectRoot, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    const allowed = new Set(lines.slice(1).map((l) => l.replace(/^!/, "").replace(/\/$/, "")));
    expect(lines.slice(1).every((l) => l.startsWith("!"))).toBe(true);
    const copied = new Set<string>();
    for (const name of ["Dockerfile", "Dockerfile.cuda"]) {
      for (const m of readFileSync(path.join(projectRoot, name), "utf8").matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
        const parts = m[1]!.trim().split(/\s+/);
        for (const src of parts.slice(0, -1)) copied.add(src.replace(/^\.\//, "").replace(/\/$/, ""));
      }
    }
    expect([...allowed].sort()).toEqual([...copied].sort());
    for (const heavy of ["node_modules", "models", "index", ".git", "training"]) expect(allowed.has(heavy)).toBe(false);
  });

  it("docker-compose.yml: with an indexer service, the bot does not also fetch digest sources (DIGEST_INGEST false)", () => {
    const compose = readFileSync(path.join(projectRoot, "docker-compose.yml"), "utf8");
    const service = (name: string) => new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`, "m").exec(compose)?.[1];
    expect(service("indexer")).toBeDefined();
    expect(service("bot")).toMatch(/^ {4}environment: \{[^}\n]*\bDIGEST_INGEST: "false"[^}\n]*\}$/m);
  });

  it("docker-compose.yml: both services keep the index on the volume, whatever PAPERHOUND_INDEX .env sets (paperhound setup on the host writes a host path)", () => {
    const compose = readFileSync(path.join(projectRoot, "docker-compose.yml"), "utf8");
    const service = (name: string) => new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`, "m").exec(compose)?.[1];
    for (const name of ["bot", "indexer"]) {
      expect(service(name), name).toMatch(/^ {4}env_file: \[\.env\]$/m);
      expect(service(name), name).toMatch(/^ {4}environment: \{.*\bPAPERHOUND_INDEX: \/data\/index\b.*\}$/m);
    }
  });
});
