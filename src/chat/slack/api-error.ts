/** The error code of a failed Slack Web API call (`invalid_auth`, `not_in_channel`, …), if it is one. */
export function slackApiError(err: unknown): string | undefined {
  const code = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
  return typeof code === "string" ? code : undefined;
}
