/** `paperhound setup`'s answers as flags, and its defaults: shared by its options (setup.ts) and its steps (setup-run.ts). */
export const DEFAULT_INDEX = "index/team";
export const DEFAULT_DAYS = 3;

export interface SetupOptions {
  discord?: boolean;
  slack?: boolean;
  discordToken?: string;
  discordGuild?: string;
  slackBotToken?: string;
  slackAppToken?: string;
  slackSigningSecret?: string;
  slackUrl?: string;
  slackMode?: "socket" | "http";
  index?: string;
  categories?: string[];
  hfDaily?: boolean;
  contactEmail?: string;
  days?: number;
  settingsFile?: string;
  yes?: boolean;
}
