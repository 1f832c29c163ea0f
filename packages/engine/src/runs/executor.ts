import type { RuntimeRecipe } from "@sailfin/contract";

/** One runtime job. */
export interface ExecRequest {
  readonly recipe: RuntimeRecipe;
  /**
   * Names this job stably across workers and attempts of the run (`<runId>/<recipe>`, plus the
   * unit for an evaluation's per-version generations): see Executor for what an executor may do
   * with it.
   */
  readonly jobKey: string;
  /** Absolute path of spec.json. */
  readonly specPath: string;
  /** Aborting stops the job: SIGTERM (the runtime checkpoints and exits), SIGKILL after the grace period. */
  readonly signal: AbortSignal;
  /** Called with every line the runtime prints on stdout (JSON events), in order. */
  readonly onLine: (line: string) => void;
  /** Nodes and ranks a node (a training run's placement); undefined: one process on one node. */
  readonly ranks?: Ranks;
  /** The job id an earlier attempt recorded (`runs.executor_job_id`): an executor that can follow jobs looks for it first. */
  readonly knownJobId?: string | null;
  /** Called once with the executor's id of the job it started or adopted (a Slurm job id), to record on the run. */
  readonly onJobStarted?: (jobId: string) => void;
}

/** How many processes a job runs: `nodes` × `processesPerNode` data-parallel ranks. */
export interface Ranks {
  readonly nodes: number;
  readonly processesPerNode: number;
}

export interface ExecResult {
  /** Null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The last few KB of stderr, for failure reasons. */
  readonly stderrTail: string;
  /**
   * Set when the scheduler behind the executor ended the job (not its own exit, not this worker's
   * stop): what did, in words for a reason ("the Slurm time limit", "a Slurm requeue (…)"). A
   * training run goes back to the queue then without spending an attempt (see runFinetune).
   */
  readonly interruptedBy?: string;
}

/**
 * Where the runtime runs: the one seam between a run kind and a process. The contract:
 * - `run` resolves when the job for `jobKey` has ended, after every stdout line was delivered
 *   to `onLine`; it never rejects for the job's own failure (that is an ExecResult).
 * - An executor that can see jobs outside this process (a Slurm or Kubernetes executor) first
 *   looks for a live job with `jobKey` — one a previous worker started before its lease was lost
 *   or it was restarted — and FOLLOWS it (delivers its events to `onLine`, resolves when it ends)
 *   instead of starting a second one; only when none is live does it start one. It reports the
 *   job's id through `onJobStarted` (recorded on the run) and looks for `knownJobId` first.
 * - Aborting `signal` stops the job the call started or follows.
 * The local executor cannot follow: a child process belongs to the worker that spawned it, so
 * it always starts one (a previous worker's child dies with it).
 */
export interface Executor {
  run(request: ExecRequest): Promise<ExecResult>;
}
