import type { RuntimeRecipe } from "@sailfin/contract";
import type { FailureKind } from "../queue/fail.js";
import type { ExecResult } from "./executor.js";
import type { RuntimeEnding } from "./runtime-link.js";

/** Why a runtime job did not finish, and whose fault it is. */
interface RuntimeFailure {
  readonly failure: FailureKind;
  readonly reason: string;
}

/**
 * The one reading of a runtime job that ended without `done`, for every run kind: the user's
 * failure (exit code 2, or an `error` event of kind user: bad input, not retried) reads as the
 * runtime's own message; anything else is the system's (retried) and reads as what the runtime
 * said, how the process ended, and its stderr tail.
 *
 * @example const { failure, reason } = runtimeFailure("quantize", link.ending, result);
 */
export function runtimeFailure(recipe: RuntimeRecipe, ending: RuntimeEnding | null, result: ExecResult): RuntimeFailure {
  const message = ending?.kind === "error" ? ending.message : null;
  const user = result.exitCode === 2 || (ending?.kind === "error" && ending.errorKind === "user");
  if (user && message !== null) return { failure: "user", reason: message };
  return { failure: user ? "user" : "system", reason: crashReason(message ?? `the ${recipe} runtime stopped without finishing`, result) };
}

/** What the runtime said, how its process ended, and its stderr tail. */
function crashReason(message: string, result: ExecResult): string {
  const how = result.signal !== null ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
  const tail = result.stderrTail.trim();
  return `${message} (${how})${tail === "" ? "" : `; stderr tail:\n${tail.slice(-2_000)}`}`;
}
