/**
 * The work queue: `runs` rows are the queue entries (every kind of RUN_CATALOG); one module per
 * statement. Every write a worker makes after its claim is fenced by the lease token.
 */
export { type Lease, type RunKind, RUN_KINDS } from "./lease.js";
export { claimRun } from "./claim.js";
export { heartbeat } from "./heartbeat.js";
export { completeRun, cancelRun } from "./finish.js";
export { failRun } from "./fail.js";
export { requeueExpired } from "./requeue-expired.js";
export { type OnRunEnded } from "./run-ending.js";
export { recordProgress, type MetricPoint } from "./record-progress.js";
export { recordEvalResults } from "./record-eval-results.js";
export { releaseRun } from "./release.js";
export { requeueRun, MAX_REQUEUES_PER_STEP } from "./requeue-run.js";
export { enqueueRun } from "./enqueue.js";
export { pauseLeasedRun } from "./pause-leased.js";
export {
  announceWorker, withdrawWorker, waitingReason, strandedWork, kindNoun, type StrandedWork,
} from "./worker-presence.js";
