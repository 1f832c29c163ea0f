import type { Selectable } from "kysely";
import type { FinetuneJobTable, RunCheckpointTable, RunTable } from "@sailfin/store";
import type { HyperParameterValue, RunStatus, SupportedParameterScale, TrainMode } from "@sailfin/contract";
import type { ResolvedBaseModelConfig } from "../models/index.js";

/**
 * Internal vocabulary: a *job* is the container (V2 job, V1 task); a *run* is one execution
 * (V2 task, V1 job). Routes translate at the edge.
 */
export interface FinetuneJobRecord {
  readonly num: number;
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Base model name (a model set name). */
  readonly model: string;
  readonly trainMode: string;
  readonly parameterScale: string | null;
  readonly baseTrainType: string;
  readonly createdAt: string;
}

/**
 * The frozen configuration of a run, written once at creation: everything the worker needs to
 * reproduce it, even if the job, the base model set or the datasets change later.
 */
export interface FinetuneRunSpec {
  readonly specVersion: 1;
  readonly kind: "finetune";
  readonly jobId: string;
  readonly trainMode: TrainMode;
  readonly parameterScale: SupportedParameterScale;
  readonly baseModel: {
    readonly name: string;
    readonly setId: string;
    readonly versionId: string;
    readonly versionNum: number;
    readonly config: ResolvedBaseModelConfig;
  };
  readonly dataset: {
    readonly sourceType: "Platform";
    /** Percent of the data held out for evaluation. */
    readonly splitRatio: number;
    readonly versions: ReadonlyArray<{
      readonly versionId: string;
      readonly versionNum: number;
      readonly groupId: string;
      readonly dataFormat: string;
      readonly contentHash: string;
      readonly samplingRate: number;
      /** `validation`: a separate evaluation set (OpenAI's `validation_file`), never trained on. Absent: training data. */
      readonly role?: "validation";
    }>;
  };
  readonly hyperParameters: Readonly<Record<string, HyperParameterValue>>;
  /** Incremental training: the finished run and checkpoint it starts from. */
  readonly increment: {
    readonly runId: string;
    readonly runNum: number;
    readonly jobId: string;
    readonly jobNum: number;
    readonly step: number;
    readonly checkpointPath: string;
    readonly parameterScale: string;
  } | null;
  /**
   * Publish the final checkpoint as a model version of the set `setName` (made when missing) when
   * the run succeeds, in the transaction that finishes it (`publishFinalCheckpoint`); the publish
   * run queues on pool `poolId`. Optional: specs written before it (and V1/V2 tasks) have none.
   */
  readonly autoPublish?: { readonly setName: string; readonly poolId: string };
}

export interface RunCheckpointRecord {
  readonly step: number;
  readonly path: string;
  readonly trainLoss: number | null;
  readonly evalLoss: number | null;
  readonly createdAt: string;
}

export interface FinetuneRunRecord {
  readonly num: number;
  readonly id: string;
  readonly jobNum: number;
  readonly description: string;
  readonly status: RunStatus;
  readonly trainMode: string;
  readonly parameterScale: string;
  readonly spec: FinetuneRunSpec;
  /** 0–100. */
  readonly progress: number;
  readonly cancelRequested: boolean;
  readonly failureReason: string | null;
  /** `user` (bad input, not retried) or `system` (crash, retried up to the limit). */
  readonly failureKind: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Where it runs: pool, nodes, ranks a node, and the executor's job id once it has one. */
  readonly placement: RunPlacement;
}

/** A run with what its description shows: the job and the checkpoints. */
export interface FinetuneRunDetail {
  readonly run: FinetuneRunRecord;
  readonly job: FinetuneJobRecord;
  readonly checkpoints: RunCheckpointRecord[];
  /** The OpenAI-dialect job this run is (`ftjob-…`), or null for a V1/V2 task; see find.ts. */
  readonly openAiJob: { readonly id: string; readonly fineTunedModel: string | null } | null;
}

export function toJobRecord(row: Selectable<FinetuneJobTable>): FinetuneJobRecord {
  return {
    num: row.num, id: row.id, name: row.name, description: row.description, model: row.model,
    trainMode: row.train_mode, parameterScale: row.parameter_scale, baseTrainType: row.base_train_type,
    createdAt: row.created_at,
  };
}

/** A run's placement as its row records it (migration 0008). */
interface RunPlacement {
  readonly poolId: string;
  readonly nodes: number;
  readonly processesPerNode: number;
  /** The Slurm job id (or another executor's); null before a job started, and always for the local executor. */
  readonly executorJobId: string | null;
}

function toRunPlacement(row: Pick<Selectable<RunTable>, "pool_id" | "node_num" | "processes_per_node" | "executor_job_id">): RunPlacement {
  return { poolId: row.pool_id, nodes: Number(row.node_num), processesPerNode: Number(row.processes_per_node), executorJobId: row.executor_job_id };
}

export function toRunRecord(row: Selectable<RunTable>): FinetuneRunRecord {
  return {
    num: row.num, id: row.id, jobNum: row.job_num, description: row.description,
    status: row.status as RunStatus, trainMode: row.train_mode, parameterScale: row.parameter_scale,
    spec: JSON.parse(row.spec) as FinetuneRunSpec, progress: Number(row.progress), cancelRequested: row.cancel_requested !== 0,
    failureReason: row.failure_reason, failureKind: row.failure_kind, createdAt: row.created_at, startedAt: row.started_at, finishedAt: row.finished_at,
    placement: toRunPlacement(row),
  };
}

export function toCheckpointRecord(row: Selectable<RunCheckpointTable>): RunCheckpointRecord {
  return {
    step: row.step, path: row.path,
    trainLoss: row.train_loss === null ? null : Number(row.train_loss),
    evalLoss: row.eval_loss === null ? null : Number(row.eval_loss),
    createdAt: row.created_at,
  };
}
