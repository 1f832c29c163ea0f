import type { Transaction } from "kysely";
import type { Logger, EngineResources } from "@sailfin/engine";
import type { Database } from "@sailfin/store";
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
  | { readonly kind: "failed"; readonly failure: "user" | "system"; readonly reason: string }
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
