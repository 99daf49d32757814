/**
 * Slash command registration, generated from the command definitions in commands/ (never written
 * twice): `commandsJson` is the body of Discord's bulk overwrite, `registerCommands` sends it to
 * one guild (development: changes show at once) or globally (production: every server the bot is
 * in). A bulk overwrite replaces the whole set, so a removed command disappears too.
 */
import { ApplicationCommandOptionType, ApplicationCommandType, OAuth2Scopes, PermissionFlagsBits, REST, Routes, type RESTPutAPIApplicationCommandsJSONBody } from "discord.js";
import { COMMANDS } from "../../../commands/index.js";
import { PaperhoundError } from "../../errors.js";
import type { CommandSpec, OptionSpec } from "../../../commands/types.js";

const OPTION_TYPE = {
  string: ApplicationCommandOptionType.String,
  integer: ApplicationCommandOptionType.Integer,
  boolean: ApplicationCommandOptionType.Boolean,
  attachment: ApplicationCommandOptionType.Attachment,
} as const;

function optionJson(o: OptionSpec): Record<string, unknown> {
  return {
    type: OPTION_TYPE[o.type],
    name: o.name,
    description: o.description.slice(0, 100),
    required: o.required === true,
    // A fixed list of choices needs no length limit (and Discord checks the value against the list).
    ...(o.maxLength !== undefined && !o.choices ? { max_length: Math.min(o.maxLength, 6000) } : {}),
    ...(o.min !== undefined ? { min_value: o.min } : {}),
    ...(o.max !== undefined ? { max_value: o.max } : {}),
    ...(o.autocomplete ? { autocomplete: true } : {}),
    ...(o.choices ? { choices: o.choices.slice(0, 25).map((c) => ({ name: c, value: c })) } : {}),
  };
}

export function commandsJson(commands: readonly CommandSpec[] = COMMANDS): RESTPutAPIApplicationCommandsJSONBody {
  return commands.map((c) => ({
    type: ApplicationCommandType.ChatInput,
    name: c.name,
    description: c.description.slice(0, 100),
    options: c.options.filter((o) => !o.hidden).map(optionJson),
    // usable in servers and in DMs with the bot
    contexts: [0, 1],
  })) as unknown as RESTPutAPIApplicationCommandsJSONBody;
}

export interface RegisterOptions {
  token: string;
  /** Read from the token's application (GET /applications/@me) when absent. */
  applicationId?: string;
  /** Register in this guild only (development); absent: globally. */
  guildId?: string;
  /** REST API base (tests); default Discord's. */
  api?: string;
}

export interface RegisterResult {
  scope: "guild" | "global";
  applicationId: string;
  guildId?: string;
  names: string[];
}

export async function registerCommands(opts: RegisterOptions): Promise<RegisterResult> {
  const rest = new REST({ ...(opts.api ? { api: opts.api } : {}), retries: 3 }).setToken(opts.token);
  const applicationId = opts.applicationId ?? ((await rest.get(Routes.currentApplication())) as { id: string }).id;
  const body = commandsJson();
  const route = opts.guildId ? Routes.applicationGuildCommands(applicationId, opts.guildId) : Routes.applicationCommands(applicationId);
  const saved = (await rest.put(route, { body })) as { name: string }[];
  return {
    scope: opts.guildId ? "guild" : "global",
    applicationId,
    ...(opts.guildId ? { guildId: opts.guildId } : {}),
    names: saved.map((c) => c.name),
  };
}

/** What a working bot token says about its application (`paperhound setup` shows and stores it). */
export interface DiscordIdentity {
  applicationId: string;
  applicationName: string;
  botName: string;
}

/** Discord refused the token, or could not be reached; the message says which and what to do. */
export class DiscordTokenError extends PaperhoundError {
  readonly identifier = "discord_login";
  override readonly name = "DiscordTokenError";
}

/**
 * Checks a bot token with two reads (the bot user, its application). No retries: at set-up a
 * refusal or an unreachable API is told at once.
 */
export async function checkDiscordToken(opts: { token: string; api?: string }): Promise<DiscordIdentity> {
  const rest = new REST({ ...(opts.api ? { api: opts.api } : {}), retries: 0, timeout: 15_000 }).setToken(opts.token);
  try {
    const user = (await rest.get(Routes.user("@me"))) as { username: string };
    const app = (await rest.get(Routes.currentApplication())) as { id: string; name: string };
    return { applicationId: app.id, applicationName: app.name, botName: user.username };
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (status === 401) throw new DiscordTokenError("Discord refused the bot token (401 Unauthorized): copy it again from the developer portal → your application → Bot → Reset Token");
    const message = err instanceof Error ? err.message : String(err);
    throw new DiscordTokenError(`could not check the bot token with Discord (${typeof status === "number" ? `HTTP ${status}: ` : ""}${message}); check the network, or DISCORD_API_URL if set`);
  }
}

/** Permissions of the invite link: see channels, post digests (messages with embeds). Commands need none. */
const INVITE_PERMISSIONS = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.EmbedLinks;

/** The link that adds the bot to a server, with the slash commands and the permissions digests need. */
export function inviteUrl(applicationId: string): string {
  const url = new URL("https://discord.com/oauth2/authorize");
  url.searchParams.set("client_id", applicationId);
  url.searchParams.set("scope", [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands].join(" "));
  url.searchParams.set("permissions", INVITE_PERMISSIONS.toString());
  return url.toString();
}
