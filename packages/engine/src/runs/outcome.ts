import type { Transaction } from "kysely";
import type { Database } from "@sailfin/store";
import type { FailureKind } from "../queue/fail.js";

/** What one attempt of a run kind reports; the worker turns it into one fenced queue transition. */
export type RunOutcome =
  | {
      readonly kind: "done";
      readonly reason: string;
      /** JSON outcome kept on the run (`runs.result`): what a compression measured, an evaluation's report… */
      readonly result?: unknown;
      /** Runs inside the fenced transaction that finishes the run (a publish turns its version Ready there). */
      readonly settle?: (trx: Transaction<Database>) => Promise<void>;
    }
  | { readonly kind: "stopped"; readonly reason: string }
  /**
   * The cluster ended the attempt (a time limit, a preemption, a requeue, a node failure): back to
   * the queue without spending an attempt (`requeueRun`), to resume from the checkpoint at `step`
   * (0: none), unless the run was requeued from that same step too often already.
   */
  | { readonly kind: "requeued"; readonly reason: string; readonly step: number }
  | {
      readonly kind: "failed"; readonly failure: FailureKind; readonly reason: string;
      /** Runs inside the fenced transaction that ends the run Failed (not on a retry): a rejected import records its verdict there. */
      readonly settle?: (trx: Transaction<Database>) => Promise<void>;
    }
  /** The lease was lost mid-way: another worker owns the run now; write nothing. */
  | { readonly kind: "lost" };

/** A failed outcome. @example return failed("user", "the base model version amv-… no longer exists") */
export function failed(failure: FailureKind, reason: string): RunOutcome {
  return { kind: "failed", failure, reason };
}
