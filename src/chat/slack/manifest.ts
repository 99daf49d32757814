/**
 * The Slack app manifest that creates paperhound's app: slack-manifest.json (Socket Mode) as it is,
 * or, for HTTP mode, with Socket Mode off and the public request URL on every slash command and on
 * interactivity (bolt serves them all at /slack/events).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../../paths.js";

export const MANIFEST_FILE = path.join(projectRoot, "slack-manifest.json");

interface Manifest {
  features: { slash_commands: Record<string, unknown>[] };
  settings: Record<string, unknown> & { interactivity: Record<string, unknown> };
  [key: string]: unknown;
}

/** The manifest for `mode`; `publicUrl` (HTTP mode): where Slack reaches the bot, e.g. https://paperhound.example.org. */
export function slackManifest(mode: "socket" | "http", publicUrl?: string): Record<string, unknown> {
  const manifest = JSON.parse(readFileSync(MANIFEST_FILE, "utf8")) as Manifest;
  if (mode === "socket") return manifest;
  if (!publicUrl) throw new RangeError("an HTTP-mode manifest needs the public URL");
  const requestUrl = new URL("slack/events", publicUrl.endsWith("/") ? publicUrl : `${publicUrl}/`).toString();
  manifest.features.slash_commands = manifest.features.slash_commands.map((c) => ({ ...c, url: requestUrl }));
  manifest.settings = { ...manifest.settings, socket_mode_enabled: false, interactivity: { ...manifest.settings.interactivity, request_url: requestUrl } };
  return manifest;
}
