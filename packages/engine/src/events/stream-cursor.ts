import { SailfinError } from "@sailfin/contract";

/**
 * Where a run's event stream stands: the last `events.num` sent, the last `run_metrics.num`
 * sent as a metric point, and the last `run_metrics.num` whose eval loss was sent. Each item of
 * the stream carries the cursor *after* it as its SSE id, so `Last-Event-ID` resumes exactly
 * after the last item the client got: every component only grows, and an item is sent when its
 * row is past its component, so nothing is sent twice and nothing is skipped.
 *
 * Why a third component: the worker writes an eval loss onto the metric row of its step
 * (`record-progress.ts`), often in a later batch than the row itself, so a cursor over row
 * numbers alone would never see it. Eval losses arrive in step order, hence in row order, so
 * "rows up to the metric cursor, past the eval cursor, with an eval loss" are exactly the evals
 * not sent yet.
 */
export interface StreamCursor {
  readonly events: number;
  readonly metrics: number;
  readonly evals: number;
}

const STREAM_START: StreamCursor = { events: 0, metrics: 0, evals: 0 };

/** `<events>-<metrics>-<evals>`, the SSE `id`. @example formatStreamCursor({ events: 4, metrics: 30, evals: 20 }) // "4-30-20" */
export function formatStreamCursor(cursor: StreamCursor): string {
  return `${cursor.events}-${cursor.metrics}-${cursor.evals}`;
}

/**
 * Parses a `Last-Event-ID`; empty or absent is the start. Anything else that is not an id this
 * server made is `InvalidParameter` naming `field`.
 *
 * @example parseStreamCursor("4-30-20", "lastEventId") // { events: 4, metrics: 30, evals: 20 }
 */
export function parseStreamCursor(text: string | undefined, field: string): StreamCursor {
  if (text === undefined || text.trim() === "") return STREAM_START;
  const match = /^(\d{1,15})-(\d{1,15})-(\d{1,15})$/.exec(text.trim());
  if (match === null) throw new SailfinError("InvalidParameter", { field, detail: "not an event id of this stream" });
  return { events: Number(match[1]), metrics: Number(match[2]), evals: Number(match[3]) };
}
