import type { EngineResources } from "../resources.js";
import { detailsOf, findJob, findRun } from "./find.js";
import type { FinetuneRunDetail } from "./records.js";
import type { FinetuneRef } from "./refs.js";

export interface FinetuneRunScope {
  /** V1 names a run by its job too; the run must belong to it. */
  readonly job: FinetuneRef;
  readonly jobField: string;
}

/**
 * One fine-tuning run with its job and checkpoints. NotFound names `field` (or the scope's job
 * field when the job does not exist).
 */
export async function describeRun(res: EngineResources, ref: FinetuneRef, field: string, scope?: FinetuneRunScope): Promise<FinetuneRunDetail> {
  const scopeJob = scope === undefined ? undefined : await findJob(res.db, scope.job, scope.jobField);
  const run = await findRun(res.db, ref, field, scopeJob?.num);
  const job = scopeJob ?? (await findJob(res.db, { num: run.jobNum }, field));
  const [detail] = await detailsOf(res.db, job, [run]);
  return detail!;
}

/**
 * The run's ordinal within its job (V1 `version`): 1 for the first run. Counted among the
 * job's existing runs, so deleting an earlier run renumbers the later ones.
 */
export async function runOrdinal(res: EngineResources, detail: FinetuneRunDetail): Promise<number> {
  const row = await res.db.selectFrom("runs").select((eb) => eb.fn.countAll<number>().as("n"))
    .where("job_num", "=", detail.job.num).where("kind", "=", "finetune").where("num", "<=", detail.run.num)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
