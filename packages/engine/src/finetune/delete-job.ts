import { SailfinError } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { assertRunsDeletable, removeCheckpointFiles } from "./delete-guards.js";
import { findJob } from "./find.js";
import { lockJob } from "./lock.js";
import { lockRows } from "../row-lock.js";
import type { FinetuneRef } from "./refs.js";

/**
 * Deletes a fine-tuning job and its finished runs (with their checkpoints). Refused with
 * Conflict while a run is waiting or running, or when a model version was published from one
 * of its runs.
 */
export async function deleteJob(res: EngineResources, actor: Actor, ref: FinetuneRef, field: string): Promise<void> {
  const job = await findJob(res.db, ref, field);
  const paths = await res.db.transaction().execute(async (trx) => {
    if (!(await lockJob(trx, res.dialect, job.num))) throw new SailfinError("NotFound", { field, detail: `fine-tuning job ${job.id} does not exist` });
    // Locked `update`, against an incremental run or a publish from one of them (see lockRuns).
    const runs = await lockRows(trx.selectFrom("runs").select(["num", "id", "status"]).where("job_num", "=", job.num).where("kind", "=", "finetune").orderBy("num", "asc"), res.dialect, "update").execute();
    await assertRunsDeletable(trx, runs);
    const nums = runs.map((run) => run.num);
    let checkpointPaths: string[] = [];
    if (nums.length > 0) {
      checkpointPaths = (await trx.selectFrom("run_checkpoints").select("path").where("run_num", "in", nums).execute()).map((r) => r.path);
      await trx.deleteFrom("run_checkpoints").where("run_num", "in", nums).execute();
      await trx.deleteFrom("runs").where("num", "in", nums).execute();
    }
    for (const run of runs) {
      await appendEvent(trx, { objectKind: "run", objectId: run.id, actor: actor.accessKey, from: run.status, to: "Deleted", reason: `job ${job.id} deleted` });
    }
    await trx.deleteFrom("finetune_jobs").where("num", "=", job.num).execute();
    await appendEvent(trx, { objectKind: "finetune_job", objectId: job.id, actor: actor.accessKey, from: "Created", to: "Deleted" });
    return checkpointPaths;
  });
  removeCheckpointFiles(res, paths);
}
