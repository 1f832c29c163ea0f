import type { RuntimeEvent } from "@sailfin/contract";
import type { ProgressBatch } from "../queue/record-progress.js";
import type { EvalResultInput } from "../queue/record-eval-results.js";
import type { RunAttempt, RunDeps, RunImports, RunExports, RunJudge, RunReads, RuntimeJob, RuntimeSettings } from "./deps.js";
import { runThroughLink } from "./deps.js";
import type { ExecResult } from "./executor.js";
import { LocalArtifactStore } from "../artifacts/local.js";
import { runFilesFor, type RunFiles } from "../artifacts/run-files.js";

/** What a scripted runtime job prints and how its process ends. */
export interface ScriptedJob {
  /** Events, one JSON line each (see `runtimeEvent` in test-fixtures). */
  readonly events?: readonly RuntimeEvent[];
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly stderrTail?: string;
  readonly interruptedBy?: string;
}

export interface RunDepsDoubleOptions {
  /** The payload stored on the run (JSON-encoded into `run.storedSpec` unless that is given). */
  readonly spec?: unknown;
  readonly run?: Partial<RunAttempt>;
  /** Root of a local artifact folder (a temporary directory); null: the kind touches no files (using them throws). */
  readonly root: string | null;
  readonly settings?: RuntimeSettings;
  readonly signal?: AbortSignal;
  /** Reads not given throw: a test names what its kind may read. */
  readonly reads?: Partial<RunReads>;
  /** The runtime: called with each job; default a job that prints `done` and exits 0. */
  readonly runtime?: (job: RuntimeJob) => ScriptedJob | Promise<ScriptedJob>;
  /** The fence of every write: false plays a lease lost to another worker (default true). */
  readonly leaseHeld?: () => boolean;
  readonly judge?: Partial<RunJudge>;
  /** Import work (the import kinds); not given: it throws. */
  readonly imports?: Partial<RunImports>;
  /** Export work (the export kinds); not given: it throws. */
  readonly exports?: Partial<RunExports>;
}

/** The files of a double without a root: a kind that reaches for them fails the test, naming what it did. */
const NO_FILES: RunFiles = {
  root: "/nonexistent", zeroCopy: true,
  input: (key) => Promise.reject(new Error(`the test gave no root (input ${key})`)),
  find: (key) => Promise.reject(new Error(`the test gave no root (find ${key})`)),
  output: (key) => Promise.reject(new Error(`the test gave no root (output ${key})`)),
  commit: (key) => Promise.reject(new Error(`the test gave no root (commit ${key})`)),
  discard: (key) => Promise.reject(new Error(`the test gave no root (discard ${key})`)),
  keepOnly: () => Promise.reject(new Error("the test gave no root (keepOnly)")),
};

/** What the kind did through the double, for assertions. */
interface RunDepsRecord {
  readonly jobs: RuntimeJob[];
  readonly progress: ProgressBatch[];
  readonly forgotten: number[];
  readonly evalResults: Array<{ rows: readonly EvalResultInput[]; replace: boolean }>;
  readonly puts: Array<{ key: string; body: Buffer }>;
  leaseLost: number;
}

/**
 * RunDeps for unit tests of run kinds, without Python or a database: reads from overrides, a
 * scripted runtime whose events go through the real RuntimeLink, writes recorded (and fenced by
 * `leaseHeld`).
 *
 * @example const { deps, record } = runDepsDouble({ root, spec, reads: { modelVersion: async () => base } });
 */
export function runDepsDouble(options: RunDepsDoubleOptions): { deps: RunDeps; record: RunDepsRecord } {
  const record: RunDepsRecord = { jobs: [], progress: [], forgotten: [], evalResults: [], puts: [], leaseLost: 0 };
  const held = options.leaseHeld ?? (() => true);
  const signal = options.signal ?? new AbortController().signal;
  const root = options.root;
  const files: RunFiles = root === null ? NO_FILES : runFilesFor(new LocalArtifactStore(root), `${root}/work`);
  const missing = (name: string) => () => Promise.reject(new Error(`the test gave no reads.${name}`));
  const reads: RunReads = {
    modelVersion: missing("modelVersion"), latestCheckpoint: missing("latestCheckpoint"), storedRun: missing("storedRun"),
    modelSetExists: missing("modelSetExists"), evalResults: missing("evalResults"), prepareTrainingData: missing("prepareTrainingData"),
    ...options.reads,
  };
  const run: RunAttempt = {
    num: 1, id: "run-1", kind: "finetune", attempt: 1, owner: "test-worker", storedSpec: JSON.stringify(options.spec ?? {}),
    ranks: { nodes: 1, processesPerNode: 1 }, ...options.run,
  };
  const script = options.runtime ?? ((): ScriptedJob => ({ events: [{ event: "done", time: 0, step: 0, outputs: { lastCheckpoint: null } }] }));
  const deps: RunDeps = {
    run, signal, files, reads,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    settings: options.settings ?? { device: "auto", precision: "auto" },
    putArtifact: async (key, body) => { record.puts.push({ key, body }); return { size: body.length }; },
    runRuntime: (job) => {
      record.jobs.push(job);
      return runThroughLink({
        executor: {
          async run(request): Promise<ExecResult> {
            const scripted = await script(job);
            for (const event of scripted.events ?? []) request.onLine(JSON.stringify(event));
            return { exitCode: scripted.exitCode === undefined ? 0 : scripted.exitCode, signal: scripted.signal ?? null, stderrTail: scripted.stderrTail ?? "",
              ...(scripted.interruptedBy === undefined ? {} : { interruptedBy: scripted.interruptedBy }) };
          },
        },
        record: async (batch) => { if (!held()) return false; record.progress.push(batch); return true; },
        artifactRoot: files.root, signal, onLeaseLost: () => { record.leaseLost++; },
      }, job);
    },
    forgetAfterStep: async (step) => { if (!held()) return false; record.forgotten.push(step); return true; },
    recordEvalResults: async (rows, opts) => { if (!held()) return false; record.evalResults.push({ rows, replace: opts?.replace === true }); return true; },
    judge: {
      target: (url) => ({ url, apiKey: "", endpoint: null }),
      sample: () => Promise.reject(new Error("the test gave no judge.sample")),
      ...options.judge,
    },
    imports: {
      dataset: () => Promise.reject(new Error("the test gave no imports.dataset")),
      model: () => Promise.reject(new Error("the test gave no imports.model")),
      ...options.imports,
    },
    exports: {
      dataset: () => Promise.reject(new Error("the test gave no exports.dataset")),
      model: () => Promise.reject(new Error("the test gave no exports.model")),
      ...options.exports,
    },
    serving: {
      host: "127.0.0.1", engine: undefined,
      launch: () => { throw new Error("the test gave no serving engine"); },
      recordEndpoint: () => Promise.resolve(true), dropEndpoint: () => Promise.resolve(true), seal: (secret) => secret,
      wanted: () => Promise.resolve(true),
    },
  };
  return { deps, record };
}
