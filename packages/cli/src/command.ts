import type { SailfinClient } from "@sailfin/sdk";
import type { FlagSpecs, FlagValues } from "./args.js";

/**
 * One `sailfin` command (`tasks create`, `login`): its flags, its positional arguments and what
 * it does. Families (`tasks`, `evals`, …) are the commands sharing a first word; each family is
 * one file in commands/ and lists its commands there.
 */
export interface Command {
  /** The words that name it: `tasks create`, or `serve`. */
  readonly name: string;
  /** What follows the name in the usage line: `TASK [--interval S]`. */
  readonly usage: string;
  readonly summary: string;
  /** Its own flags; the global ones (`--json`, `--debug`, `--help`, and for client commands `--profile`, `--base-url`) are added. */
  readonly flags?: FlagSpecs;
  /** How many positional arguments it takes, and their names for the error when some are missing. */
  readonly positionals?: { readonly names: readonly string[]; readonly min: number };
  /** False for the commands that run the server itself (no connection settings). */
  readonly client?: boolean;
  run(ctx: Context, args: readonly string[], flags: FlagValues): Promise<number>;
}

export interface Context {
  /** `--json`: print the raw result, nothing else, on stdout. */
  readonly json: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A line of the command's output (stdout). */
  out(line: string): void;
  /** A line for people only: stdout, unless `--json` (then nothing). */
  say(line: string): void;
  /**
   * The client, connected as flags, `QIANFAN_*` variables and the profile say (resolved on first
   * use). Its errors may be left to propagate: the command line phrases them.
   */
  client(): Promise<SailfinClient>;
}
