import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { RUNTIME_SPECS, type RuntimePrecision, type RuntimeRecipe } from "@sailfin/contract";
import type { Logger } from "../resources.js";
import type { FinetuneRunSpec } from "../finetune/records.js";
import type { PreparedRunData } from "../finetune/prepare-data.js";
import type { EvalResultRow } from "../evaluations/eval-tasks.js";
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
import type { RunOutcome } from "./outcome.js";
import type { ExecResult, Executor } from "./executor.js";
import { RuntimeLink, type RuntimeEnding } from "./runtime-link.js";

/**
 * Every side effect a run kind has, as one bag (Langfuse's `evalExecutionDeps`): reads as typed
 * records, the local artifact view, the runtime, fenced writes, the judge and the runtime
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
  /** The artifact store as local folders, or null when it is not (runtime work needs them). */
  readonly artifacts: LocalArtifacts | null;
  readonly reads: RunReads;
  /** Writes an object into the artifact store (atomically). */
  putArtifact(key: string, body: Buffer): Promise<{ readonly size: number }>;
  /** Writes the job's spec.json and runs it through the executor, its events recorded (fenced) as they come. */
  runRuntime(job: RuntimeJob): Promise<RuntimeRun>;
  /** Fenced: drops metrics and checkpoint rows past `step` (a resumed attempt). False when the lease was lost. */
  forgetAfterStep(step: number): Promise<boolean>;
  /** Fenced: an evaluation's per-sample answers (`replace` clears an earlier attempt's). False when the lease was lost. */
  recordEvalResults(rows: readonly EvalResultInput[], options?: { readonly replace?: boolean }): Promise<boolean>;
  readonly judge: RunJudge;
  readonly imports: RunImports;
  readonly exports: RunExports;
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
}

/** Operator settings the runtime specs carry (read once, from the worker's environment). */
export interface RuntimeSettings {
  /** `SAILFIN_DEVICE`: `auto`, `cpu`, `cuda`, `cuda:1` … */
  readonly device: string;
  /** `SAILFIN_PRECISION`. */
  readonly precision: RuntimePrecision;
}

/** The artifact store seen as local folders: the runtime reads and writes files directly. */
export interface LocalArtifacts {
  /** Absolute root of the store. */
  readonly root: string;
  /** The absolute path of a key (a trailing `/` is dropped), through the store's own root-escape check. */
  readonly local: (key: string) => string;
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
}

/** How a runtime job ended, or that the lease was lost while it ran (write nothing more). */
type RuntimeRun =
  | { readonly kind: "ended"; readonly ending: RuntimeEnding | null; readonly result: ExecResult }
  | { readonly kind: "lost" };

/** What `runThroughLink` needs: the one path from a RuntimeJob to an executor and back, for production and the double alike. */
interface RuntimeParts {
  readonly executor: Executor;
  /** recordProgress fenced by the attempt's lease. */
  readonly record: (batch: ProgressBatch) => Promise<boolean>;
  readonly artifactRoot: string;
  readonly signal: AbortSignal;
  readonly onLeaseLost: () => void;
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
    ...(job.progressOffset === undefined ? {} : { progressOffset: job.progressOffset }),
    ...(job.progressScale === undefined ? {} : { progressScale: job.progressScale }),
    ...(job.recordedThroughStep === undefined ? {} : { recordedThroughStep: job.recordedThroughStep }),
  });
  const result = await parts.executor.run({
    recipe: job.recipe, jobKey: job.jobKey, specPath: job.specPath, signal: parts.signal, onLine: (line) => link.line(line),
  });
  if (!(await link.close())) return { kind: "lost" };
  return { kind: "ended", ending: link.outcome, result };
}
