/**
 * Closed status sets and their per-dialect renderings. Internal names are chosen once; the
 * V1/V2 words are produced only here.
 */

/** A fine-tuning run (V2 "task", V1 "job"). */
/**
 * `Paused`: a fine-tuning run a caller paused (OpenAI's pause, a V2 extension): it holds no worker
 * and no lease, and resuming queues it again to continue from its latest checkpoint.
 */
export const RUN_STATUSES = ["Queued", "Running", "Paused", "Succeeded", "Failed", "Cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["Succeeded", "Failed", "Cancelled"];

export function isTerminalRun(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/** V2 `runStatus`. */
/** `Paused` is Sailfin's (Qianfan has no pause). */
export type V2RunStatus = "Waiting" | "Running" | "Paused" | "Done" | "Failed" | "Stopped";

export function v2RunStatus(status: RunStatus): V2RunStatus {
  switch (status) {
    case "Queued": return "Waiting";
    case "Running": return "Running";
    case "Paused": return "Paused";
    case "Succeeded": return "Done";
    case "Failed": return "Failed";
    case "Cancelled": return "Stopped";
    default: return assertNever(status);
  }
}

/**
 * V1 `trainStatus`. V1 has no queued state: a queued run reads `RUNNING` with progress 0, which
 * is what a V1 client polling for FINISH/FAIL/STOP needs to keep waiting.
 */
export type V1RunStatus = "RUNNING" | "FINISH" | "STOP" | "FAIL";

export function v1RunStatus(status: RunStatus): V1RunStatus {
  switch (status) {
    case "Queued":
    case "Paused":
    case "Running": return "RUNNING";
    case "Succeeded": return "FINISH";
    case "Failed": return "FAIL";
    case "Cancelled": return "STOP";
    default: return assertNever(status);
  }
}

/** Model version state (same words in V1 `state` and V2 `status`). */
export const MODEL_VERSION_STATUSES = ["Creating", "Ready", "Fail"] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

/**
 * A dataset version's state: one lifecycle, in the words its events use (the stored state is
 * always the next event's `from`). Released implies imported: a released version never imports
 * again. The dialects split it into an import and a release (publish) status.
 */
export const DATASET_VERSION_STATES = ["Created", "Importing", "Imported", "ImportFailed", "Released"] as const;
export type DatasetVersionState = (typeof DATASET_VERSION_STATES)[number];

/** V1 `importStatus` (reference §6.3): -1 not started, 1 running, 2 finished, 3 failed. */
export type V1DatasetImportStatus = -1 | 1 | 2 | 3;

export function v1DatasetImportStatus(state: DatasetVersionState): V1DatasetImportStatus {
  switch (state) {
    case "Created": return -1;
    case "Importing": return 1;
    case "Imported":
    case "Released": return 2;
    case "ImportFailed": return 3;
    default: return assertNever(state);
  }
}

/** V1 `releaseStatus`: 0 not started, 2 finished (a release is done in the call that asks for it). */
export type V1DatasetReleaseStatus = 0 | 2;

export function v1DatasetReleaseStatus(state: DatasetVersionState): V1DatasetReleaseStatus {
  return state === "Released" ? 2 : 0;
}

/** V2 `importStatus` of a version (Qianfan's words; Sailfin never terminates an import). */
export type DatasetImportStatus = "NotStarted" | "Running" | "Finished" | "Failed" | "Terminated";

export function v2DatasetImportStatus(state: DatasetVersionState): DatasetImportStatus {
  switch (state) {
    case "Created": return "NotStarted";
    case "Importing": return "Running";
    case "Imported":
    case "Released": return "Finished";
    case "ImportFailed": return "Failed";
    default: return assertNever(state);
  }
}

/** V2 `publishStatus` (Qianfan's words; a release never stays in progress or fails). */
export type DatasetPublishStatus = "Unpublished" | "Publishing" | "Published" | "PublishFailed";

export function v2DatasetPublishStatus(state: DatasetVersionState): DatasetPublishStatus {
  return state === "Released" ? "Published" : "Unpublished";
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}

/**
 * Compression, evaluation and export are runs too (one queue); their dialect words come from
 * the run status plus two facts: a stop was requested while it runs (`stopping`), and an
 * evaluation finished with some samples failed (`partly`).
 */
export interface WorkState {
  readonly status: RunStatus;
  readonly cancelRequested: boolean;
}

/** Compression task `status` (V2 only, reference §9). */
export type CompTaskStatus = "creating" | "running" | "succeeded" | "failed" | "stopping" | "stopped";

export function compTaskStatus(state: WorkState): CompTaskStatus {
  switch (state.status) {
    case "Queued":
    case "Paused": return "creating";
    case "Running": return state.cancelRequested ? "stopping" : "running";
    case "Succeeded": return "succeeded";
    case "Failed": return "failed";
    case "Cancelled": return "stopped";
    default: return assertNever(state.status);
  }
}

/**
 * V1 evaluation `state`. A manual evaluation whose answers are written (its run Succeeded) waits
 * for people's scores in `DoingWithManualBegin` (`manualPending`), then is Done.
 */
export type V1EvalState = "Pending" | "Doing" | "DoingWithManualBegin" | "Done" | "PartlyDone" | "Fail" | "Stopping" | "Stopped";

export function v1EvalState(state: WorkState, partly: boolean, manualPending = false): V1EvalState {
  switch (state.status) {
    case "Queued":
    case "Paused": return "Pending";
    case "Running": return state.cancelRequested ? "Stopping" : "Doing";
    case "Succeeded": return manualPending ? "DoingWithManualBegin" : partly ? "PartlyDone" : "Done";
    case "Failed": return "Fail";
    case "Cancelled": return "Stopped";
    default: return assertNever(state.status);
  }
}

/** V2 evaluation `state` (`Successed` is Qianfan's spelling). V2 has no partial word: the report says which samples failed. */
export type V2EvalState = "Queued" | "Running" | "RunningWithManualBegin" | "Successed" | "Failed" | "Stopping" | "Stopped";

/** `manualPending`: answers written, people scoring (V1 `DoingWithManualBegin`). */
export function v2EvalState(state: WorkState, manualPending = false): V2EvalState {
  switch (state.status) {
    case "Queued":
    case "Paused": return "Queued";
    case "Running": return state.cancelRequested ? "Stopping" : "Running";
    case "Succeeded": return manualPending ? "RunningWithManualBegin" : "Successed";
    case "Failed": return "Failed";
    case "Cancelled": return "Stopped";
    default: return assertNever(state.status);
  }
}

/** Evaluation-result export `state` (both dialects). */
export type ExportState = "Pending" | "Uploading" | "Done" | "Fail";

export function exportState(status: RunStatus): ExportState {
  switch (status) {
    case "Queued":
    case "Paused": return "Pending";
    case "Running": return "Uploading";
    case "Succeeded": return "Done";
    case "Failed":
    case "Cancelled": return "Fail";
    default: return assertNever(status);
  }
}

/** V1 dataset export `status`/`exportStatus` (the SDK's DataExportStatus: 0 init, 1 running, 2 finished, 3 failed). */
export function v1DatasetExportStatus(status: RunStatus): 0 | 1 | 2 | 3 {
  switch (status) {
    case "Queued":
    case "Paused": return 0;
    case "Running": return 1;
    case "Succeeded": return 2;
    case "Failed":
    case "Cancelled": return 3;
    default: return assertNever(status);
  }
}

/** V2 DescribeExportTask `exportStatus`. */
export type V2DatasetExportStatus = "Exporting" | "ExportFinished" | "ExportFailed";

export function v2DatasetExportStatus(status: RunStatus): V2DatasetExportStatus {
  return status === "Succeeded" ? "ExportFinished" : isTerminalRun(status) ? "ExportFailed" : "Exporting";
}

/** V2 DescribeModelExportTask `status`. */
export type ModelExportStatus = "Doing" | "Done" | "Fail";

export function modelExportStatus(status: RunStatus): ModelExportStatus {
  return status === "Succeeded" ? "Done" : isTerminalRun(status) ? "Fail" : "Doing";
}

/** Batch inference `runStatus` (V2 only, reference §16; `Expired` is never used: tasks do not expire). */
export type BatchInferenceStatus = "Queuing" | "Running" | "Done" | "Stopping" | "Stopped" | "Failed";

export function batchInferenceStatus(state: WorkState): BatchInferenceStatus {
  switch (state.status) {
    case "Queued":
    case "Paused": return "Queuing";
    case "Running": return state.cancelRequested ? "Stopping" : "Running";
    case "Succeeded": return "Done";
    case "Failed": return "Failed";
    case "Cancelled": return "Stopped";
    default: return assertNever(state.status);
  }
}
/** V2 service `runStatus` (reference §14.3). */
export const SERVICE_RUN_STATUSES = ["New", "Deploying", "Serving", "Failed", "Stopped"] as const;
export type ServiceRunStatus = (typeof SERVICE_RUN_STATUSES)[number];

/** What a `runs` row is (its `kind` column): each names its state in its own words. */
export const RUN_KINDS = [
  "finetune", "publish", "compress", "evaluate", "eval-export", "dataset-import", "model-import", "dataset-export", "model-export",
  "batch-inference",
  "serve",
] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A run's state as an error message names it: the dialect renders the word (runStateWord). */
export interface RunStateRef extends WorkState {
  readonly kind: RunKind;
  /** An evaluation that finished with some samples failed (V1 `PartlyDone`). */
  readonly partly?: boolean;
  /** A manual evaluation waiting for people's scores (V1 `DoingWithManualBegin`). */
  readonly manualPending?: boolean;
}

/**
 * The word a dialect's API shows for a run's state, as its describe calls return it: what error
 * messages must say instead of the internal status (`already finished (Done)`, not `Succeeded`).
 * A publish or model-import run has no state of its own on the wire: it is the state of the
 * version it fills.
 *
 * @example runStateWord("v2", { kind: "finetune", status: "Succeeded", cancelRequested: false }) // "Done"
 * @example runStateWord("v1", { kind: "finetune", status: "Succeeded", cancelRequested: false }) // "FINISH"
 */
export function runStateWord(dialect: "v1" | "v2", state: RunStateRef): string {
  switch (state.kind) {
    case "finetune": return dialect === "v1" ? v1RunStatus(state.status) : v2RunStatus(state.status);
    case "publish":
    case "model-import": return state.status === "Succeeded" ? "Ready" : isTerminalRun(state.status) ? "Fail" : "Creating";
    case "compress": return compTaskStatus(state);
    case "evaluate": {
      const pending = state.manualPending ?? false;
      return dialect === "v1" ? v1EvalState(state, state.partly ?? false, pending) : v2EvalState(state, pending);
    }
    case "eval-export": return exportState(state.status);
    // The import task's own words (DescribeImportTask's importStatus).
    case "dataset-import": return state.status === "Succeeded" ? "Finished" : isTerminalRun(state.status) ? "Failed" : "Running";
    case "dataset-export": return dialect === "v1" ? String(v1DatasetExportStatus(state.status)) : v2DatasetExportStatus(state.status);
    case "model-export": return modelExportStatus(state.status);
    case "batch-inference": return batchInferenceStatus(state);
    // A serving run's own words are its service's (DescribeService runStatus); a running one may not be up yet.
    case "serve": return state.status === "Queued" || state.status === "Running" ? "Deploying" : state.status === "Failed" ? "Failed" : "Stopped";
    default: return assertNever(state.kind);
  }
}
