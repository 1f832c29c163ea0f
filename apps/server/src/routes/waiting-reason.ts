/**
 * A describe answer with Sailfin's `waitingReason` (docs/api.md) appended when there is one: why
 * a queued task has no worker to run it. Absent otherwise, so a running or finished task's
 * shape is exactly what the official SDKs know.
 *
 * @example return withWaitingReason(renderTask(detail), await waitingReason(ctx.res.db, row));
 */
export function withWaitingReason<T extends object>(out: T, reason: string | null): T {
  return reason === null ? out : { ...out, waitingReason: reason };
}
