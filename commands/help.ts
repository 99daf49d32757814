/**
 * /help: what the commands do and their options, built from the command definitions.
 */
import type { CommandSpec } from "./types.js";
import type { HelpView, View } from "./view.js";

export function helpView(commands: readonly CommandSpec[]): HelpView {
  return {
    kind: "help",
    title: "paperhound finds research papers in this team's index",
    commands: commands.map((c) => {
      const visible = c.options.filter((o) => !o.hidden);
      return {
        usage: `/${c.name}${visible.map((o) => (o.required ? ` ${o.name}:<${o.type === "string" ? "text" : o.type}>` : ` [${o.name}]`)).join("")}`,
        description: c.description,
        options: visible.map((o) => ({ name: o.name, description: o.description })),
      };
    }),
    ephemeral: true,
  };
}

/** /help needs the list of commands, so it is made by commands/index.ts. */
export function makeHelpCommand(all: () => readonly CommandSpec[]): CommandSpec {
  return {
    name: "help",
    description: "What paperhound can do",
    options: [],
    isPrivate: () => true,
    run: async (): Promise<View> => helpView(all()),
  };
}
