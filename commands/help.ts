/**
 * /help: what the commands do and their options, built from the command definitions.
 */
import { CommandInputError, type CommandSpec } from "./types.js";
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

/** /help needs the list of commands, so it is made by commands/index.ts. `/help paper`: that command only. */
export function makeHelpCommand(all: () => readonly CommandSpec[]): CommandSpec {
  const named = (value: string) => all().find((c) => c.name === value.replace(/^\//, "").toLowerCase());
  return {
    name: "help",
    description: "What paperhound can do",
    options: [
      {
        name: "command",
        description: "Only this command (paper, related, digest)",
        type: "string",
        maxLength: 20,
        check: (value) => {
          const cmd = named(value);
          if (!cmd) throw new CommandInputError(`there is no command /${value.replace(/^\//, "").slice(0, 20)}; the commands are ${all().map((c) => `/${c.name}`).join(", ")}`, "command");
          return cmd.name;
        },
      },
    ],
    isPrivate: () => true,
    run: async (options): Promise<View> => {
      const only = typeof options.command === "string" ? named(options.command) : undefined;
      return helpView(only ? [only] : all());
    },
  };
}
