/**
 * Every chat command, in the order help lists them. Adapters look commands up here by name and
 * generate their registrations (Discord slash commands, console parsing) from these definitions.
 */
import { digestCommand } from "./digest.js";
import { makeHelpCommand } from "./help.js";
import { libraryCommand, saveCommand } from "./library.js";
import { paperCommand } from "./paper.js";
import { relatedCommand } from "./related.js";
import type { CommandSpec } from "./types.js";

export const COMMANDS: readonly CommandSpec[] = [paperCommand, relatedCommand, saveCommand, libraryCommand, digestCommand, makeHelpCommand(() => COMMANDS)];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name.toLowerCase());
}

export { CommandInputError, type CommandContext, type CommandSpec, type Choice } from "./types.js";
export { parseOptions } from "./options.js";
export * from "./view.js";
