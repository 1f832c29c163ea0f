import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SailfinError } from "@sailfin/contract";
import { LORA_TARGET_MODULES } from "@sailfin/contract";
import { finetuneRun, finetuneRuntimeSpec, runFinetune } from "./finetune.js";
import { runDepsDouble, type RunDepsDoubleOptions } from "./run-deps-double.js";
import { FINETUNE_SPEC, preparedData, readyVersion, runtimeEvent } from "./test-fixtures.js";

let root: string;
before(async () => { root = await mkdtemp(join(tmpdir(), "sailfin-run-finetune-")); });
after(() => rm(root, { recursive: true, force: true }));

function double(extra: Partial<RunDepsDoubleOptions> = {}) {
  return runDepsDouble({
    root, spec: FINETUNE_SPEC,
    ...extra,
    reads: {
      modelVersion: async () => readyVersion(3, "amv-base"),
      prepareTrainingData: async () => preparedData(2),
      latestCheckpoint: async () => null,
      ...extra.reads,
    },
  });
}

describe("finetune run kind", () => {
  test("the runtime spec: LoRA all-linear becomes the module list, maxSeqLen stays with the shards, settings pass through", () => {
    const base = {
      runId: "run-1", modelDir: "/m", data: preparedData(0), outputDir: "/out", initCheckpoint: null, resumeFrom: null,
      settings: { device: "cpu", precision: "fp32" as const },
    };
    const lora = finetuneRuntimeSpec({ ...base, spec: FINETUNE_SPEC });
    assert.deepEqual(lora.hyper, { epoch: 1, learningRate: 0.0003, checkpointCount: 2, loraTargetModules: [...LORA_TARGET_MODULES] });
    assert.deepEqual(lora.data, { train: "/cache/k/train", validation: null }, "an empty validation split is none");
    assert.equal(lora.device, "cpu");
    assert.equal(lora.precision, "fp32");
    const full = finetuneRuntimeSpec({ ...base, spec: { ...FINETUNE_SPEC, parameterScale: "FullFineTuning" } });
    assert.equal((full.hyper as Record<string, unknown>).loraTargetModules, undefined, "full fine-tuning trains every module");
    const some = finetuneRuntimeSpec({ ...base, spec: { ...FINETUNE_SPEC, hyperParameters: { ...FINETUNE_SPEC.hyperParameters, loraAllLinear: "False" } } });
    assert.equal((some.hyper as Record<string, unknown>).loraTargetModules, undefined);
    const qlora = finetuneRuntimeSpec({ ...base, spec: { ...FINETUNE_SPEC, hyperParameters: { ...FINETUNE_SPEC.hyperParameters, loraBaseQuantization: "NF4" } } });
    assert.equal((qlora.hyper as Record<string, unknown>).loraBaseQuantization, "NF4", "QLoRA reaches the runtime as the API spells it");
  });

  test("a first attempt starts fresh, writes spec.json, records the runtime's events and is done", async () => {
    const { deps, record } = double({
      runtime: (job) => ({
        events: [
          runtimeEvent.started({ totalSteps: 4 }),
          runtimeEvent.metrics({ step: 4, epoch: 1, loss: 1.5, lr: 0.0003, gradNorm: 1, tokensPerSecond: 900 }),
          runtimeEvent.checkpoint({ step: 4, path: join((job.spec as { outputDir: string }).outputDir, "checkpoints", "step_000004"), trainLoss: 1.5 }),
          runtimeEvent.done({ lastCheckpoint: null }, 4),
        ],
      }),
    });
    const outcome = await runFinetune(FINETUNE_SPEC, deps);
    // The runtime's cumulative trained-token count at its last metrics event is kept on the run (OpenAI's trained_tokens).
    assert.deepEqual(outcome, { kind: "done", reason: "training finished at step 4", result: { trainedTokens: 0 } });
    const [job] = record.jobs;
    assert.equal(job!.recipe, "finetune");
    assert.equal(job!.jobKey, "run-1/finetune");
    assert.equal(job!.keepCheckpoints, 2);
    assert.equal((job!.spec as Record<string, unknown>).resumeFrom, null);
    assert.equal((job!.spec as Record<string, unknown>).modelDir, join(root, "models/amv-base"));
    assert.deepEqual(JSON.parse(await readFile(job!.specPath, "utf8")), job!.spec);
    assert.equal(job!.specPath, join(root, "runs/run-1/spec.attempt-1.json"));
    assert.deepEqual(record.forgotten, [0], "from step 0: what a start the cluster requeued (same attempt number) logged is dropped");
    const checkpoints = record.progress.flatMap((b) => b.checkpoints ?? []);
    assert.deepEqual(checkpoints.map((c) => c.path), ["runs/run-1/checkpoints/step_000004/"], "stored as artifact keys");
    assert.equal(record.progress.flatMap((b) => b.metrics ?? []).length, 1);
  });

  test("a retry resumes from the run's latest checkpoint and forgets what was logged after it", async () => {
    const { deps, record } = double({
      run: { attempt: 2 },
      reads: { latestCheckpoint: async (runNum) => (runNum === 1 ? { step: 20, path: "runs/run-1/checkpoints/step_000020/" } : null) },
    });
    assert.equal((await runFinetune(FINETUNE_SPEC, deps)).kind, "done");
    assert.deepEqual(record.forgotten, [20]);
    assert.equal((record.jobs[0]!.spec as Record<string, unknown>).resumeFrom, join(root, "runs/run-1/checkpoints/step_000020"));
    assert.equal(record.jobs[0]!.specPath, join(root, "runs/run-1/spec.attempt-2.json"));
  });

  test("incremental training starts from the named checkpoint", async () => {
    const spec = {
      ...FINETUNE_SPEC,
      increment: { runId: "run-0", runNum: 9, jobId: "job-0", jobNum: 1, step: 8, checkpointPath: "runs/run-0/checkpoints/step_000008/", parameterScale: "LoRA" },
    };
    const { deps, record } = double();
    await runFinetune(spec, deps);
    assert.equal((record.jobs[0]!.spec as Record<string, unknown>).initCheckpoint, join(root, "runs/run-0/checkpoints/step_000008"));
  });

  test("a runtime user error fails at once with its message; a crash is the system's, with how it ended", async () => {
    const user = double({ runtime: () => ({ events: [runtimeEvent.error("user", "schedulerName: zigzag is not a scheduler")], exitCode: 2 }) });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, user.deps), { kind: "failed", failure: "user", reason: "schedulerName: zigzag is not a scheduler" });
    const crash = double({ runtime: () => ({ events: [runtimeEvent.started({ totalSteps: 4 })], exitCode: null, signal: "SIGKILL", stderrTail: "Traceback: boom\n" }) });
    const outcome = await runFinetune(FINETUNE_SPEC, crash.deps);
    assert.equal(outcome.kind === "failed" && outcome.failure, "system");
    assert.equal(outcome.kind === "failed" && outcome.reason, "the finetune runtime stopped without finishing (killed by SIGKILL); stderr tail:\nTraceback: boom");
  });

  test("a stop: the runtime's checkpoint is kept and the run reads stopped", async () => {
    const asked = new AbortController();
    asked.abort("cancel");
    const { deps } = double({ signal: asked.signal, runtime: () => ({ events: [runtimeEvent.stopped({ step: 7, checkpoint: "/x" })] }) });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, deps), { kind: "stopped", reason: "stopped at step 7 (checkpoint saved)" });
  });

  test("a stop the worker did not ask for (a time limit, a preemption) requeues the run from its latest checkpoint, spending no attempt", async () => {
    const latest = { step: 7, path: "runs/run-1/checkpoints/step_000007/" };
    const { deps } = double({
      reads: { latestCheckpoint: async () => latest },
      runtime: () => ({ events: [runtimeEvent.stopped({ step: 7, checkpoint: "/x" })], interruptedBy: "the Slurm time limit" }),
    });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, deps), { kind: "requeued", reason: "requeued after the Slurm time limit at step 7", step: 7 });
    // The local executor names no cause: a TERM from another process.
    const local = double({ reads: { latestCheckpoint: async () => latest }, runtime: () => ({ events: [runtimeEvent.stopped({ step: 7, checkpoint: "/x" })] }) });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, local.deps), { kind: "requeued", reason: "requeued after a stop from outside the worker at step 7", step: 7 });
  });

  test("a job the cluster killed before the runtime could checkpoint (a node failure) resumes from the latest recorded checkpoint; the user's own errors still fail", async () => {
    const { deps } = double({
      reads: { latestCheckpoint: async () => ({ step: 4, path: "runs/run-1/checkpoints/step_000004/" }) },
      runtime: () => ({ events: [runtimeEvent.started({ totalSteps: 40 })], exitCode: null, signal: "SIGKILL", interruptedBy: "a Slurm requeue (node failure)" }),
    });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, deps), {
      kind: "requeued", reason: "requeued after a Slurm requeue (node failure) before the runtime could save a checkpoint", step: 4,
    });
    const user = double({
      runtime: () => ({ events: [runtimeEvent.error("user", "batchSize too large")], exitCode: 2, interruptedBy: "the Slurm time limit" }),
    });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, user.deps), { kind: "failed", failure: "user", reason: "batchSize too large" });
  });

  test("a lost lease: the attempt writes nothing more and reads lost", async () => {
    let held = true;
    const { deps, record } = double({
      leaseHeld: () => held,
      runtime: () => { held = false; return { events: [runtimeEvent.checkpoint({ step: 2, path: join(root, "runs/run-1/checkpoints/step_000002") }), runtimeEvent.done({ lastCheckpoint: null }, 4)] }; },
    });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, deps), { kind: "lost" });
    assert.equal(record.leaseLost, 1, "the worker is told to stop the process");
    assert.deepEqual(record.progress, []);

    const retry = double({ run: { attempt: 2 }, leaseHeld: () => false });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, retry.deps), { kind: "lost" }, "forgetting is fenced too");
    assert.equal(retry.record.jobs.length, 0, "no runtime starts without the lease");
  });

  test("what only the user can fix is the user's failure: a deleted base, data that is gone, a stored spec that does not parse", async () => {
    const gone = double({ reads: { modelVersion: async () => null } });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, gone.deps), { kind: "failed", failure: "user", reason: "the base model version amv-base no longer exists" });
    const noData = double({ reads: { prepareTrainingData: () => Promise.reject(new SailfinError("InvalidParameter", { field: "datasetConfig", detail: "dataset version ds-1 no longer has data" })) } });
    const failedData = await runFinetune(FINETUNE_SPEC, noData.deps);
    assert.equal(failedData.kind === "failed" && failedData.failure, "user");
    const diskFull = double({ reads: { prepareTrainingData: () => Promise.reject(new Error("ENOSPC")) } });
    assert.deepEqual(await runFinetune(FINETUNE_SPEC, diskFull.deps), { kind: "failed", failure: "system", reason: "preparing training data failed: ENOSPC" });
    const bad = double({ spec: { ...FINETUNE_SPEC, baseModel: { ...FINETUNE_SPEC.baseModel, versionNum: "3" } } });
    const parsed = await finetuneRun.attempt(bad.deps);
    assert.equal(parsed.kind === "failed" && parsed.failure, "user");
    assert.match(parsed.kind === "failed" ? parsed.reason : "", /^the stored spec of run-1 is not a valid finetune spec: baseModel\.versionNum: /);
    assert.equal(bad.record.jobs.length, 0);
  });

  test("a hyper-parameter the protocol refuses is the user's failure, named, before any data is prepared", async () => {
    const zigzag = double({ reads: { prepareTrainingData: () => Promise.reject(new Error("must not prepare data")) } });
    const outcome = await runFinetune({ ...FINETUNE_SPEC, hyperParameters: { ...FINETUNE_SPEC.hyperParameters, schedulerName: "zigzag" } }, zigzag.deps);
    assert.equal(outcome.kind === "failed" && outcome.failure, "user");
    assert.match(outcome.kind === "failed" ? outcome.reason : "", /^hyper\.schedulerName: /);
    assert.equal(zigzag.record.jobs.length, 0);
  });
});
