/**
 * `paperhound setup`: from a fresh clone to a team's bot. Asks (or takes as flags) which chat
 * platforms, checks each token with the platform's API, writes the settings to .env (only the ones
 * that change; secrets never printed), creates the team's index (never the sample one), registers
 * the Discord commands or prints the Slack manifest, and fetches the first papers with a progress
 * bar. Rerun, it offers the saved answers as defaults, so it changes only what the user changes.
 *
 * Nothing is written until every answer is in and every token checked: stopped on the way
 * (Ctrl+C), it leaves the settings as they were. Loaded only when `setup` runs (setup.ts): it pulls
 * in discord.js, Slack's client and the prompt library, which every other command would pay for.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { createContext, type AppContext } from "../app/context.js";
import { indexLocation, openEmbedder, paperCount, storeFileOf, writerOpenOptions } from "../app/open-index.js";
import { writeFileAtomic } from "../atomic-write.js";
import { checkDiscordToken, inviteUrl, registerCommands, type DiscordIdentity } from "../chat/discord/registration.js";
import { slackManifest } from "../chat/slack/manifest.js";
import { checkSlackAppToken, checkSlackBotToken } from "../chat/slack/token-check.js";
import { SETTINGS } from "../config.js";
import { envFileSettings, readSettingsFile, updateEnvText } from "../env-file.js";
import { runIngest } from "../ingest/run.js";
import { followedSources } from "../ingest/sources.js";
import { knownCategories } from "../papers/sources/arxiv-categories.js";
import { createProgress } from "../progress.js";
import { PaperIndex } from "../search/paper-index.js";
import { SetupError, SetupPrompts, type Choice } from "./setup-prompts.js";
import { DEFAULT_DAYS, DEFAULT_INDEX, type SetupOptions } from "./setup-options.js";

/** The built-in index directory, which holds the sample papers. */
const SAMPLE_INDEX = SETTINGS.indexPath.default({ env: {}, stderrIsTTY: false });
const TOKEN_TRIES = 3;

/** The settings file as it is now (nothing when there is none). */
function readSavedSettings(file: string): { text: string; saved: Record<string, string> } {
  const read = readSettingsFile(file);
  switch (read.kind) {
    case "read":
      return { text: read.text, saved: read.values };
    case "missing":
      return { text: "", saved: {} };
    case "not-a-file":
      throw new SetupError(`${file} is not a settings file (it is ${read.is}); pass --settings-file <file>`);
    case "unreadable":
      throw new SetupError(`${file} cannot be read (${read.code}); pass --settings-file <file>`);
  }
}

function settingProblem(key: keyof typeof SETTINGS, value: string): string | undefined {
  const spec = SETTINGS[key];
  return spec.schema.safeParse(value.trim()).success ? undefined : `expected ${spec.allowed}`;
}

function httpsUrlProblem(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? undefined : "expected an http(s) URL";
  } catch {
    return "expected a URL such as https://paperhound.example.org";
  }
}

