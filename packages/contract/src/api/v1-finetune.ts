import type { V1RunStatus } from "../states.js";
import type { RunResourceConfig } from "./finetuning.js";

/**
 * V1 fine-tuning results (`POST /wenxinworkshop/finetune/*`, reference §6.1). V1 says *task*
 * for the container and *job* for one run; its request bodies live in ../finetune.ts beside
 * their V2 twins.
 */

/** `createTask`. */
export interface V1FinetuneTaskCreated {
  readonly id: number;
  readonly uuid: string;
  readonly name: string;
  readonly description: string;
  readonly createTime: string;
}

/** `createJob`. */
export interface V1FinetuneJobCreated {
  readonly id: number;
  readonly uuid: string;
}

/**
 * `jobDetail`, fields exactly as the seed page (with `finishTime`, not the page's misspelt
 * `finishtime`), plus Sailfin's `failReason`/`failKind` on a failed run.
 */
export interface V1FinetuneJobDetail {
  readonly id: number;
  readonly description: string;
  readonly taskId: number;
  readonly taskName: string;
  /** The run's ordinal within its task. */
  readonly version: number;
  /** 1 for incremental training (then `increConfig` names the run it starts from). */
  readonly jobRunType: 0 | 1;
  readonly increConfig?: { readonly taskId: number; readonly jobId: number };
  readonly trainType: string;
  readonly trainMode: string;
  readonly peftType: string;
  readonly trainStatus: V1RunStatus;
  readonly startTime: string;
  readonly finishTime: string;
  readonly runTime: number;
  readonly trainTime: number;
  readonly progress: number;
  readonly vdlLink: string;
  readonly failReason?: string;
  /** `user` (bad input) or `system`. */
  readonly failKind?: string | null;
  /** Sailfin extension, only while queued: why no worker will start it (docs/api.md). */
  readonly waitingReason?: string;
  /** Sailfin extension: where the job runs (V2's task `resourceConfig`). */
  readonly resourceConfig: RunResourceConfig;
}
