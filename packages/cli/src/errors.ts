import { SailfinApiError } from "@sailfin/sdk";

/**
 * What the CLI prints when something goes wrong: one line on stderr, `sailfin: <what happened>
 * <how to fix it>`, never a stack trace unless `--debug`. Exit 2 for a command line that cannot
 * be run as written, 1 for everything else.
 */

/** The command line itself is wrong (unknown option, missing argument): exit 2. */
export class UsageError extends Error {}

/** A failure already phrased for people (with its hint); exit 1. */
export class CliError extends Error {}

/** Exit code of an error: 2 for usage, 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}

/** Node's file-system errors, phrased with the path the user gave. */
const FS_MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "not a folder",
  EEXIST: "already exists",
  ENOSPC: "no space left on the device, writing",
};

/** The one line printed for `error` (without the `sailfin: ` prefix). */
export function describeError(error: unknown): string {
  if (error instanceof SailfinApiError) {
    return `${error.code}: ${firstLine(error.message)}${error.requestId ? ` (request ${error.requestId})` : ""}`;
  }
  if (error instanceof UsageError || error instanceof CliError) return firstLine(error.message);
  const fsError = error as NodeJS.ErrnoException;
  if (typeof fsError?.code === "string" && typeof fsError.path === "string" && FS_MESSAGES[fsError.code] !== undefined) {
    return `${FS_MESSAGES[fsError.code]}: ${fsError.path}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${firstLine(message)} (run with --debug for details)`;
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}
