import type { SailfinClient } from "@sailfin/sdk";
import { GLOBAL_FLAGS, GLOBAL_VALUE_FLAGS, parseFlags, str, suggest, type FlagSpecs } from "./args.js";
import type { Command, Context } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { connect, explainFailure } from "./connection.js";
import { UsageError, describeError, exitCodeOf } from "./errors.js";
import { configPath, readConfig, resolveSettings, type Settings } from "./settings.js";

const FOOTER = `Global flags: --json (raw results for scripts), --debug (stack traces), --profile NAME, --base-url URL.
Client commands connect with flags > QIANFAN_CONSOLE_API_BASE_URL, QIANFAN_ACCESS_KEY, QIANFAN_SECRET_KEY
(as the official Qianfan SDKs) > the profile saved by \`sailfin login\` (SAILFIN_PROFILE, default "default").
\`sailfin COMMAND --help\` shows a command's flags.`;

const families = (): string[] => [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]!))];

function usageLine(command: Command): string {
  return `sailfin ${command.name}${command.usage ? ` ${command.usage}` : ""}`;
}

/** Every command with its summary; or, for one family (`tasks`), its full usage lines. */
function usage(family?: string): string {
  if (family === undefined) {
    const width = Math.max(...COMMANDS.map((c) => c.name.length));
    return `usage: sailfin COMMAND [ARGS] [FLAGS]\n\n${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}\n\n${FOOTER}`;
  }
  const shown = COMMANDS.filter((c) => c.name.split(" ")[0] === family);
  return `usage:\n${shown.map((c) => `  ${usageLine(c)}\n      ${c.summary}`).join("\n")}\n\n${FOOTER}`;
}

function commandHelp(command: Command): string {
  const flags = Object.entries(command.flags ?? {}).filter(([, spec]) => !spec.hidden).map(([name, spec]) => `--${name}${spec.type === "string" ? " VALUE" : ""}${spec.multiple ? " (repeatable)" : ""}`);
  return `usage: ${usageLine(command)}\n${command.summary}${flags.length === 0 ? "" : `\nflags: ${flags.join(", ")}`}\n\n${FOOTER}`;
}

/** The `sailfin` command line. Returns the exit code; errors are one line unless `--debug`. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (argv.includes("--debug")) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.stderr.write(`sailfin: ${describeError(error)}\n`);
    return exitCodeOf(error);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  // Global flags may come before the command words: `sailfin --profile prod tasks list`.
  let at = 0;
  while (at < argv.length && argv[at]!.startsWith("-")) at += GLOBAL_VALUE_FLAGS.includes(argv[at]!) ? 2 : 1;
  const [first, second, third] = argv.slice(at);
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  if (first === undefined || first === "help") {
    const family = first === "help" ? second : undefined;
    if (family !== undefined && !families().includes(family)) throw unknownCommand(family, families());
    if (first === undefined && !wantsHelp) {
      process.stderr.write(`${usage()}\n`);
      return 2;
    }
    process.stdout.write(`${usage(family)}\n`);
    return 0;
  }
  if (!families().includes(first)) throw unknownCommand(first, families());
  let command = COMMANDS.find((c) => c.name === first);
  let words = 1;
  if (command === undefined) {
    const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.slice(first.length + 1));
    if (second === undefined || second.startsWith("-")) {
      if (wantsHelp) {
        process.stdout.write(`${usage(first)}\n`);
        return 0;
      }
      throw new UsageError(`\`${first}\` needs a command: ${subs.join(", ")} (see \`sailfin ${first} --help\`)`);
    }
    command = COMMANDS.find((c) => c.name === `${first} ${second}`);
    words = 2;
    // A third word names a command of a group within the family: `keys api-key create`.
    if (command === undefined && third !== undefined && !third.startsWith("-")) {
      command = COMMANDS.find((c) => c.name === `${first} ${second} ${third}`);
      words = 3;
    }
    if (command === undefined) throw unknownCommand(`${first} ${second}`, subs.map((s) => `${first} ${s}`));
  }
  const rest = [...argv.slice(0, at), ...argv.slice(at + words)];
  const specs: FlagSpecs = command.client === false
    ? { ...command.flags, json: GLOBAL_FLAGS.json!, debug: GLOBAL_FLAGS.debug!, help: GLOBAL_FLAGS.help! }
    : { ...GLOBAL_FLAGS, ...command.flags };
  const { flags, positionals } = parseFlags(command.name, rest, specs);
  if (flags.help === true) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  const names = command.positionals?.names ?? [];
  const min = command.positionals?.min ?? 0;
  if (positionals.length < min) {
    throw new UsageError(`\`${command.name}\` needs ${names.slice(positionals.length, min).join(" ")}: ${usageLine(command)}`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}' for \`${command.name}\`: ${usageLine(command)}`);
  }
  const { ctx, explain } = context(flags);
  try {
    return await command.run(ctx, positionals, flags);
  } catch (error) {
    throw explain(error);
  }
}

function unknownCommand(given: string, known: readonly string[]): UsageError {
  const guess = suggest(given, known);
  return new UsageError(`unknown command \`${given}\`${guess === undefined ? "" : ` (did you mean \`${guess}\`?)`}; see \`sailfin --help\``);
}

/** A command's context, and how to phrase its connection's failures (once it has connected). */
function context(flags: Parameters<Command["run"]>[2]): { ctx: Context; explain(error: unknown): unknown } {
  const json = flags.json === true;
  let settings: Settings | undefined;
  let client: Promise<SailfinClient> | undefined;
  const write = (line: string) => { process.stdout.write(`${line}\n`); };
  const ctx: Context = {
    json,
    env: process.env,
    out: write,
    say: (line) => { if (!json) write(line); },
    client() {
      client ??= (async () => {
        const path = configPath(process.env);
        const config = await readConfig(path);
        const profile = str(flags, "profile");
        const baseUrl = str(flags, "base-url");
        settings = resolveSettings({
          flags: { ...(profile === undefined ? {} : { profile }), ...(baseUrl === undefined ? {} : { baseUrl }) },
          env: process.env, config, path,
        });
        return connect(settings);
      })();
      return client;
    },
  };
  return { ctx, explain: (error) => (settings === undefined ? error : explainFailure(error, settings)) };
}
