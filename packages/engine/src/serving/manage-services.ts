import { SailfinError, nowIso, type Page, type PageRequest, type ServiceRunStatus } from "@sailfin/contract";
import { keysetPage } from "@sailfin/store";
import { findSet, findVersion, lockModelVersions } from "../models/model-rows.js";
import { requestStop } from "../queue/request-stop.js";
import type { Actor, EngineResources } from "../resources.js";
import { servePlacement } from "./create-service.js";
import { findServiceRow, serviceRecords, type ServiceRecord } from "./records.js";
import { queueServeRun } from "./serve-spec.js";

/**
 * The lifecycle of a service after creation: list, stop, start, modify (redeploy another
 * version), delete. Each is the services row plus its `serve` run: a stop cancels the run (its
 * worker kills the engine, the slot frees), a start or a modify queues a new one.
 */

interface ListServicesFilter {
  /** Substring of the name. */
  readonly name?: string | undefined;
  readonly runStatus?: readonly string[] | undefined;
  readonly serviceType?: readonly string[] | undefined;
}

/**
 * A keyset page of services, newest first. `runStatus` is derived (records.ts), so it filters the
 * page after it is read: such a page may hold fewer than `maxKeys` items, its `nextMarker` still
 * right.
 *
 * @example const page = await listServices(res, { maxKeys: 10, pageReverse: false }, { name: "chat" });
 */
