import type { Selectable } from "kysely";
import { SailfinError, isIdOf, type ServiceRunStatus } from "@sailfin/contract";
import type { Db, ServiceTable } from "@sailfin/store";

/**
 * A service as routes and the call path see it: the `services` row in camelCase, the ids of its
 * model version and set, its current `serve` run, and `runStatus` derived once, here (reference
 * §14.3; docs/serving.md):
 * - desired Stopped, or the run Cancelled/Succeeded → Stopped;
 * - no run yet → New; run Queued, or Running without an endpoint of its current attempt → Deploying;
 * - Running with one → Serving; Failed → Failed.
 */
export interface ServiceRecord {
  readonly num: number;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly urlSuffix: string;
  readonly serviceType: string;
  readonly modelSetNum: number;
  readonly modelSetId: string;
  readonly modelVersionNum: number;
  readonly modelVersionId: string;
  /** The request's `resourceConfig` as given, with `resourceId` set to the pool it resolved to. */
  readonly resourceConfig: Readonly<Record<string, unknown>>;
  readonly poolId: string;
  readonly runNum: number | null;
  readonly runId: string | null;
  readonly desired: "Serving" | "Stopped";
  readonly creator: string;
  readonly createdAt: string;
  readonly modifiedAt: string;
  readonly runStatus: ServiceRunStatus;
  readonly failureReason: string | null;
  /** Started on demand: stopped after this many seconds without a chat call (0: never); null: an operator's service. */
  readonly idleStopS: number | null;
  /** The last chat call's time (written at most every few seconds); null: none yet. */
  readonly lastUsedAt: string | null;
}

type ServiceRow = Selectable<ServiceTable>;

/** The run fields runStatus reads. */
interface RunState {
  readonly id: string;
  readonly status: string;
  readonly attempt: number;
  readonly failure_reason: string | null;
}

/** runStatus from what the owner asked, the run's state and whether its current attempt has an endpoint. */
function deriveRunStatus(desired: string, run: RunState | undefined, serving: boolean): ServiceRunStatus {
  if (desired === "Stopped") return "Stopped";
  if (run === undefined) return "New";
  switch (run.status) {
    case "Queued": return "Deploying";
    case "Running": return serving ? "Serving" : "Deploying";
    case "Failed": return "Failed";
    default: return "Stopped";
  }
}

/**
 * Maps service rows to records in three reads (runs, endpoints, model ids), whatever their number.
 *
 * @example const [record] = await serviceRecords(res.db, [row]);
 */
export async function serviceRecords(db: Db, rows: readonly ServiceRow[]): Promise<ServiceRecord[]> {
  if (rows.length === 0) return [];
  const runNums = rows.flatMap((r) => (r.run_num === null ? [] : [Number(r.run_num)]));
  const runs = new Map((runNums.length === 0 ? [] : await db.selectFrom("runs").select(["num", "id", "status", "attempt", "failure_reason"])
    .where("num", "in", runNums).execute()).map((r) => [Number(r.num), r]));
  const endpoints = new Map((runNums.length === 0 ? [] : await db.selectFrom("service_endpoints").select(["run_num", "attempt"])
    .where("run_num", "in", runNums).execute()).map((e) => [Number(e.run_num), Number(e.attempt)]));
  const versions = new Map((await db.selectFrom("model_versions").select(["num", "id"])
    .where("num", "in", [...new Set(rows.map((r) => Number(r.model_version_num)))]).execute()).map((v) => [Number(v.num), v.id]));
  const sets = new Map((await db.selectFrom("model_sets").select(["num", "id"])
    .where("num", "in", [...new Set(rows.map((r) => Number(r.model_set_num)))]).execute()).map((s) => [Number(s.num), s.id]));
  return rows.map((row) => {
    const runNum = row.run_num === null ? null : Number(row.run_num);
    const run = runNum === null ? undefined : runs.get(runNum);
    const serving = run !== undefined && endpoints.get(runNum!) === Number(run.attempt);
    const runStatus = deriveRunStatus(row.desired, run, serving);
    return {
      num: Number(row.num), id: row.id, name: row.name, description: row.description, urlSuffix: row.url_suffix, serviceType: row.service_type,
      modelSetNum: Number(row.model_set_num), modelSetId: sets.get(Number(row.model_set_num)) ?? "",
      modelVersionNum: Number(row.model_version_num), modelVersionId: versions.get(Number(row.model_version_num)) ?? "",
      resourceConfig: JSON.parse(row.resource_config) as Record<string, unknown>, poolId: row.pool_id,
      runNum, runId: run?.id ?? null, desired: row.desired === "Stopped" ? "Stopped" : "Serving",
      creator: row.creator, createdAt: row.created_at, modifiedAt: row.modified_at,
      runStatus, failureReason: runStatus === "Failed" ? (run?.failure_reason ?? null) : null,
      idleStopS: row.idle_stop_s === null ? null : Number(row.idle_stop_s), lastUsedAt: row.last_used_at,
    };
  });
}

/**
 * The service row `ref` names (its `svco-…` id, or its number for V1), or NotFound naming `field`.
 *
 * @example const row = await findServiceRow(res.db, "svco-ab12cd34ef56", "serviceId");
 */
export async function findServiceRow(db: Db, ref: string | number, field: string): Promise<ServiceRow> {
  const num = typeof ref === "number" ? ref : /^\d{1,15}$/.test(ref) ? Number(ref) : null;
  let query = db.selectFrom("services").selectAll();
  if (num !== null) query = query.where("num", "=", num);
  else if (isIdOf("service", ref as string)) query = query.where("id", "=", ref as string);
  else throw new SailfinError("NotFound", { field, detail: `no service ${String(ref)}` });
  const row = await query.executeTakeFirst();
  if (row === undefined) throw new SailfinError("NotFound", { field, detail: `no service ${String(ref)}` });
  return row;
}

/** One service's record, or NotFound naming `field`. @example await describeService(res.db, "svco-…", "serviceId") */
export async function describeService(db: Db, ref: string | number, field: string): Promise<ServiceRecord> {
  return (await serviceRecords(db, [await findServiceRow(db, ref, field)]))[0]!;
}
