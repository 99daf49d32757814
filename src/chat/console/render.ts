/**
 * Views as terminal text: the same content as a Discord message (header, one block per paper,
 * what the buttons would do), wrapped for an 80-column terminal.
 */
import type { FileView, HelpView, MessageView, PaperItem, ResultsView, View } from "../../../commands/view.js";
import { metaOf } from "../../../commands/view.js";
import { withoutControls, wrap } from "../../papers/display.js";

/** Control characters (terminal escapes) from paper text never reach the terminal. */
function clean(s: string): string {
  return withoutControls(s);
}

function item(i: PaperItem, rankWidth: number): string[] {
  const label = `${String(i.rank).padStart(rankWidth)}. `;
  const indent = " ".repeat(label.length);
  const title = wrap(clean(i.title), indent);
  title[0] = label + title[0]!.slice(indent.length);
  const meta = metaOf(i).map(clean);
  const lines = [...title, ...wrap(meta.join(" · "), indent), ...wrap(i.url ?? i.id, indent)];
  if (i.excerpt) lines.push(...wrap(clean(i.excerpt), indent));
  if (i.links.length > 0) lines.push(...wrap(i.links.map((l) => `${l.label}: ${l.url}`).join("  "), indent));
  return lines;
}

function results(v: ResultsView): string {
  const width = String(v.items.at(-1)?.rank ?? 1).length;
  const out = [clean(v.header) + (v.ephemeral ? " (only you see this)" : ""), "", v.items.map((i) => item(i, width).join("\n")).join("\n\n")];
  if (v.next) out.push("", "/more for the next page");
  return out.join("\n");
}

function message(v: MessageView): string {
  const lines = [`${v.tone === "error" ? "Error" : v.title}: ${clean(v.text)}`];
  // Shown as it is (not wrapped), ready to copy.
  if (v.code) lines.push("", clean(v.code).trimEnd());
  if (v.suggestion) lines.push(...(v.code ? [""] : []), ...wrap(clean(v.suggestion), "  "));
  return lines.join("\n");
}

function help(v: HelpView): string {
  const lines = [v.title, ""];
  for (const c of v.commands) {
    lines.push(c.usage, ...wrap(c.description, "    "));
    for (const o of c.options) lines.push(...wrap(`${o.name}: ${o.description}`, "      "));
    lines.push("");
  }
  lines.push("Options are written name:value (quote values with spaces); other words are the query or paper.");
  lines.push("Console only: /more shows the next page of the last results, /quit leaves.");
  return lines.join("\n");
}

/** A file's text follows its description (copy it from the terminal, or pipe the console's output). */
function file(v: FileView): string {
  const body = v.file.content
    .split("\n")
    .map((line) => line.split("\t").map(clean).join("\t"))
    .join("\n");
  return `${v.text} (${v.file.name}):\n\n${body.trimEnd()}`;
}

export function renderText(v: View): string {
  switch (v.kind) {
    case "results":
      return results(v);
    case "message":
      return message(v);
    case "help":
      return help(v);
    case "file":
      return file(v);
  }
}
