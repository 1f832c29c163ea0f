import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { RUNTIME_SPECS, type RuntimePrecision, type RuntimeRecipe } from "@sailfin/contract";
import type { Logger } from "../resources.js";
import type { RunFiles } from "../artifacts/run-files.js";
import type { FinetuneRunSpec } from "../finetune/records.js";
import type { PreparedRunData } from "../finetune/prepare-data.js";
import type { EvalResultRow } from "../evaluations/eval-tasks.js";
import type { ResultDatasetRef } from "../evaluations/eval-spec.js";
import type { ResultDatasetInput } from "../datasets/create-result-dataset.js";
import type { JudgeTarget } from "../evaluations/judge-endpoints.js";
import type { JudgeResult, JudgeSampleInput } from "../evaluations/judge.js";
import type { ProgressBatch } from "../queue/record-progress.js";
import type { EvalResultInput } from "../queue/record-eval-results.js";
import type { RunKind } from "../queue/lease.js";
import type { ImportOutcome } from "../import-outcome.js";
import type { DatasetImportSpec } from "../datasets/execute-dataset-import.js";
import type { ModelImportSpec } from "../models/import-model-version.js";
import type { DatasetExportSpec } from "../exports/dataset-exports.js";
import type { ModelExportSpec } from "../exports/model-exports.js";
import type { EndpointInput } from "../queue/record-endpoint.js";
import type { PoolEngine } from "../pools/index.js";
import type { RunOutcome } from "./outcome.js";
import type { ExecResult, Executor, Ranks } from "./executor.js";
import { RuntimeLink, type RuntimeEnding } from "./runtime-link.js";

/**
 * Every side effect a run kind has, as one bag (Langfuse's `evalExecutionDeps`): reads as typed
 * records, the artifacts as local files, the runtime, fenced writes, the judge and the runtime
 * settings. `productionRunDeps` builds it from the engine's resources and an executor;
 * `runDepsDouble` (tests) from overrides, without Python or a database.
 */
export interface RunDeps {
  /** The attempt this bag serves. */
  readonly run: RunAttempt;
  readonly log: Logger;
  /** Aborted to stop the attempt (a requested stop, a lost lease, or the worker shutting down). */
  readonly signal: AbortSignal;
  readonly settings: RuntimeSettings;
  /** The artifact store as local files: the runtime's inputs (staged) and outputs (committed). */
  readonly files: RunFiles;
  readonly reads: RunReads;
  /** Writes an object into the artifact store (atomically). */
  putArtifact(key: string, body: Buffer): Promise<{ readonly size: number }>;
  /** Writes the job's spec.json and runs it through the executor, its events recorded (fenced) as they come. */
  runRuntime(job: RuntimeJob): Promise<RuntimeRun>;
  /** Fenced: drops metrics and checkpoint rows past `step` (a resumed attempt). False when the lease was lost. */
  forgetAfterStep(step: number): Promise<boolean>;
  /** Fenced: an evaluation's per-sample answers (`replace` clears an earlier attempt's). False when the lease was lost. */
  recordEvalResults(rows: readonly EvalResultInput[], options?: { readonly replace?: boolean }): Promise<boolean>;
  /** Fenced: a released dataset holding rows the run wrote (a manual evaluation's answers). Null when the lease was lost. */
  createResultDataset(input: ResultDatasetInput): Promise<ResultDatasetRef | null>;
  readonly judge: RunJudge;
  readonly imports: RunImports;
  readonly exports: RunExports;
  readonly serving: RunServing;
}

/** One serving engine process to start (serve runs). */
export interface EngineLaunch {
  /**
   * True: Sailfin's runtime, `argv` being what follows `python -m sailfin_runtime` (the worker
   * knows its interpreter and runtime folder); false: the operator's command, argv[0] the program.
   */
  readonly builtIn: boolean;
  readonly argv: readonly string[];
  /** Added to the worker's environment (the engine's key goes here, never on argv). */
  readonly env: Readonly<Record<string, string>>;
  /** Aborting stops it: SIGTERM, SIGKILL after the worker's grace period. */
  readonly signal: AbortSignal;
}

/** A started engine: resolves when the process has exited (never rejects; a failed spawn is an exit). */
export interface EngineProcess {
  readonly exited: Promise<ExecResult>;
}

