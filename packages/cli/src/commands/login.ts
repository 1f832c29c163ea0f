import { SailfinApiError } from "@sailfin/sdk";
import { bool, str } from "../args.js";
import type { Command } from "../command.js";
import { RejectedCredentials, ServerUnreachable, connect, explainFailure } from "../connection.js";
import { CliError, UsageError } from "../errors.js";
import { ask, askSecret, canAsk } from "../prompt.js";
import { DEFAULT_BASE_URL, DEFAULT_PROFILE, configPath, readConfig, writeConfig, type Profile, type Settings } from "../settings.js";

/**
 * `sailfin login` saves a named profile (base URL and key pair) to the config file, asking on a
 * terminal for what the flags do not give (the secret is not echoed); `sailfin logout` removes it.
 */

const profileName = (flags: Parameters<Command["run"]>[2], env: Readonly<Record<string, string | undefined>>) =>
  str(flags, "profile") ?? (env.SAILFIN_PROFILE || DEFAULT_PROFILE);

export const loginCommands: Command[] = [
  {
    name: "login",
    usage: "[--profile NAME] [--base-url URL] [--access-key AK] [--secret-key SK] [--no-verify]",
    summary: "save a profile (asks for what is missing on a terminal), checked against the server",
    flags: { "access-key": { type: "string" }, "secret-key": { type: "string" }, "no-verify": { type: "boolean" } },
    async run(ctx, _args, flags) {
      const name = profileName(flags, ctx.env);
      const path = configPath(ctx.env);
      const config = await readConfig(path);
      const previous = config.profiles[name];
      const given = { baseUrl: str(flags, "base-url"), accessKey: str(flags, "access-key"), secretKey: str(flags, "secret-key") };
      if ((given.accessKey === undefined || given.secretKey === undefined) && !canAsk()) {
        throw new UsageError("`login` needs --access-key and --secret-key when stdin is not a terminal");
      }
      const suggestedUrl = previous?.baseUrl ?? (ctx.env.QIANFAN_CONSOLE_API_BASE_URL || DEFAULT_BASE_URL);
      const baseUrl = given.baseUrl ?? (canAsk() ? await ask(`Base URL [${suggestedUrl}]: `, suggestedUrl) : suggestedUrl);
      const accessKey = given.accessKey ?? await ask(`Access key${previous ? ` [${previous.accessKey}]` : ""}: `, previous?.accessKey);
      const secretKey = given.secretKey ?? await askSecret("Secret key: ");
      if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new UsageError(`--base-url must be an http(s) URL, got '${baseUrl}'`);
      if (accessKey === "" || secretKey === "") throw new UsageError("the access key and the secret key must not be empty");
      const profile: Profile = { baseUrl: baseUrl.replace(/\/+$/, ""), accessKey, secretKey };
      if (!bool(flags, "no-verify")) await verify(profile, name);
      config.profiles[name] = profile;
      await writeConfig(path, config);
      ctx.say(`saved profile "${name}" (${profile.baseUrl}) to ${path}`);
      if (ctx.json) ctx.out(JSON.stringify({ profile: name, baseUrl: profile.baseUrl, accessKey, path }, null, 2));
      return 0;
    },
  },
  {
    name: "logout",
    usage: "[--profile NAME]",
    summary: "remove a saved profile",
    async run(ctx, _args, flags) {
      const name = profileName(flags, ctx.env);
      const path = configPath(ctx.env);
      const config = await readConfig(path);
      if (config.profiles[name] === undefined) throw new CliError(`no profile "${name}" in ${path}`);
      delete config.profiles[name];
      await writeConfig(path, config);
      ctx.say(`removed profile "${name}" from ${path}`);
      return 0;
    },
  },
];

/**
 * One signed read: a signature the server rejects fails the login; AccessDenied does not (the
 * pair is valid, its policies just do not cover that read).
 */
async function verify(profile: Profile, name: string): Promise<void> {
  const settings: Settings = {
    ...profile,
    sources: { baseUrl: { kind: "flag" }, accessKey: { kind: "profile", name }, secretKey: { kind: "profile", name } },
  };
  try {
    await connect(settings).jobs.list({ maxKeys: 1 }).firstPage();
  } catch (failure) {
    const error = explainFailure(failure, settings);
    if (error instanceof SailfinApiError && error.code === "AccessDenied") return;
    if (error instanceof RejectedCredentials) {
      throw new CliError(`the server at ${profile.baseUrl} rejected this access key/secret key (${error.code}); nothing was saved`);
    }
    if (error instanceof ServerUnreachable) {
      throw new CliError(`cannot reach the Sailfin server at ${profile.baseUrl}: ${error.reason}; nothing was saved (check --base-url, or pass --no-verify to save anyway)`);
    }
    throw error;
  }
}
