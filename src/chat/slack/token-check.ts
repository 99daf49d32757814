/**
 * Checks Slack tokens before they are saved (`paperhound setup`): the bot token with auth.test, the
 * app-level token by opening a Socket Mode connection URL (the call Socket Mode starts with; the
 * URL is not used). No retries: a refusal or an unreachable API is told at once.
 */
import { webApi } from "@slack/bolt";
import { slackApiError } from "./api-error.js";
import { SlackStartError } from "./adapter.js";

/** The workspace and bot user a bot token belongs to. */
export interface SlackIdentity {
  team: string;
  teamId: string;
  botUser: string;
}

const REFUSED = /^(invalid_auth|not_authed|account_inactive|token_revoked|token_expired|not_allowed_token_type)$/;

function client(token: string, apiUrl: string): webApi.WebClient {
  return new webApi.WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, timeout: 15_000, logLevel: webApi.LogLevel.ERROR });
}

function failure(err: unknown, setting: string, where: string, apiUrl: string): SlackStartError {
  const code = slackApiError(err);
  if (code !== undefined && REFUSED.test(code)) return new SlackStartError(`Slack refused ${setting} (${code}): copy it again from ${where}`);
  if (code !== undefined) return new SlackStartError(`Slack answered ${code} when checking ${setting}`);
  return new SlackStartError(`could not reach Slack at ${apiUrl} to check ${setting}: ${err instanceof Error ? err.message : String(err)}. Check the network (and SLACK_API_URL if set)`);
}

export async function checkSlackBotToken(token: string, apiUrl: string): Promise<SlackIdentity> {
  try {
    const r = await client(token, apiUrl).auth.test();
    return { team: String(r.team ?? ""), teamId: String(r.team_id ?? ""), botUser: String(r.user ?? "") };
  } catch (err) {
    throw failure(err, "the bot token", "the app's OAuth & Permissions page (Bot User OAuth Token, xoxb-…)", apiUrl);
  }
}

export async function checkSlackAppToken(token: string, apiUrl: string): Promise<void> {
  try {
    await client(token, apiUrl).apps.connections.open();
  } catch (err) {
    throw failure(err, "the app-level token", "the app's Basic Information page → App-Level Tokens (xapp-…, scope connections:write)", apiUrl);
  }
}
