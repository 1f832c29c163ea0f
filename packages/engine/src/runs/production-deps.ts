import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { EngineResources } from "../resources.js";
import type { RunFiles } from "../artifacts/run-files.js";
import { prepareSpecData } from "../finetune/prepare-data.js";
import { evalResults } from "../evaluations/eval-tasks.js";
import { resolveJudgeTarget } from "../evaluations/judge-endpoints.js";
import { judgeSample } from "../evaluations/judge.js";
import { forgetAfterStep, recordProgress } from "../queue/record-progress.js";
import { recordEvalResults } from "../queue/record-eval-results.js";
import { recordExecutorJob } from "../queue/record-executor-job.js";
import type { Lease } from "../queue/lease.js";
import { executeDatasetImport } from "../datasets/execute-dataset-import.js";
import { executeModelImport } from "../models/import-model-version.js";
import { executeDatasetExport } from "../exports/execute-dataset-export.js";
import { executeModelExport } from "../exports/execute-model-export.js";
import { dropEndpoint, recordEndpoint } from "../queue/record-endpoint.js";
import { wantedServing } from "../serving/serve-spec.js";
import { runThroughLink, type EngineLaunch, type EngineProcess, type RunDeps, type RuntimeSettings } from "./deps.js";
import type { Executor } from "./executor.js";
import { modelSetExists, readCheckpointPaths, readLatestCheckpoint, readModelVersion, readStoredRun } from "./reads.js";

interface ProductionRunDepsInput {
  readonly res: EngineResources;
  readonly lease: Lease;
  /** Where runtime jobs run; undefined for a worker whose kinds need no runtime. */
  readonly executor: Executor | undefined;
  readonly settings: RuntimeSettings;
  readonly signal: AbortSignal;
  /** Called when a fenced write finds the lease gone: the worker stops the attempt. */
  readonly leaseLost: () => void;
  /** How this worker starts serving engines and where they bind; undefined for a worker that serves none. */
  readonly engines?: { readonly host: string; launch(launch: EngineLaunch): EngineProcess } | undefined;
}

/**
 * The RunDeps of one claimed attempt: reads through the engine, writes fenced by `lease`, runtime
 * jobs through `executor`.
 *
 * @example const outcome = await RUN_CATALOG[lease.kind].attempt(productionRunDeps({ res, lease, executor, settings, signal, leaseLost }));
 */
export function productionRunDeps(input: ProductionRunDepsInput): RunDeps {
  const { res, lease, executor, settings, signal, leaseLost, engines } = input;
  const { files } = res;
  return {
    run: {
      num: lease.runNum, id: lease.runId, kind: lease.kind, attempt: lease.attempt, owner: lease.owner, storedSpec: lease.row.spec,
      ranks: { nodes: Number(lease.row.node_num), processesPerNode: Number(lease.row.processes_per_node) },
    },
    log: res.log, signal, settings, files,
    reads: {
      modelVersion: (ref) => readModelVersion(res.db, ref),
      latestCheckpoint: (runNum) => readLatestCheckpoint(res.db, runNum),
      storedRun: (runNum) => readStoredRun(res.db, runNum),
      modelSetExists: (setNum) => modelSetExists(res.db, setNum),
      evalResults: (evalRunNum) => evalResults(res, evalRunNum),
      prepareTrainingData: (spec, modelKey) => prepareSpecData(res, spec, modelKey),
    },
    putArtifact: (key, body) => res.artifacts.put(key, body),
    runRuntime: (job) => {
      // The catalog's needsRuntime keeps such kinds off a worker without an executor.
      if (executor === undefined) throw new Error(`run kind ${lease.kind} needs the runtime, and this worker has no executor`);
      return runThroughLink({
        executor, record: (batch) => recordProgress(res.db, lease, batch), artifactRoot: files.root, signal, onLeaseLost: leaseLost,
        knownJobId: lease.row.executor_job_id, recordJob: (jobId) => recordExecutorJob(res.db, lease, jobId),
        // A remote store holds a checkpoint before its row does, and loses the ones whose rows were pruned.
        ...(files.zeroCopy ? {} : {
          beforeCheckpoint: (key: string) => commitCheckpoint(files, key),
          afterCheckpoints: async () => files.keepOnly(`runs/${lease.runId}/checkpoints/`, await readCheckpointPaths(res.db, lease.runNum)),
        }),
      }, job);
    },
    forgetAfterStep: (step) => forgetAfterStep(res.db, lease, step),
    recordEvalResults: (rows, options) => recordEvalResults(res.db, lease, rows, options),
    judge: { target: (url) => resolveJudgeTarget(res.judge, url), sample: judgeSample },
    imports: {
      dataset: (spec) => executeDatasetImport(res, lease, signal, spec),
      model: (spec) => executeModelImport(res, lease, signal, spec),
    },
    exports: {
      dataset: (spec) => executeDatasetExport(res, lease, signal, spec),
      model: (spec) => executeModelExport(res, lease, signal, spec),
    },
    serving: {
      host: engines?.host ?? "127.0.0.1",
      engine: res.pools.pools.find((pool) => pool.id === lease.row.pool_id)?.engine,
      launch: (launch) => {
        if (engines === undefined) throw new Error(`run kind ${lease.kind} starts an engine, and this worker cannot`);
        return engines.launch(launch);
      },
      recordEndpoint: (endpoint) => recordEndpoint(res.db, lease, endpoint),
      dropEndpoint: () => dropEndpoint(res.db, lease),
      seal: (secret) => res.secrets.seal(secret),
      wanted: (serviceNum) => wantedServing(res.db, serviceNum, lease.runNum),
    },
  };
}

/** Uploads a checkpoint folder; false when the runtime already deleted it for a newer one (it gets no row). */
async function commitCheckpoint(files: RunFiles, key: string): Promise<boolean> {
  try {
    await files.commit(key);
    return true;
  } catch (error) {
    // Deleted before or while it was read: a newer checkpoint replaced it (what it half-uploaded goes with the next prune).
    if ((await stat(join(files.root, ...key.replace(/\/$/, "").split("/"))).catch(() => null)) === null) return false;
    throw error;
  }
}
