/**
 * The error catalogue (src/errors.ts) against the code and the docs: every error class a user can
 * meet names a catalogue entry, every entry is used, and the "Errors" table of docs/operations.md is the catalogue.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { createContext } from "../../src/app/context.js";
import { ERROR_CATALOGUE, exitCodeOf, PaperhoundError } from "../../src/errors.js";
import { InputError } from "../../src/app/context.js";

const root = path.resolve(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/**
 * Control-flow errors caught inside one module and turned into a catalogued error there; and
 * Bm25FileError, which the paper store catches to rebuild its BM25 index (a user never sees it).
 */
const INTERNAL = new Set(["ItemProblem", "RecordProblem", "ResponseUrlError", "Bm25FileError"]);

describe("the error catalogue", () => {
  const files = sourceFiles(path.join(root, "src")).map((f) => ({ f, text: readFileSync(f, "utf8") }));

  it("every error class extends PaperhoundError with an identifier, except the internal ones", () => {
    const plain: string[] = [];
    const used = new Set<string>();
    for (const { f, text } of files) {
      for (const m of text.matchAll(/class (\w+) extends Error\b/g)) if (!INTERNAL.has(m[1]!) && m[1] !== "PaperhoundError") plain.push(`${path.relative(root, f)}: ${m[1]}`);
      for (const m of text.matchAll(/class \w+ extends PaperhoundError \{\s*readonly identifier = "(\w+)"/g)) used.add(m[1]!);
    }
    expect(plain).toEqual([]);
    expect([...used].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });

  it("the Errors table of docs/operations.md lists the catalogue, entry by entry", () => {
    const page = readFileSync(path.join(root, "docs", "operations.md"), "utf8");
    expect(page).toContain("\n## Errors\n");
    const section = page.slice(page.indexOf("\n## Errors\n"));
    const rows = [...section.matchAll(/^\| `(\w+)` \| (.*) \| (.*) \| (\d+) \|$/gm)].map((m) => [m[1], m[2], m[3], Number(m[4])]);
    expect(rows).toEqual(Object.entries(ERROR_CATALOGUE).map(([id, e]) => [id, e.means, e.action, e.exit]));
  });

  it("the CLI exits with the catalogue's code and names the identifier at debug level", async () => {
    const err = new InputError("x");
    expect(err).toBeInstanceOf(PaperhoundError);
    expect(exitCodeOf(err)).toBe(ERROR_CATALOGUE.input.exit);
    let stderr = "";
    const ctx = createContext({
      env: { LOG_LEVEL: "debug", PAPERHOUND_ENV_FILE: "" },
      stdout: { write: () => true } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    });
    const code = await main(["node", "paperhound", "search", "   "], ctx);
    expect(code).toBe(ERROR_CATALOGUE.search_input.exit);
    expect(stderr).toMatch(/paperhound: error (search_input|input) \(see "Errors" in docs\/operations\.md\)/);
  });
});
