/**
 * The documentation holds together: every relative link in the README and the pages under docs/
 * (and the other READMEs) points at a file that exists and, with a #fragment, at a heading of that
 * file; every setting of src/config.ts is in the settings tables of docs/configuration.md; every
 * page of docs/ is linked from the README; and the README stays short.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config.js";
import { projectRoot } from "../../src/paths.js";

const README = "README.md";
const MAX_README_LINES = 120;

/** The Markdown files whose links are checked, relative to the project root. */
function markdownFiles(): string[] {
  const docs = readdirSync(path.join(projectRoot, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  const others = ["training/README.md", "commands/README.md", "SECURITY.md"].filter((f) => existsSync(path.join(projectRoot, f)));
  return [README, ...docs, ...others];
}

function read(file: string): string {
  return readFileSync(path.join(projectRoot, file), "utf8");
}

/** The lines of a Markdown text outside fenced code blocks (``` or ~~~, also indented in a list). */
function proseLines(text: string): { line: string; number: number }[] {
  const lines: { line: string; number: number }[] = [];
  let fence: string | undefined;
  text.split("\n").forEach((line, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === undefined) fence = m[1]![0]!;
      else if (m[1]![0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) lines.push({ line, number: i + 1 });
  });
  return lines;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped (hyphens and underscores kept), each space a hyphen. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // inline HTML
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** The anchors of a Markdown file's headings, with GitHub's -1, -2, ... for repeated ones. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { line } of proseLines(text)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Inline links and images of a Markdown text (outside code), with their line numbers. */
function links(text: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  for (const { line, number } of proseLines(text)) {
    const withoutCode = line.replace(/(`+)[^`]*?\1/g, "");
    for (const m of withoutCode.matchAll(/\]\(\s*(?:<([^>]+)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: (m[1] ?? m[2])!, line: number });
  }
  return out;
}

/** What is wrong with a link of `file`, or undefined when it points at a file and heading that exist. */
function linkProblem(file: string, target: string): string | undefined {
  if (/^[a-z][a-z\d+.-]*:/i.test(target)) return undefined; // http(s), mailto and other schemes
  const hash = target.indexOf("#");
  const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const fragment = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = pathPart === "" ? path.join(projectRoot, file) : path.resolve(path.dirname(path.join(projectRoot, file)), pathPart);
  const shown = path.relative(projectRoot, resolved) || ".";
  if (!resolved.startsWith(projectRoot)) return `${shown} is outside the project`;
  if (!existsSync(resolved)) return `${shown} does not exist`;
  if (fragment === undefined || fragment === "") return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) return `#${fragment}: ${shown} is not a Markdown file`;
  const known = anchors(readFileSync(resolved, "utf8"));
  return known.has(fragment) ? undefined : `${shown} has no heading #${fragment}`;
}

describe("the documentation", () => {
  it("finds GitHub's anchors for headings", () => {
    expect(slug("Chat: Discord and the console")).toBe("chat-discord-and-the-console");
    expect(slug("The `.env` file")).toBe("the-env-file");
    expect(slug("`paperhound setup`")).toBe("paperhound-setup");
    expect(slug("JSON and JSON Lines input")).toBe("json-and-json-lines-input");
    expect(slug("What paperhound trusts, and what it does not")).toBe("what-paperhound-trusts-and-what-it-does-not");
    expect(slug("Search quality and benchmarks")).toBe("search-quality-and-benchmarks");
    expect([...anchors("# A\n\n## Library\n\n```sh\n# not a heading\n```\n\n### Library\n## Library\n")]).toEqual(["a", "library", "library-1", "library-2"]);
    expect(links("see [x](a.md#b) and `[y](c.md)`\n```\n[z](d.md)\n```\n[w](<e f.md>)")).toEqual([
      { target: "a.md#b", line: 1 },
      { target: "e f.md", line: 5 },
    ]);
  });

  it("links only to files and headings that exist", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      for (const { target, line } of links(read(file))) {
        checked++;
        const problem = linkProblem(file, target);
        if (problem) problems.push(`${file}:${line}: link (${target}): ${problem}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it("documents every setting of src/config.ts in the settings tables of docs/configuration.md", () => {
    const rows = read("docs/configuration.md")
      .split("\n")
      .filter((line) => line.startsWith("|"));
    const missing = Object.values(SETTINGS)
      .map((spec) => spec.env)
      .filter((env) => !rows.some((row) => row.includes(`\`${env}\``)))
      .map((env) => `docs/configuration.md: no table row for setting ${env} (src/config.ts)`);
    expect(missing).toEqual([]);
  });

  it("links every page of docs/ from the README", () => {
    const linked = new Set(links(read(README)).map(({ target }) => path.normalize(target.split("#")[0]!)));
    const unlinked = readdirSync(path.join(projectRoot, "docs"))
      .filter((name) => name.endsWith(".md") && !linked.has(path.join("docs", name)))
      .map((name) => `README.md: no link to docs/${name}`);
    expect(unlinked).toEqual([]);
  });

  it(`keeps the README to at most ${MAX_README_LINES} lines`, () => {
    const lines = read(README).replace(/\n$/, "").split("\n").length;
    expect(lines, `README.md has ${lines} lines; move detail into a page under docs/`).toBeLessThanOrEqual(MAX_README_LINES);
  });
});
