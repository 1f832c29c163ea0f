import type { Transaction } from "kysely";
import { SailfinError } from "@sailfin/contract";
import type { Database, Dialect } from "@sailfin/store";
import { lockDatasetVersions } from "../datasets/index.js";
import { lockModelVersions, type ResolvedBaseModel } from "../models/index.js";
import { lockRows, type RowLockMode } from "../row-lock.js";
import type { FinetuneRunSpec } from "./records.js";

/**
 * The locks creating a run takes inside its transaction, against the deletes of what it
 * depends on (see ../row-lock.ts).
 */

/**
 * Locks a job row for the rest of the transaction, so creating a run and deleting its job
 * serialize (PostgreSQL `FOR UPDATE`; SQLite transactions already run one at a time).
 * Returns false when the job no longer exists.
 */
export async function lockJob(trx: Transaction<Database>, dialect: Dialect, jobNum: number): Promise<boolean> {
  return (await lockRows(trx.selectFrom("finetune_jobs").select("num").where("num", "=", jobNum), dialect, "update").executeTakeFirst()) !== undefined;
}

/**
 * Locks fine-tuning runs for the rest of the transaction and returns those that still exist:
 * `update` before deleting them, `share` before adding a dependant (an incremental run, a
 * published version), so the delete's dependant checks and the insert serialize on the row.
 */
export async function lockRuns(
  trx: Transaction<Database>, dialect: Dialect, nums: readonly number[], mode: RowLockMode,
): Promise<Array<{ num: number; id: string; status: string }>> {
  if (nums.length === 0) return [];
  return lockRows(trx.selectFrom("runs").select(["num", "id", "status"]).where("num", "in", [...nums]).orderBy("num", "asc"), dialect, mode).execute();
}

/** What a new run depends on, as checked before its transaction. */
interface RunInputs {
  readonly base: ResolvedBaseModel;
  readonly versions: FinetuneRunSpec["dataset"]["versions"];
  /** Request field of each dataset version, in the same order (for errors). */
  readonly fields: readonly string[];
  readonly jobField: string;
  readonly model: string;
  /** The finished run an incremental run continues, and the request field that named it. */
  readonly increment?: { readonly runNum: number; readonly field: string };
}

/**
 * Inside the inserting transaction: the base model version and every dataset version are read
 * again, locked against deletion until commit (`share`: the model, dataset and run deletes lock
 * `update` before they look for dependent runs), and so is the run an incremental run continues. A delete that committed after the checks is
 * seen here and refuses the run (InvalidParameter / NotFound naming the field); a delete that
 * comes later waits for this transaction and then finds the run (Conflict).
 */
export async function assertInputsRemain(trx: Transaction<Database>, dialect: Dialect, inputs: RunInputs): Promise<void> {
  const { base } = inputs;
  const [baseRow] = await lockModelVersions(trx, dialect, [base.versionNum], "share");
  if (baseRow === undefined || baseRow.status !== "Ready") {
    throw new SailfinError("InvalidParameter", {
      field: inputs.jobField, detail: `the job's base model ${inputs.model} (version ${base.versionId}) was deleted meanwhile; try again`,
    });
  }
  if (inputs.increment !== undefined) {
    const [baseRun] = await lockRuns(trx, dialect, [inputs.increment.runNum], "share");
    if (baseRun === undefined || baseRun.status !== "Succeeded") {
      throw new SailfinError("InvalidParameter", { field: inputs.increment.field, detail: "the task to continue from was deleted meanwhile" });
    }
  }
  const rows = await lockDatasetVersions(trx, dialect, inputs.versions.map((v) => v.versionNum), "share");
  inputs.versions.forEach((version, i) => {
    const field = inputs.fields[i]!;
    const row = rows.find((r) => r.num === version.versionNum);
    if (row === undefined) throw new SailfinError("NotFound", { field, detail: `dataset version ${version.versionId} does not exist` });
    // Released data never changes; a different hash would mean the row is not the one checked.
    if (row.content_hash !== version.contentHash) {
      throw new SailfinError("InvalidParameter", { field, detail: `dataset version ${version.versionId} changed meanwhile; try again` });
    }
  });
}