/** What a `serve` run needs besides the common deps: where engines bind, how they start, where they are recorded. */
export interface RunServing {
  /** The address engines bind (`SAILFIN_ENGINE_HOST`, default 127.0.0.1): what the server must reach. */
  readonly host: string;
  /** The run's pool's operator engine; undefined: Sailfin's runtime. */
  readonly engine: PoolEngine | undefined;
  launch(launch: EngineLaunch): EngineProcess;
  /** Fenced: the attempt's endpoint (the service reads Serving). False when the lease was lost. */
  recordEndpoint(input: EndpointInput): Promise<boolean>;
  /** Fenced: the attempt's endpoint removed while its engine restarts. False when the lease was lost. */
  dropEndpoint(): Promise<boolean>;
  /** Seals the engine's key as access-key secrets are sealed (the server opens it to call the engine). */
  seal(secret: string): string;
  /** Whether the run's service still wants this run serving (not stopped, deleted, or redeployed meanwhile). */
  wanted(serviceNum: number): Promise<boolean>;
}

/** The export work of the export kinds, done in Node: archives streamed store to store, progress fenced by the lease. */
export interface RunExports {
  dataset(spec: DatasetExportSpec): Promise<RunOutcome>;
  model(spec: ModelExportSpec): Promise<RunOutcome>;
}

/** The import work of the import kinds, done in Node: validation and copies, progress fenced by the lease. */
export interface RunImports {
  dataset(spec: DatasetImportSpec): Promise<ImportOutcome>;
  model(spec: ModelImportSpec): Promise<ImportOutcome>;
}

/** The claimed run, as a kind sees it. */
export interface RunAttempt {
  readonly num: number;
  readonly id: string;
  readonly kind: RunKind;
  /** 1 on the first claim. */
  readonly attempt: number;
  /** The worker holding the lease: the actor of what the attempt settles. */
  readonly owner: string;
  /** `runs.spec` as stored (the kind's payload schema parses it). */
  readonly storedSpec: string;
  /** The nodes and ranks a node it was queued for (its pool's placement); only training uses more than one. */
  readonly ranks: Ranks;
}

/** Operator settings the runtime specs carry (read once, from the worker's environment). */
export interface RuntimeSettings {
  /** `SAILFIN_DEVICE`: `auto`, `cpu`, `cuda`, `cuda:1` … */
  readonly device: string;
  /** `SAILFIN_PRECISION`. */
  readonly precision: RuntimePrecision;
}

/** A model version as run kinds read it. */
export interface ModelVersionRef {
  readonly num: number;
  readonly id: string;
  readonly status: string;
  /** Folder key as stored (null while a version has none yet). */
  readonly artifactPath: string | null;
  readonly sizeBytes: number;
  /** The fine-tuning run it was published from, if any. */
  readonly sourceRunNum: number | null;
}

/** Another run as a kind reads it (a compression's source training, the evaluation an export reads). */
export interface StoredRun {
  readonly num: number;
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly spec: string;
}

/** What run kinds read, as engine functions returning records (no SQL in kind files). */
export interface RunReads {
  modelVersion(ref: { readonly num: number } | { readonly id: string }): Promise<ModelVersionRef | null>;
  /** The newest checkpoint row a run recorded. */
  latestCheckpoint(runNum: number): Promise<{ readonly step: number; readonly path: string } | null>;
  storedRun(runNum: number): Promise<StoredRun | null>;
  modelSetExists(setNum: number): Promise<boolean>;
  evalResults(evalRunNum: number): Promise<EvalResultRow[]>;
  /** Token shards of a fine-tuning spec's data for the model at `modelKey` (cached). */
  prepareTrainingData(spec: FinetuneRunSpec, modelKey: string): Promise<PreparedRunData>;
}

export interface RunJudge {
  /** The judge URL resolved against this worker's judge endpoints (an operator endpoint gets its key). */
  target(url: string): JudgeTarget | { readonly refused: string };
  sample(input: JudgeSampleInput): Promise<JudgeResult>;
}

/** One runtime job of an attempt. */
export interface RuntimeJob {
  readonly recipe: RuntimeRecipe;
  /** Stable across attempts and workers (see Executor). */
  readonly jobKey: string;
  /** Absolute path spec.json is written to. */
  readonly specPath: string;
  /** The runtime spec (spec.json), checked against the recipe's contract schema before it is written. */
  readonly spec: object;
  /** Checkpoint rows to keep (the runtime deletes older folders). */
  readonly keepCheckpoints: number;
  /**
   * Steps at or below it are already recorded (the checkpoint a retry resumes from): their events
   * are skipped, as an executor that follows a previous worker's job replays its events from the start.
   */
  readonly recordedThroughStep?: number;
  /** Maps a `progress {done, total}` fraction to `offset + fraction × scale` percent (see RuntimeLink). */
  readonly progressOffset?: number;
  readonly progressScale?: number;
  /** Nodes and ranks a node (training only); undefined: one process. */
  readonly ranks?: Ranks;
  /** `serve`: called once with the engine's URL when its `ready` event arrives (see RuntimeLink). */
  readonly onReady?: (url: string) => void;
}

