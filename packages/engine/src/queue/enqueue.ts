import { nowIso } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Db } from "../models/model-rows.js";
import type { Actor } from "../resources.js";
import { RUN_OBJECT, type RunKind } from "./lease.js";

export interface WorkRunInput {
  readonly id: string;
  readonly kind: Exclude<RunKind, "finetune" | "publish">;
  readonly name: string;
  readonly description: string;
  /** The model version the work reads: pinned against deletion while the run is active. */
  readonly modelVersionNum: number;
  readonly spec: unknown;
  /** The run this one reads (an export's evaluation), kept in `increment_run_num`. */
  readonly readsRunNum?: number;
  readonly maxAttempts?: number;
}

/**
 * Queues a compression, evaluation or export run (call inside the creating transaction). These
 * belong to no fine-tuning job: `job_num` is 0, which no job has (numbers start at 1), and the
 * fine-tuning columns hold the kind; see docs/architecture.md ("One queue").
 *
 * @example const num = await enqueueWork(trx, actor, { id: "amva-…", kind: "compress", name: "int8", description: "", modelVersionNum: 3, spec });
 */
export async function enqueueWork(trx: Db, actor: Actor, input: WorkRunInput): Promise<number> {
  const now = nowIso();
  const row = await trx.insertInto("runs").values({
    id: input.id, kind: input.kind, job_num: 0, name: input.name, description: input.description, status: "Queued",
    train_mode: input.kind, parameter_scale: "", base_model_version_num: input.modelVersionNum,
    spec: JSON.stringify(input.spec), dataset_hashes: "{}", increment_run_num: input.readsRunNum ?? null, increment_step: null,
    progress: 0, cancel_requested: 0, priority: 0, attempt: 0, max_attempts: input.maxAttempts ?? 3, available_at: now,
    lease_owner: null, lease_token: null, lease_expires_at: null, failure_kind: null, failure_reason: null,
    created_at: now, started_at: null, finished_at: null, result: null,
  }).returning("num").executeTakeFirstOrThrow();
  await appendEvent(trx, { objectKind: RUN_OBJECT, objectId: input.id, actor: actor.accessKey, from: null, to: "Queued", reason: `${input.kind} queued` });
  return Number(row.num);
}
