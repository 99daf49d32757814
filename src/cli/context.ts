/** How a `paperhound` subcommand joins the program. Each lives in its own file under src/cli/. */
import type { Command } from "commander";
import type { AppContext } from "../app/context.js";

/** One subcommand: adds itself to the program. */
export type RegisterCommand = (program: Command, ctx: AppContext) => void;
