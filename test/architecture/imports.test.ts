/**
 * The layout's rules, checked on the source itself (docs/architecture.md, "Layout"): nothing in the product outside
 * the CLI imports from src/cli/, the chat adapters never import the bot's wiring, and the modules of src/
 * and commands/ import each other without cycles (type-only imports included: a cycle of types is
 * still two rooms that cannot be understood apart).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.js";

/** Project-relative paths of the TypeScript files under `dir`. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(projectRoot, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/** The project files `file` imports (static, dynamic and type-only; packages left out). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(projectRoot, file), "utf8"), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, ".ts"));
}

const FILES = [...sourceFiles("src"), ...sourceFiles("commands"), ...sourceFiles("scripts")];
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

const isCli = (f: string) => f === "src/cli.ts" || f.startsWith("src/cli/");

/** Every cycle found by a depth-first walk, each as the files around it. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const next of graph.get(f) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("layout", () => {
  it("reads the files it checks (the walk is not empty and resolves imports)", () => {
    expect(FILES).toContain("src/cli/search.ts");
    expect(GRAPH.get("src/cli.ts")).toContain("src/cli/search.ts");
  });

  it("nothing in src/ or commands/ outside the CLI imports from src/cli/ (scripts may run the CLI)", () => {
    const offenders = FILES.filter((f) => !isCli(f) && !f.startsWith("scripts/")).flatMap((f) => GRAPH.get(f)!.filter(isCli).map((to) => `${f} → ${to}`));
    expect(offenders).toEqual([]);
  });

  it("chat adapters never import the bot's wiring (src/bot/ starts them, not the other way)", () => {
    const offenders = FILES.filter((f) => f.startsWith("src/chat/")).flatMap((f) => GRAPH.get(f)!.filter((to) => to.startsWith("src/bot/")).map((to) => `${f} → ${to}`));
    expect(offenders).toEqual([]);
  });

  it("the cycle finder finds a cycle when there is one", () => {
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]))).toEqual([["a", "b", "c", "a"]]);
  });

  it("no import cycles", () => {
    expect(cycles(GRAPH).map((c) => c.join(" → "))).toEqual([]);
  });

  it("the command line starts without the chat platforms' clients or the prompt library: only the commands that use them load them", () => {
    // Static value imports only (`import type` is erased; `await import()` loads when used).
    const staticImports = (file: string): string[] =>
      [...readFileSync(path.join(projectRoot, file), "utf8").matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?\sfrom\s+"([^"]+)"|^import\s+"([^"]+)"/gm)].map((m) => (m[1] ?? m[2])!);
    const heavy = ["discord.js", "@slack/bolt", "@inquirer/prompts", "onnxruntime-node", "@huggingface/transformers"];
    const seen = new Set<string>();
    const loaded: string[] = [];
    const walk = (file: string, via: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of staticImports(file)) {
        if (spec.startsWith(".")) walk(path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, ".ts"), [...via, file]);
        else if (heavy.includes(spec)) loaded.push(`${[...via, file].join(" → ")} → ${spec}`);
      }
    };
    walk("src/cli.ts", []);
    expect(seen.size).toBeGreaterThan(20);
    expect(loaded).toEqual([]);
  });
});

