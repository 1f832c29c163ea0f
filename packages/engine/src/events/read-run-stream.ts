import { TERMINAL_RUN_STATUSES, type Action, type RunStatus } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { RUN_OBJECT, type RunKind } from "../queue/lease.js";
import { RUN_CATALOG } from "../runs/catalog.js";
import { formatStreamCursor, type StreamCursor } from "./stream-cursor.js";

/** A run whose events are streamed (any kind: every unit of work is a `runs` row). */
interface StreamRun {
  readonly num: number;
  readonly id: string;
  readonly kind: RunKind;
}

/** One item of the stream; `id` is the cursor after it (`formatStreamCursor`). */
type StreamItem =
  | { readonly type: "state"; readonly id: string; readonly data: { from: string | null; to: string; reason: string | null; at: string } }
  | {
    readonly type: "metric"; readonly id: string;
    readonly data: {
      step: number; epoch: number | null; loss: number | null; lr: number | null; gradNorm: number | null;
      tokensPerSecond: number | null; evalLoss: number | null; at: string;
    };
  }
  | { readonly type: "eval"; readonly id: string; readonly data: { step: number; evalLoss: number } };

interface RunStreamBatch {
  readonly items: StreamItem[];
  /** The cursor after the last item (the given one when there is none). */
  readonly cursor: StreamCursor;
  /** The run's status when read; `Deleted` once its row is gone. */
  readonly status: RunStatus | "Deleted";
  readonly progress: number | null;
  /** More rows are waiting: read again at once. */
  readonly more: boolean;
  /** The run is over and everything it recorded has been read: the stream can end. */
  readonly finished: boolean;
}

/** Rows per list per read: a reconnect to a long run catches up in pages this size. */
const STREAM_BATCH = 500;

/** The run `objectId` names (`task-…`, `amva-…`, `ame-…`, `amemt-…`, `publish-…`), or null. */
export async function findStreamRun(db: Db, objectId: string): Promise<StreamRun | null> {
  const row = await db.selectFrom("runs").select(["num", "id", "kind"]).where("id", "=", objectId).executeTakeFirst();
  return row === undefined ? null : { num: Number(row.num), id: row.id, kind: row.kind as RunKind };
}

/** The action a key needs to watch a run of `kind` (the catalog's readAction: the one its describe route needs). */
export function runReadAction(kind: RunKind): Action {
  return RUN_CATALOG[kind].readAction;
}

/** Every action that lets a key watch some kind of run (the stream's gate; the run's own kind then decides). */
export const RUN_WATCH_ACTIONS: readonly Action[] = [...new Set(Object.values(RUN_CATALOG).map((definition) => definition.readAction))];

/**
 * Everything a run recorded after `cursor`: its state changes (`events`) and, for training, its
 * metric points (`run_metrics`) and late eval losses, merged by time into one list whose ids
 * resume exactly (see stream-cursor.ts).
 *
 * The run's row is read first: when it is terminal there, every row written before the final
 * transition is visible to the reads that follow, so `finished` never cuts off a last point.
 * Per run, rows are numbered in commit order on both dialects: every writer of a run's events
 * and metrics updates the run's row first in the same transaction (claim, the fenced progress
 * write, finish, stop), and that row lock orders them on PostgreSQL.
 *
 * @example const batch = await readRunStream(db, run, parseStreamCursor(lastEventId, "lastEventId"));
 */
export async function readRunStream(db: Db, run: StreamRun, cursor: StreamCursor, limit = STREAM_BATCH): Promise<RunStreamBatch> {
  const head = await db.selectFrom("runs").select(["status", "progress"]).where("num", "=", run.num).executeTakeFirst();
  const events = await db.selectFrom("events").select(["num", "at", "from_state", "to_state", "reason"])
    .where("object_kind", "=", RUN_OBJECT).where("object_id", "=", run.id).where("num", ">", cursor.events)
    .orderBy("num", "asc").limit(limit + 1).execute();
  const metrics = await db.selectFrom("run_metrics").selectAll()
    .where("run_num", "=", run.num).where("num", ">", cursor.metrics)
    .orderBy("num", "asc").limit(limit + 1).execute();
  const lateEvals = cursor.metrics > cursor.evals
    ? await db.selectFrom("run_metrics").select(["num", "step", "eval_loss"])
      .where("run_num", "=", run.num).where("num", ">", cursor.evals).where("num", "<=", cursor.metrics)
      .where("eval_loss", "is not", null)
      .orderBy("num", "asc").limit(limit + 1).execute()
    : [];

  let c = cursor;
  const items: StreamItem[] = [];
  for (const row of lateEvals.slice(0, limit)) {
    c = { ...c, evals: Number(row.num) };
    items.push({ type: "eval", id: formatStreamCursor(c), data: { step: Number(row.step), evalLoss: Number(row.eval_loss) } });
  }
  // Late evals come first (their rows precede every new metric row): sending a new metric
  // point that carries an eval loss moves the eval cursor past them. When they did not all fit,
  // the rest go out before anything else.
  const evalsCut = lateEvals.length > limit;
  let eventRows = evalsCut ? [] : events.slice(0, limit);
  let metricRows = evalsCut ? [] : metrics.slice(0, limit);
  // When one list was cut short, the other must not run ahead of it in time.
  const cuts = [
    events.length > limit ? eventRows.at(-1)?.at : undefined,
    metrics.length > limit ? metricRows.at(-1)?.at : undefined,
  ].filter((at): at is string => at !== undefined).sort();
  const cut = cuts[0];
  if (cut !== undefined) {
    const eventsBefore = takeWhile(eventRows, (row) => row.at <= cut);
    const metricsBefore = takeWhile(metricRows, (row) => row.at <= cut);
    // Clocks of two writers (server, worker) can disagree: never leave a read with nothing.
    if (eventsBefore.length + metricsBefore.length > 0) {
      eventRows = eventsBefore;
      metricRows = metricsBefore;
    }
  }

  let i = 0;
  let j = 0;
  while (i < eventRows.length || j < metricRows.length) {
    const event = eventRows[i];
    const metric = metricRows[j];
    // A merge, never a sort: each list stays in row order, so each cursor component only grows.
    if (metric !== undefined && (event === undefined || metric.at <= event.at)) {
      j++;
      const evalLoss = num(metric.eval_loss);
      c = { ...c, metrics: Number(metric.num), ...(evalLoss === null ? {} : { evals: Number(metric.num) }) };
      items.push({
        type: "metric", id: formatStreamCursor(c),
        data: {
          step: Number(metric.step), epoch: num(metric.epoch), loss: num(metric.loss), lr: num(metric.lr),
          gradNorm: num(metric.grad_norm), tokensPerSecond: num(metric.tokens_per_s), evalLoss, at: metric.at,
        },
      });
    } else if (event !== undefined) {
      i++;
      c = { ...c, events: Number(event.num) };
      items.push({ type: "state", id: formatStreamCursor(c), data: { from: event.from_state, to: event.to_state, reason: event.reason, at: event.at } });
    }
  }

  const more = evalsCut || events.length > limit || metrics.length > limit;
  const status = head === undefined ? "Deleted" : head.status as RunStatus;
  const over = status === "Deleted" || TERMINAL_RUN_STATUSES.includes(status);
  return { items, cursor: c, status, progress: head === undefined ? null : Number(head.progress), more, finished: over && !more };
}

function num(value: number | null): number | null {
  return value === null ? null : Number(value);
}

function takeWhile<T>(rows: T[], keep: (row: T) => boolean): T[] {
  const end = rows.findIndex((row) => !keep(row));
  return end === -1 ? rows : rows.slice(0, end);
}