export async function runSetup(ctx: AppContext, opts: SetupOptions): Promise<void> {
  const out = (line = "") => ctx.stdout.write(`${line}\n`);
  const interactive = opts.yes !== true;
  if (interactive && (ctx.stdin as { isTTY?: boolean }).isTTY !== true) {
    throw new SetupError("paperhound setup asks its questions in a terminal; for a scripted install pass --yes and the answers as flags (paperhound setup --help)");
  }
  const ask = new SetupPrompts(ctx, interactive);
  const envFile = path.resolve(opts.settingsFile ?? (ctx.env.PAPERHOUND_ENV_FILE || ".env"));
  const { text, saved } = readSavedSettings(envFile);
  const rerun = Object.keys(saved).length > 0;
  const changes: Record<string, string> = {};
  const set = (key: string, value: string) => {
    if (saved[key] !== value) changes[key] = value;
  };
  out(rerun ? `paperhound setup: changing ${envFile} (Enter keeps each saved answer)` : `paperhound setup: the settings go to ${envFile}`);

  // Which platforms: a platform's own flags choose it (a flag is never ignored); else what is saved.
  const discordFlags = opts.discordToken !== undefined || opts.discordGuild !== undefined;
  const slackFlags = [opts.slackBotToken, opts.slackAppToken, opts.slackSigningSecret, opts.slackUrl, opts.slackMode].some((v) => v !== undefined);
  let discord = opts.discord ?? (discordFlags || saved.DISCORD_TOKEN !== undefined);
  let slack = opts.slack ?? (slackFlags || saved.SLACK_BOT_TOKEN !== undefined);
  if (interactive && opts.discord === undefined && opts.slack === undefined && !discordFlags && !slackFlags) {
    const choices: Choice<"discord" | "slack">[] = [
      { value: "discord", name: "Discord", checked: discord },
      { value: "slack", name: "Slack", checked: slack },
    ];
    const picked = await ask.pickMany("Which chat platforms? (space toggles, Enter confirms; none: the console only)", choices);
    discord = picked.includes("discord");
    slack = picked.includes("slack");
  }
  // A platform left out on a rerun is turned off: its settings go (else `npm start` would still connect).
  const PLATFORM_SETTINGS = { discord: ["DISCORD_TOKEN", "DISCORD_APPLICATION_ID", "DISCORD_GUILD_ID"], slack: ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_MODE"] };
  for (const [platform, keys] of Object.entries(PLATFORM_SETTINGS)) {
    if (platform === "discord" ? discord : slack) continue;
    for (const key of keys) if (saved[key] !== undefined) changes[key] = "";
  }

  // Discord: the token, checked; the server to register the commands in.
  let identity: DiscordIdentity | undefined;
  let guildId: string | undefined;
  const discordApi = ctx.env.DISCORD_API_URL ?? saved.DISCORD_API_URL;
  if (discord) {
    out("");
    out("Discord: the bot token is at https://discord.com/developers/applications → your application → Bot → Reset Token.");
    const token = await ask.checkedSecret({
      label: "Discord bot token",
      given: opts.discordToken,
      flag: "--discord-token",
      setting: "DISCORD_TOKEN",
      saved: saved.DISCORD_TOKEN,
      problem: (v) => settingProblem("discordToken", v),
      tries: TOKEN_TRIES,
      check: async (v) => {
        identity = await checkDiscordToken({ token: v, ...(discordApi ? { api: discordApi } : {}) });
      },
    });
    out(`  token accepted: bot "${identity!.botName}" of application "${identity!.applicationName}" (${identity!.applicationId})`);
    set("DISCORD_TOKEN", token);
    set("DISCORD_APPLICATION_ID", identity!.applicationId);
    const guild = await ask.text({
      message: "Server id to register the commands in (Developer Mode on, right-click the server → Copy Server ID; empty: every server, up to an hour to show)",
      given: opts.discordGuild,
      flag: "--discord-guild",
      setting: "DISCORD_GUILD_ID",
      saved: saved.DISCORD_GUILD_ID,
      allowEmpty: true,
      problem: (v) => settingProblem("discordGuildId", v),
    });
    guildId = guild || undefined;
    if (guildId) set("DISCORD_GUILD_ID", guildId);
    else if (saved.DISCORD_GUILD_ID !== undefined) changes.DISCORD_GUILD_ID = "";
  }

  // Slack: the mode, the manifest to create the app with, the tokens, checked.
  let slackMode: "socket" | "http" | undefined;
  let slackUrl: string | undefined;
  let manifestShown = false;
  const slackApi = ctx.env.SLACK_API_URL ?? saved.SLACK_API_URL ?? "https://slack.com/api/";
  if (slack) {
    out("");
    const savedMode: "socket" | "http" = saved.SLACK_MODE === "http" || (saved.SLACK_MODE !== "socket" && saved.SLACK_SIGNING_SECRET !== undefined && saved.SLACK_APP_TOKEN === undefined) ? "http" : "socket";
    const modeGiven: "socket" | "http" | undefined = opts.slackMode ?? (opts.slackAppToken !== undefined ? "socket" : opts.slackSigningSecret !== undefined || opts.slackUrl !== undefined ? "http" : undefined);
    slackMode = await ask.choose<"socket" | "http">(
      "How does Slack reach the bot?",
      [
        { value: "socket", name: "Socket Mode: the bot connects out to Slack (no public URL needed; recommended)" },
        { value: "http", name: "HTTP: Slack sends requests to a public https URL of this machine" },
      ],
      modeGiven,
      savedMode,
    );
    if (slackMode === "http") {
      slackUrl = await ask.text({ message: "Public URL Slack reaches the bot at (https://…; requests go to /slack/events on port SLACK_PORT, 3000 by default)", given: opts.slackUrl, flag: "--slack-url", saved: undefined, problem: httpsUrlProblem });
    }
    if (interactive && saved.SLACK_BOT_TOKEN === undefined && opts.slackBotToken === undefined) {
      printManifest(ctx, slackMode, slackUrl);
      manifestShown = true;
      out("Then: Install App → Install to Workspace, and copy the tokens asked for below.");
    }
    let team = "";
    const botToken = await ask.checkedSecret({
      label: "Slack bot token (OAuth & Permissions → Bot User OAuth Token, xoxb-…)",
      given: opts.slackBotToken,
      flag: "--slack-bot-token",
      setting: "SLACK_BOT_TOKEN",
      saved: saved.SLACK_BOT_TOKEN,
      problem: (v) => settingProblem("slackBotToken", v),
      tries: TOKEN_TRIES,
      check: async (v) => {
        const who = await checkSlackBotToken(v, slackApi);
        team = `bot "${who.botUser}" in workspace "${who.team}"`;
      },
    });
    out(`  token accepted: ${team}`);
    set("SLACK_BOT_TOKEN", botToken);
    set("SLACK_MODE", slackMode);
    if (slackMode === "socket") {
      const appToken = await ask.checkedSecret({
        label: "Slack app-level token (Basic Information → App-Level Tokens, scope connections:write, xapp-…)",
        given: opts.slackAppToken,
        flag: "--slack-app-token",
        setting: "SLACK_APP_TOKEN",
        saved: saved.SLACK_APP_TOKEN,
        problem: (v) => settingProblem("slackAppToken", v),
        tries: TOKEN_TRIES,
        check: (v) => checkSlackAppToken(v, slackApi),
      });
      out("  app-level token accepted");
      set("SLACK_APP_TOKEN", appToken);
    } else {
      // Slack signs each request with it; it cannot be checked before the first request arrives.
      const secret = await ask.checkedSecret({
        label: "Slack signing secret (Basic Information → App Credentials)",
        given: opts.slackSigningSecret,
        flag: "--slack-signing-secret",
        setting: "SLACK_SIGNING_SECRET",
        saved: saved.SLACK_SIGNING_SECRET,
        problem: (v) => settingProblem("slackSigningSecret", v),
        tries: TOKEN_TRIES,
        check: async () => {},
      });
      set("SLACK_SIGNING_SECRET", secret);
    }
  }

  // The team's index and what it follows.
  out("");
  const indexAnswer = await ask.text({
    message: "Index directory for the team's papers",
    given: opts.index,
    flag: "--index",
    setting: "PAPERHOUND_INDEX",
    saved: saved.PAPERHOUND_INDEX ?? DEFAULT_INDEX,
    problem: (v) => (path.resolve(v) === path.resolve(SAMPLE_INDEX) ? `${v} holds the built-in sample papers; choose another directory (e.g. ${DEFAULT_INDEX})` : statSync(v, { throwIfNoEntry: false })?.isFile() ? `${v} is a file` : undefined),
  });
  set("PAPERHOUND_INDEX", indexAnswer);
  const categoriesText = await ask.text({
    message: "arXiv categories to follow, comma-separated (e.g. cs.LG,cs.CL,stat.ML; empty: none)",
    given: opts.categories?.join(","),
    flag: "--categories",
    setting: "INGEST_CATEGORIES",
    saved: saved.INGEST_CATEGORIES ?? "cs.LG",
    allowEmpty: true,
    problem: (v) => {
      try {
        knownCategories(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  const categories = knownCategories(categoriesText);
  if (categories.length > 0) set("INGEST_CATEGORIES", categories.join(","));
  else if (saved.INGEST_CATEGORIES !== undefined) changes.INGEST_CATEGORIES = "";
  const hfDaily = await ask.yesNo("Follow Hugging Face daily papers too?", opts.hfDaily, saved.INGEST_HF_DAILY === undefined ? true : /^(1|true)$/i.test(saved.INGEST_HF_DAILY.trim()));
  set("INGEST_HF_DAILY", String(hfDaily));
  if (categories.length > 0 || hfDaily) {
    const email = await ask.text({
      message: "Contact e-mail for arXiv's and Hugging Face's request logs (arXiv asks for one; empty: none)",
      given: opts.contactEmail,
      flag: "--contact-email",
      setting: "PAPERHOUND_CONTACT_EMAIL",
      saved: saved.PAPERHOUND_CONTACT_EMAIL,
      allowEmpty: true,
      problem: (v) => settingProblem("contactEmail", v),
    });
    if (email) set("PAPERHOUND_CONTACT_EMAIL", email);
    else if (saved.PAPERHOUND_CONTACT_EMAIL !== undefined) changes.PAPERHOUND_CONTACT_EMAIL = "";
  }

  const days = await ask.count("Fetch the papers of how many past days now? (0: skip)", opts.days, paperCount(storeFileOf(path.resolve(indexAnswer))) > 0 ? 0 : DEFAULT_DAYS);

  // Write the settings (only what changed; values never printed).
  const settingsEnv: NodeJS.ProcessEnv = { ...ctx.env, ...saved, ...changes };
  // Set-up says what failed in its own words; the request log's warnings would say it twice.
  const setupCtx = createContext({ env: { LOG_LEVEL: "error", ...settingsEnv }, stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
  setupCtx.config(); // every answer as the bot will read it: a ConfigError here is a bug in the checks above
  out("");
  const changed = Object.keys(changes);
  if (changed.length === 0) out(`${envFile}: unchanged`);
  else {
    const removed = changed.filter((k) => changes[k] === "");
    const next = updateEnvText(text, Object.fromEntries(changed.map((k) => [k, changes[k] === "" ? undefined : changes[k]])));
    await writeFileAtomic(envFile, next, { mode: 0o600 });
    const written = changed.filter((k) => !removed.includes(k));
    out(`${envFile}: ${written.length ? `set ${written.join(", ")}` : ""}${written.length && removed.length ? "; " : ""}${removed.length ? `removed ${removed.join(", ")}` : ""}`);
  }
  const inEnvironment = Object.keys({ ...saved, ...changes }).filter((k) => ctx.env[k] !== undefined && !envFileSettings().keys.has(k) && ctx.env[k] !== settingsEnv[k]);
  for (const k of inEnvironment) out(`note: ${k} is also set in the environment, which wins over ${path.basename(envFile)}: unset it there`);

  // The index: created now, so the bot never mixes the sample papers in.
  const loc = indexLocation(setupCtx, {});
  const existed = statSync(storeFileOf(loc.dir), { throwIfNoEntry: false }) !== undefined;
  if (!existed) {
    const embedder = await openEmbedder(setupCtx);
    try {
      const index = await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(setupCtx, loc.dir) });
      index.close();
    } finally {
      await embedder.dispose();
    }
  }
  const held = paperCount(storeFileOf(loc.dir));
  out(`index ${loc.dir}: ${existed ? `${held} paper(s)` : "created"}`);

  const failures: string[] = [];
  // Discord: the commands registered (a bulk overwrite: rerunning changes nothing).
  if (discord && identity) {
    try {
      const r = await registerCommands({ token: settingsEnv.DISCORD_TOKEN!, applicationId: identity.applicationId, ...(guildId ? { guildId } : {}), ...(discordApi ? { api: discordApi } : {}) });
      out(`Discord: registered ${r.names.map((n) => `/${n}`).join(", ")} ${r.scope === "guild" ? `in server ${r.guildId}` : "in every server (may take up to an hour to show)"}`);
    } catch (err) {
      failures.push("registering the Discord commands");
      out(`Discord: registering the commands failed: ${err instanceof Error ? err.message : String(err)}; run \`npm run register-commands\` later`);
    }
  }
  if (slack && !manifestShown && (slackMode === "http" || !rerun)) printManifest(ctx, slackMode!, slackUrl);

  // The first papers.
  const sources = days > 0 ? followedSources(setupCtx.config(), days) : [];
  if (days > 0 && sources.length === 0) out("first ingest: nothing followed (no categories, no Hugging Face daily papers); skipped");
  for (const source of sources) {
    const progress = createProgress({ label: `first papers from ${source.what}`, unit: "papers", stream: ctx.stderr });
    const report = await runIngest(setupCtx, loc, source, { onPage: (page) => progress.tick(page.papers.length) });
    const t = report.totals;
    progress.finish(`${t.new} new, ${t.updated + t.unchanged} already indexed${report.failed ? `; page ${report.failed.page} failed` : ""}`);
    if (report.failed) {
      failures.push(`the first papers from ${source.what}`);
      out(`${report.failed.message}; run \`paperhound ingest followed --days ${days}\` later`);
    }
  }

  // What to do next.
  out("");
  out("Next:");
  let step = 1;
  if (discord && identity) out(`  ${step++}. Invite the bot to your server: ${inviteUrl(identity.applicationId)}`);
  if (slack) out(`  ${step++}. In Slack, invite @paperhound to the channels it should post digests in (private ones need it; public ones do not)`);
  out(`  ${step++}. Start it: npm start${!discord && !slack ? " (no chat platform: the console; try /paper <topic>)" : ""}`);
  if (discord || slack) out(`  ${step++}. In a channel: /paper <a topic>, and /digest subscribe for a daily digest${categories.length ? ` (its categories option: ${categories.join(",")})` : ""}`);
  if (categories.length > 0 || hfDaily) out(`  ${step++}. Each day (cron): cd ${process.cwd()} && node bin/paperhound.js ingest followed --days 2`);
  out("Run `paperhound setup` again to change an answer.");
  if (failures.length > 0) throw new SetupError(`set-up saved its settings, but these steps failed (see above): ${failures.join("; ")}`);
}

function printManifest(ctx: AppContext, mode: "socket" | "http", publicUrl: string | undefined): void {
  const out = (line = "") => ctx.stdout.write(`${line}\n`);
  out("Create the Slack app: https://api.slack.com/apps → Create New App → From an app manifest → pick the workspace → paste this (JSON tab):");
  out(JSON.stringify(slackManifest(mode, publicUrl), null, 2));
}
