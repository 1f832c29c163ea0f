import type { EngineResources } from "../resources.js";
import { prepareSpecData } from "../finetune/prepare-data.js";
import { evalResults } from "../evaluations/eval-tasks.js";
import { resolveJudgeTarget } from "../evaluations/judge-endpoints.js";
import { judgeSample } from "../evaluations/judge.js";
import { forgetAfterStep, recordProgress } from "../queue/record-progress.js";
import { recordEvalResults } from "../queue/record-eval-results.js";
import type { Lease } from "../queue/lease.js";
import { executeDatasetImport } from "../datasets/execute-dataset-import.js";
import { executeModelImport } from "../models/import-model-version.js";
import { executeDatasetExport } from "../exports/execute-dataset-export.js";
import { executeModelExport } from "../exports/execute-model-export.js";
import { runThroughLink, type LocalArtifacts, type RunDeps, type RuntimeSettings } from "./deps.js";
import type { Executor } from "./executor.js";
import { modelSetExists, readLatestCheckpoint, readModelVersion, readStoredRun } from "./reads.js";

interface ProductionRunDepsInput {
  readonly res: EngineResources;
  readonly lease: Lease;
  /** Where runtime jobs run; undefined for a worker whose kinds need no runtime. */
  readonly executor: Executor | undefined;
  readonly settings: RuntimeSettings;
  readonly signal: AbortSignal;
  /** Called when a fenced write finds the lease gone: the worker stops the attempt. */
  readonly leaseLost: () => void;
}

/**
 * The RunDeps of one claimed attempt: reads through the engine, writes fenced by `lease`, runtime
 * jobs through `executor`.
 *
 * @example const outcome = await RUN_CATALOG[lease.kind].attempt(productionRunDeps({ res, lease, executor, settings, signal, leaseLost }));
 */
export function productionRunDeps(input: ProductionRunDepsInput): RunDeps {
  const { res, lease, executor, settings, signal, leaseLost } = input;
  const artifacts = localArtifacts(res);
  return {
    run: { num: lease.runNum, id: lease.runId, kind: lease.kind, attempt: lease.attempt, owner: lease.owner, storedSpec: lease.row.spec },
    log: res.log, signal, settings, artifacts,
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
      if (artifacts === null) throw new Error("runtime jobs need a local artifact store");
      return runThroughLink({
        executor, record: (batch) => recordProgress(res.db, lease, batch), artifactRoot: artifacts.root, signal, onLeaseLost: leaseLost,
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
  };
}

/** The local view of the store, or null when it is not a local folder (runtime work needs one). */
function localArtifacts(res: EngineResources): LocalArtifacts | null {
  const root = res.artifacts.localPath("");
  if (root === null) return null;
  // Non-null for every key once the root exists.
  return { root, local: (key) => res.artifacts.localPath(key.replace(/\/$/, ""))! };
}
