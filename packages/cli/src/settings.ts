import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError } from "./errors.js";

/**
 * Where a client command connects, and with which key pair: flags > `QIANFAN_*` variables >
 * the profile > defaults. An explicit `--profile NAME` is itself a flag, so its values win over
 * the variables; the profile chosen by SAILFIN_PROFILE (or `default`) sits below them.
 *
 * Profiles live in one JSON file (mode 0600, it holds secret keys):
 *   $SAILFIN_CONFIG, else $XDG_CONFIG_HOME/sailfin/config.json, else ~/.config/sailfin/config.json
 *   { "profiles": { "default": { "baseUrl": "http://…", "accessKey": "…", "secretKey": "…" } } }
 */

export const DEFAULT_BASE_URL = "http://127.0.0.1:8866";
export const DEFAULT_PROFILE = "default";

export interface Profile {
  readonly baseUrl: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface ConfigFile {
  profiles: Record<string, Profile>;
}

/** Where a setting came from, for the hint of an error about it. */
type Source = { kind: "flag" } | { kind: "env"; name: string } | { kind: "profile"; name: string } | { kind: "default" };

export interface Settings {
  readonly baseUrl: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sources: { readonly baseUrl: Source; readonly accessKey: Source; readonly secretKey: Source };
}

type Env = Readonly<Record<string, string | undefined>>;

/** An environment variable, with "" read as unset. */
const envValue = (env: Env, name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);

export function configPath(env: Env): string {
  const explicit = envValue(env, "SAILFIN_CONFIG");
  if (explicit !== undefined) return explicit;
  const base = envValue(env, "XDG_CONFIG_HOME") ?? join(envValue(env, "HOME") ?? homedir(), ".config");
  return join(base, "sailfin", "config.json");
}

export async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { profiles: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return { profiles: typeof parsed.profiles === "object" && parsed.profiles !== null ? parsed.profiles : {} };
  } catch {
    throw new CliError(`${path} is not valid JSON: fix it or delete it and run \`sailfin login\` again`);
  }
}

/** Writes the whole file atomically, readable by its owner only (it holds secret keys). */
export async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode argument only applies to a new file (and the umask may narrow it): set it outright.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/**
 * Resolves the connection settings of a client command; throws a one-line error naming what to
 * set when the key pair is missing or a named profile does not exist.
 */
export function resolveSettings(input: { flags: { profile?: string; baseUrl?: string }; env: Env; config: ConfigFile; path: string }): Settings {
  const { flags, env, config, path } = input;
  const explicitName = flags.profile;
  const implicitName = envValue(env, "SAILFIN_PROFILE") ?? DEFAULT_PROFILE;
  if (explicitName !== undefined && config.profiles[explicitName] === undefined) {
    throw new CliError(`no profile "${explicitName}" in ${path}: run \`sailfin login --profile ${explicitName}\``);
  }
  if (explicitName === undefined && envValue(env, "SAILFIN_PROFILE") !== undefined && config.profiles[implicitName] === undefined) {
    throw new CliError(`no profile "${implicitName}" (SAILFIN_PROFILE) in ${path}: run \`sailfin login --profile ${implicitName}\``);
  }
  const explicit = explicitName === undefined ? undefined : config.profiles[explicitName];
  const implicit = explicitName === undefined ? config.profiles[implicitName] : undefined;

  const pick = (key: keyof Profile, flagValue: string | undefined, envName: string): [string | undefined, Source] => {
    if (flagValue !== undefined && flagValue !== "") return [flagValue, { kind: "flag" }];
    if (explicit?.[key]) return [explicit[key], { kind: "profile", name: explicitName! }];
    const fromEnv = envValue(env, envName);
    if (fromEnv !== undefined) return [fromEnv, { kind: "env", name: envName }];
    if (implicit?.[key]) return [implicit[key], { kind: "profile", name: implicitName }];
    return [undefined, { kind: "default" }];
  };
  const [baseUrl, baseUrlSource] = pick("baseUrl", flags.baseUrl, "QIANFAN_CONSOLE_API_BASE_URL");
  const [accessKey, accessKeySource] = pick("accessKey", undefined, "QIANFAN_ACCESS_KEY");
  const [secretKey, secretKeySource] = pick("secretKey", undefined, "QIANFAN_SECRET_KEY");
  if (accessKey === undefined || secretKey === undefined) {
    throw new CliError(
      "no credentials: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (the admin pair is in SAILFIN_HOME/credentials.json), or run `sailfin login`",
    );
  }
  return {
    baseUrl: (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
    accessKey,
    secretKey,
    sources: { baseUrl: baseUrlSource, accessKey: accessKeySource, secretKey: secretKeySource },
  };
}

/** "QIANFAN_SECRET_KEY", "profile prod", "--base-url": where to fix a setting. */
export function describeSource(source: Source, envName: string, flag?: string): string {
  switch (source.kind) {
    case "flag": return flag ?? "the flag";
    case "env": return source.name;
    case "profile": return `profile "${source.name}"`;
    case "default": return `${envName} (unset: the default is used)`;
    default: { const never: never = source; return String(never); }
  }
}
