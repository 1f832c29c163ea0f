import type { RunKind, RunStateRef, RunStatus } from "@sailfin/contract";

/**
 * A `runs` row's state for an error message that names it (SailfinError `state`, STATE_WORD):
 * the dialect that renders the error writes its own word. An evaluation's `partly` comes from
 * its result, and so does a manual one's scoring phase.
 *
 * @example throw new SailfinError("Conflict", { field, detail: `task ${row.id} has already finished (${STATE_WORD})`, state: runStateOf(row) })
 */
export function runStateOf(row: { kind: string; status: string; cancel_requested?: number; result?: string | null }): RunStateRef {
  let partly = false;
  let manualPending = false;
  if (row.kind === "evaluate" && typeof row.result === "string") {
    try {
      const result = JSON.parse(row.result) as { partly?: unknown; manual?: { finished?: unknown } };
      partly = result.partly === true;
      manualPending = result.manual !== undefined && result.manual.finished === false;
    } catch {
      // An unreadable result names the plain state.
    }
  }
  return { kind: row.kind as RunKind, status: row.status as RunStatus, cancelRequested: (row.cancel_requested ?? 0) !== 0, partly, manualPending };
}
