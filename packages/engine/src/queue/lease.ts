import type { Selectable } from "kysely";
import { RUN_KINDS, type RunKind } from "@sailfin/contract";
import type { RunTable } from "@sailfin/store";

/** The kinds of work the queue holds: every one is a row in `runs` (see docs/architecture.md). */
export { RUN_KINDS, type RunKind };

/**
 * What a worker holds after a claim. Every later write it makes names `token`: when the lease
 * expired and another worker claimed the run, the token no longer matches and the write is a
 * no-op the caller sees (false), so a worker that lost its lease can never overwrite the new
 * holder's state.
 */
export interface Lease {
  readonly runNum: number;
  readonly runId: string;
  readonly kind: RunKind;
  readonly owner: string;
  readonly token: string;
  /** 1 on the first claim. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly row: Selectable<RunTable>;
}

/** Object kind of run events (`events.object_kind`). */
export const RUN_OBJECT = "run";

/** `now + ms` in the stored time form. */
export function isoIn(ms: number, from = Date.now()): string {
  return new Date(from + ms).toISOString();
}