/** How a runtime job ended, or that the lease was lost while it ran (write nothing more). */
type RuntimeRun =
  | {
      readonly kind: "ended"; readonly ending: RuntimeEnding | null; readonly result: ExecResult;
      /** Tokens trained in all (the runtime's count at its latest metrics event); absent when it logged none. */
      readonly trainedTokens?: number;
    }
  | { readonly kind: "lost" };

/** What `runThroughLink` needs: the one path from a RuntimeJob to an executor and back, for production and the double alike. */
interface RuntimeParts {
  readonly executor: Executor;
  /** recordProgress fenced by the attempt's lease. */
  readonly record: (batch: ProgressBatch) => Promise<boolean>;
  readonly artifactRoot: string;
  readonly signal: AbortSignal;
  readonly onLeaseLost: () => void;
  /** Awaited before a checkpoint's row is recorded (uploads it where the store is remote); false: it is gone, record no row. */
  readonly beforeCheckpoint?: (key: string) => Promise<boolean>;
  /** Awaited after checkpoint rows were recorded (prunes the store's copies of the rows dropped). */
  readonly afterCheckpoints?: () => Promise<void>;
  /** The job id an earlier attempt recorded, and the fenced write that records a new one (production only). */
  readonly knownJobId?: string | null;
  readonly recordJob?: (jobId: string) => Promise<boolean>;
}

/**
 * Writes the job's spec.json, runs it, and records its events through a RuntimeLink; `lost` when a
 * fenced write found the lease gone.
 *
 * @example const run = await runThroughLink(parts, { recipe: "export", jobKey, specPath, spec, keepCheckpoints: 1 });
 */
export async function runThroughLink(parts: RuntimeParts, job: RuntimeJob): Promise<RuntimeRun> {
  // A builder that drifted from the protocol fails here, naming the field, not in Python later.
  const checked = RUNTIME_SPECS[job.recipe].safeParse(job.spec);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new Error(`the ${job.recipe} spec breaks the runtime protocol: ${issue.path.join(".") || "(spec)"}: ${issue.message}`);
  }
  await mkdir(dirname(job.specPath), { recursive: true });
  await writeFile(job.specPath, `${JSON.stringify(job.spec, null, 2)}\n`);
  const link = new RuntimeLink({
    record: parts.record, recipe: job.recipe, artifactRoot: parts.artifactRoot, keepCheckpoints: job.keepCheckpoints, onLeaseLost: parts.onLeaseLost,
    ...(parts.beforeCheckpoint === undefined ? {} : { beforeCheckpoint: parts.beforeCheckpoint }),
    ...(parts.afterCheckpoints === undefined ? {} : { afterCheckpoints: parts.afterCheckpoints }),
    ...(job.progressOffset === undefined ? {} : { progressOffset: job.progressOffset }),
    ...(job.progressScale === undefined ? {} : { progressScale: job.progressScale }),
    ...(job.recordedThroughStep === undefined ? {} : { recordedThroughStep: job.recordedThroughStep }),
    ...(job.onReady === undefined ? {} : { onReady: job.onReady }),
  });
  const { recordJob } = parts;
  const result = await parts.executor.run({
    recipe: job.recipe, jobKey: job.jobKey, specPath: job.specPath, signal: parts.signal, onLine: (line) => link.line(line),
    ...(job.ranks === undefined ? {} : { ranks: job.ranks }),
    ...(parts.knownJobId == null ? {} : { knownJobId: parts.knownJobId }),
    ...(recordJob === undefined ? {} : {
      onJobStarted: (jobId: string) => {
        recordJob(jobId).then((held) => { if (!held) parts.onLeaseLost(); }, () => undefined);
      },
    }),
  });
  if (!(await link.close())) return { kind: "lost" };
  return { kind: "ended", ending: link.outcome, result, ...(link.trainedTokens === undefined ? {} : { trainedTokens: link.trainedTokens }) };
}
