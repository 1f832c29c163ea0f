/**
 * The work queue: `runs` rows are the queue entries (every kind of RUN_CATALOG); one module per
 * statement. Every write a worker makes after its claim is fenced by the lease token.
 */
export { type Lease, type RunKind, RUN_KINDS, RUN_OBJECT } from "./lease.js";
export { claimRun, type ClaimOptions } from "./claim.js";
export { heartbeat, type HeartbeatResult } from "./heartbeat.js";
export { completeRun, cancelRun, type CompletionOptions } from "./finish.js";
export { failRun, type FailOptions, type FailResult, type FailureKind } from "./fail.js";
export { requeueExpired, type RequeuedRun } from "./requeue-expired.js";
export { type OnRunEnded, type EndedRun, type RunEnding } from "./run-ending.js";
export { recordProgress, forgetAfterStep, type ProgressBatch, type MetricPoint, type CheckpointPoint } from "./record-progress.js";
export { recordEvalResults, type EvalResultInput } from "./record-eval-results.js";
export { releaseRun } from "./release.js";
export { enqueueRun, type EnqueueRunInput } from "./enqueue.js";
export { requestStop, type StopResult } from "./request-stop.js";
export { findWorkRun, type WorkRow } from "./find-work.js";
export { runStateOf } from "./run-state.js";
export {
  announceWorker, withdrawWorker, liveWorkerKinds, reasonNoWorkerFor, waitingReason, strandedWork, kindNoun, NO_WORKER_ONLINE,
  type WorkerAnnouncement, type StrandedWork,
} from "./worker-presence.js";
