import type { Kysely } from "kysely";
import type { Database } from "@sailfin/store";
import type { Lease } from "./lease.js";

/**
 * Records the executor's id of the run's current job (a Slurm job id), fenced by the lease: the
 * describe routes show it, and the next worker finds the job by it after this one dies. False
 * when the lease was lost.
 *
 * @example await recordExecutorJob(db, lease, "4711");
 */
export async function recordExecutorJob(db: Kysely<Database>, lease: Lease, jobId: string): Promise<boolean> {
  const result = await db.updateTable("runs").set({ executor_job_id: jobId })
    .where("num", "=", lease.runNum).where("lease_token", "=", lease.token).where("status", "=", "Running")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