export async function listServices(res: EngineResources, request: PageRequest, filter: ListServicesFilter = {}): Promise<Page<ServiceRecord>> {
  let query = res.db.selectFrom("services").selectAll();
  if (filter.name !== undefined && filter.name !== "") {
    const pattern = `%${filter.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb("name", "like", eb.val(pattern)));
  }
  if (filter.serviceType !== undefined && filter.serviceType.length > 0) query = query.where("service_type", "in", [...filter.serviceType]);
  const page = await keysetPage(query, request, "services");
  const records = await serviceRecords(res.db, page.items);
  const wanted = filter.runStatus;
  return {
    items: wanted === undefined || wanted.length === 0 ? records : records.filter((r) => wanted.includes(r.runStatus as ServiceRunStatus)),
    pageInfo: page.pageInfo,
  };
}

/** Whether a run status holds a slot (its engine runs, or will). */
const active = (status: string | undefined) => status === "Queued" || status === "Running";

async function runOf(res: EngineResources, runNum: number | null) {
  if (runNum === null) return undefined;
  return res.db.selectFrom("runs").select(["num", "id", "kind", "status", "cancel_requested", "result"]).where("num", "=", runNum).executeTakeFirst();
}

/**
 * Stops a service: desired Stopped, and its run cancelled (Queued: at once; Running: its worker
 * kills the engine and records Cancelled, which frees the slot). Idempotent.
 *
 * @example await stopService(res, actor, "svco-…", "serviceId");
 */
export async function stopService(res: EngineResources, actor: Actor, ref: string | number, field: string): Promise<void> {
  const row = await findServiceRow(res.db, ref, field);
  await res.db.updateTable("services").set({ desired: "Stopped", modified_at: nowIso() }).where("num", "=", row.num).execute();
  const run = await runOf(res, row.run_num === null ? null : Number(row.run_num));
  if (run !== undefined && active(run.status)) {
    await requestStop(res.db, actor, async () => (await runOf(res, run.num)) ?? { ...run, status: "Cancelled" }, field, "service");
  }
}

/**
 * Starts a stopped (or Failed) service again: desired Serving and a new `serve` run, unless its
 * run is still active and not being stopped. The version must still be Ready.
 *
 * @example await startService(res, actor, "svco-…", "serviceId");
 */
export async function startService(res: EngineResources, actor: Actor, ref: string | number, field: string): Promise<void> {
  const row = await findServiceRow(res.db, ref, field);
  const run = await runOf(res, row.run_num === null ? null : Number(row.run_num));
  if (run !== undefined && active(run.status) && run.cancel_requested === 0) {
    await res.db.updateTable("services").set({ desired: "Serving", modified_at: nowIso() }).where("num", "=", row.num).execute();
    return;
  }
  await redeploy(res, actor, row.num, Number(row.model_version_num), field, "start");
}

/**
 * Redeploys a service with another version (ModifyService): the old run is stopped and a new
 * `serve` run queued; the service reads Deploying until the new engine answers.
 *
 * @example await modifyService(res, actor, { serviceId: "svco-…", modelId: "amv-…" });
 */
export async function modifyService(
  res: EngineResources, actor: Actor, input: { readonly serviceId: string; readonly modelId: string; readonly modelSetId?: string | undefined },
): Promise<void> {
  const row = await findServiceRow(res.db, input.serviceId, "serviceId");
  const version = await findVersion(res.db, input.modelId, "modelId");
  if (input.modelSetId !== undefined) {
    const set = await findSet(res.db, input.modelSetId, "modelSetId");
    if (set.num !== Number(version.set_num)) {
      throw new SailfinError("InvalidParameter", { field: "modelSetId", detail: `model version ${version.id} is not a version of ${set.id}` });
    }
  }
  const old = await runOf(res, row.run_num === null ? null : Number(row.run_num));
  await redeploy(res, actor, row.num, version.num, "modelId", `modify to ${version.id}`);
  if (old !== undefined && active(old.status)) {
    await requestStop(res.db, actor, async () => (await runOf(res, old.num)) ?? { ...old, status: "Cancelled" }, "serviceId", "service");
  }
}

/** Points the service at `versionNum` and queues its new run, desired Serving (the version re-checked Ready under a share lock). */
async function redeploy(res: EngineResources, actor: Actor, serviceNum: number, versionNum: number, field: string, why: string): Promise<void> {
  await res.db.transaction().execute(async (trx) => {
    const [locked] = await lockModelVersions(trx, res.dialect, [versionNum], "share");
    if (locked === undefined || locked.status !== "Ready") {
      throw new SailfinError("InvalidParameter", { field, detail: `model version ${locked?.id ?? versionNum} is ${locked?.status ?? "deleted"}; only a Ready version can be deployed` });
    }
    const service = await trx.selectFrom("services").select(["num", "id", "url_suffix", "pool_id"]).where("num", "=", serviceNum).executeTakeFirst();
    if (service === undefined) throw new SailfinError("NotFound", { field: "serviceId", detail: "the service was deleted meanwhile" });
    await trx.updateTable("services").set({
      desired: "Serving", model_version_num: locked.num, model_set_num: Number(locked.set_num), modified_at: nowIso(),
    }).where("num", "=", serviceNum).execute();
    await queueServeRun(trx, actor, { num: serviceNum, id: service.id, urlSuffix: service.url_suffix }, locked, servePlacement(res, service.pool_id), why);
  });
}

/**
 * Deletes a service. Only a stopped one (its run no longer active): a serving or deploying
 * service must be stopped first (Conflict), so a delete never races its worker's endpoint
 * writes. Its runs stay (their history), its endpoint rows go.
 *
 * @example await stopService(res, actor, id, "serviceId"); … await deleteService(res, actor, id, "serviceId");
 */
export async function deleteService(res: EngineResources, _actor: Actor, ref: string | number, field: string): Promise<void> {
  const row = await findServiceRow(res.db, ref, field);
  await res.db.transaction().execute(async (trx) => {
    const running = await trx.selectFrom("runs").select(["id", "status"])
      .where("service_num", "=", row.num).where("kind", "=", "serve").where("status", "in", ["Queued", "Running"]).executeTakeFirst();
    if (running !== undefined) {
      throw new SailfinError("Conflict", { field, detail: `service ${row.id} is still ${running.status === "Queued" ? "deploying" : "running"} (task ${running.id}); stop it first (StopService) and wait until it reads Stopped` });
    }
    const runNums = (await trx.selectFrom("runs").select("num").where("service_num", "=", row.num).execute()).map((r) => Number(r.num));
    if (runNums.length > 0) await trx.deleteFrom("service_endpoints").where("run_num", "in", runNums).execute();
    await trx.deleteFrom("services").where("num", "=", row.num).execute();
  });
}

/**
 * The services deploying each of these versions (any state), for the model describe routes and
 * the version delete guard.
 *
 * @example const byVersion = await servicesOfVersions(res.db, [3, 4]); byVersion.get(3) // [{ id: "svco-…", … }]
 */
export async function servicesOfVersions(res: Pick<EngineResources, "db">, versionNums: readonly number[]): Promise<Map<number, ServiceRecord[]>> {
  const out = new Map<number, ServiceRecord[]>();
  if (versionNums.length === 0) return out;
  const rows = await res.db.selectFrom("services").selectAll().where("model_version_num", "in", [...versionNums]).orderBy("num", "asc").execute();
  for (const record of await serviceRecords(res.db, rows)) out.set(record.modelVersionNum, [...(out.get(record.modelVersionNum) ?? []), record]);
  return out;
}
