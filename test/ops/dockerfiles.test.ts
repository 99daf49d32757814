/**
 * The Dockerfiles pass a Dockerfile linter (dockerfilelint, from npm; no Docker engine is needed).
 * A Dockerfile with known mistakes is flagged, so the lint really runs.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
});
