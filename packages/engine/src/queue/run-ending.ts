import type { Transaction } from "kysely";
import type { Database } from "@sailfin/store";

/** How a run ended without success: Failed for good (no attempt left, or a user error), or Cancelled. */
export interface RunEnding {
  readonly status: "Failed" | "Cancelled";
  /** The failure reason, or what stopped it. */
  readonly reason: string;
}

/** The run that ended, as its row stores it (the hook parses `spec` by `kind`). */
interface EndedRun {
  readonly kind: string;
  readonly spec: string;
}

/**
 * Settles what a run was making (a publish's Creating version, an import's task and version) when
 * the run ends without success, inside the transaction that ends it, so nothing is left half-made
 * whichever way it ended: a failed attempt with none left, a worker error, a stop, or a lease that
 * expired with no attempt left. The queue sits below the run-kind catalog, so every statement that
 * ends a run takes the hook from its caller: RUN_CATALOG's, as `settleEndedRun`.
 */
export type OnRunEnded = (trx: Transaction<Database>, run: EndedRun, ending: RunEnding) => Promise<void>;
