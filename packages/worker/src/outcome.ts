import type { Transaction } from "kysely";
import type { Logger, EngineResources } from "@sailfin/engine";
import type { Database } from "@sailfin/store";
import type { ExecResult } from "./executor.js";
import type { RuntimeEnding } from "./runtime-link.js";
import type { Executor } from "./executor.js";

/** What a handler reports; the loop turns it into one fenced queue transition. */
export type Outcome =
  | {
      readonly kind: "done";
      readonly reason: string;
      /** JSON outcome kept on the run (`runs.result`): what a compression measured, an evaluation's report… */
      readonly result?: unknown;
      /** Runs inside the fenced transaction that finishes the run (a publish turns its version Ready there). */
      readonly settle?: (trx: Transaction<Database>) => Promise<void>;
    }
  | { readonly kind: "stopped"; readonly reason: string }
  | {
      readonly kind: "failed"; readonly failure: "user" | "system"; readonly reason: string;
      /** Runs inside the fenced transaction that ends the run Failed (not on a retry): a rejected import records its verdict there. */
      readonly settle?: (trx: Transaction<Database>) => Promise<void>;
    }
  /** The lease was lost mid-way: another worker owns the run now; write nothing. */
  | { readonly kind: "lost" };

export interface HandlerContext {
  readonly res: EngineResources;
  readonly executor: Executor;
  readonly owner: string;
  readonly log: Logger;
  /** Aborted to stop the runtime (a requested stop, a lost lease, or the worker shutting down). */
  readonly signal: AbortSignal;
  /** Handlers call this when a fenced write finds the lease gone. */
  readonly leaseLost: () => void;
}

/** The failure reason of a runtime that exited without `done`: what it said, how it ended, its stderr tail. */
export function crashReason(message: string | null, exitCode: number | null, signal: string | null, stderrTail: string): string {
  const how = signal !== null ? `killed by ${signal}` : `exit code ${exitCode}`;
  const tail = stderrTail.trim();
  return `${message ?? "the training runtime stopped without finishing"} (${how})${tail === "" ? "" : `; stderr tail:\n${tail.slice(-2_000)}`}`;
}

/** The artifact store seen as local folders: the runtime reads and writes files directly. */
export interface LocalArtifacts {
  /** Absolute root of the store. */
  readonly root: string;
  /** The absolute path of a key (a trailing `/` is dropped), through the store's own root-escape check. */
  readonly local: (key: string) => string;
}

/** The local view of the store, or null when it is not a local folder (runtime work needs one). */
export function localArtifacts(res: EngineResources): LocalArtifacts | null {
  const root = res.artifacts.localPath("");
  if (root === null) return null;
  // Non-null for every key once the root exists.
  return { root, local: (key) => res.artifacts.localPath(key.replace(/\/$/, ""))! };
}

/**
 * The failure of a runtime process that did not finish: the user's (exit code 2, or an error
 * event of kind user: not retried) or the system's (retried), with what it said and how it ended.
 */
export function runtimeFailure(ending: RuntimeEnding | null, result: ExecResult): Outcome {
  const user = result.exitCode === 2 || (ending?.kind === "error" && ending.errorKind === "user");
  return {
    kind: "failed", failure: user ? "user" : "system",
    reason: crashReason(ending?.kind === "error" ? ending.message : null, result.exitCode, result.signal, result.stderrTail),
  };
}
