import { SailfinError } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { assertRunsDeletable, removeCheckpointFiles } from "./delete-guards.js";
import { findRun } from "./find.js";
import { lockRuns } from "./lock.js";
import type { FinetuneRef } from "./refs.js";

/**
 * Deletes a finished fine-tuning run and its checkpoints. Refused with Conflict while it is
 * waiting or running, when a model version was published from it, or when an active incremental
 * run starts from it.
 */
export async function deleteRun(res: EngineResources, actor: Actor, ref: FinetuneRef, field: string): Promise<void> {
  const run = await findRun(res.db, ref, field);
  const paths = await res.db.transaction().execute(async (trx) => {
    // Locked first, so a concurrent incremental run or publish from it (which lock it `share`) is
    // either seen by the checks below or sees the run gone.
    const [locked] = await lockRuns(trx, res.dialect, [run.num], "update");
    if (locked === undefined) throw new SailfinError("NotFound", { field, detail: `no fine-tuning task ${run.id}` });
    await assertRunsDeletable(trx, [locked]);
    const checkpointPaths = (await trx.selectFrom("run_checkpoints").select("path").where("run_num", "=", run.num).execute()).map((r) => r.path);
    // Guarded by status: a terminal run never changes again, so this only misses if it vanished.
    const result = await trx.deleteFrom("runs").where("num", "=", run.num).where("status", "in", ["Succeeded", "Failed", "Cancelled"]).executeTakeFirst();
    if (Number(result.numDeletedRows) !== 1) throw new SailfinError("Conflict", { field, detail: `task ${run.id} changed state; try again` });
    await trx.deleteFrom("run_checkpoints").where("run_num", "=", run.num).execute();
    await appendEvent(trx, { objectKind: "run", objectId: run.id, actor: actor.accessKey, from: run.status, to: "Deleted" });
    return checkpointPaths;
  });
  removeCheckpointFiles(res, paths);
}
