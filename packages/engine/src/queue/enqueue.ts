import { nowIso } from "@sailfin/contract";
import { appendEvent, type Db } from "@sailfin/store";
import type { Actor } from "../resources.js";
import { defaultPlacement, LOCAL_POOLS, type Placement } from "../pools/index.js";
import { RUN_OBJECT, type RunKind } from "./lease.js";

/** A run to queue. What a kind does not use is left out and takes the default named. */
interface EnqueueRunInput {
  readonly id: string;
  readonly kind: RunKind;
  /** The fine-tuning job it belongs to (fine-tuning and publish runs); 0, which no job has (numbers start at 1), by default. */
  readonly jobNum?: number;
  /** User-given name (compression, evaluation, export); '' by default. */
  readonly name?: string;
  readonly description?: string;
  /** What the run trains (SFT, DPO, …) and at what scale (LoRA, FullFineTuning); '' for runs that train nothing. */
  readonly trainMode?: string;
  readonly parameterScale?: string;
  /** The model version the run reads: pinned against deletion while the run is active; 0 (none) by default. */
  readonly modelVersionNum?: number;
  /** The fully resolved, frozen configuration (stored as JSON). */
  readonly spec: unknown;
  /** `{versionId: contentHash}` of every dataset version the run uses; none by default. */
  readonly datasetHashes?: Readonly<Record<string, string>>;
  /** The run and checkpoint step an incremental fine-tuning run starts from. */
  readonly increment?: { readonly runNum: number; readonly step: number };
  /** The run whose outcome this one reads (an export's evaluation). */
  readonly readsRunNum?: number;
  /** The dataset version the run reads (a dataset export). */
  readonly datasetVersionNum?: number;
  readonly maxAttempts?: number;
  /** The service a `serve` run serves (runs.service_num); none by default. */
  readonly serviceNum?: number;
  /**
   * The pool, nodes and ranks a node it runs on: every engine caller passes one (placeTrainingRun,
   * or defaultPlacement of the configured pools); left out, the built-in `local` pool's (tests).
   */
  readonly placement?: Placement;
  /** Why, in the run's first event; `<kind> queued` by default. */
  readonly reason?: string;
}

/**
 * Queues a run of any kind, Queued with its first event (call inside the creating transaction).
 * The only INSERT into `runs`: a worker claims the row; see docs/architecture.md ("One queue").
 *
 * @example const num = await enqueueRun(trx, actor, { id: "amva-…", kind: "compress", name: "int8", modelVersionNum: 3, spec });
 */
export async function enqueueRun(trx: Db, actor: Actor, input: EnqueueRunInput): Promise<number> {
  const now = nowIso();
  const placement = input.placement ?? defaultPlacement(LOCAL_POOLS);
  const row = await trx.insertInto("runs").values({
    id: input.id, kind: input.kind, job_num: input.jobNum ?? 0, name: input.name ?? "", description: input.description ?? "",
    status: "Queued", train_mode: input.trainMode ?? "", parameter_scale: input.parameterScale ?? "",
    base_model_version_num: input.modelVersionNum ?? 0, spec: JSON.stringify(input.spec),
    dataset_hashes: JSON.stringify(input.datasetHashes ?? {}),
    increment_run_num: input.increment?.runNum ?? null, increment_step: input.increment?.step ?? null,
    reads_run_num: input.readsRunNum ?? null, dataset_version_num: input.datasetVersionNum ?? null,
    progress: 0, cancel_requested: 0, priority: 0, attempt: 0, max_attempts: input.maxAttempts ?? 3, available_at: now,
    lease_owner: null, lease_token: null, lease_expires_at: null, failure_kind: null, failure_reason: null,
    created_at: now, started_at: null, finished_at: null, result: null,
    pool_id: placement.poolId, node_num: placement.nodes, processes_per_node: placement.processesPerNode, executor_job_id: null,
    service_num: input.serviceNum ?? null,
  }).returning("num").executeTakeFirstOrThrow();
  await appendEvent(trx, {
    objectKind: RUN_OBJECT, objectId: input.id, actor: actor.accessKey, from: null, to: "Queued", reason: input.reason ?? `${input.kind} queued`,
  });
  return Number(row.num);
}
