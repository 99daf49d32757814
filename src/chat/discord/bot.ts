// placeholder replaced below
import type { CommandContext } from "../../../commands/types.js";
import type { Logger } from "../../log.js";
export async function runDiscordBot(_opts: { token: string; ctx: CommandContext; logger: Logger }): Promise<void> {
  throw new Error("Discord adapter not written yet");
}
