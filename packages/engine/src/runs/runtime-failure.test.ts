import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCompress } from "./compress.js";
import { runFinetune } from "./finetune.js";
import { runPublish } from "./publish.js";
import { runDepsDouble, type ScriptedJob } from "./run-deps-double.js";
import { runtimeFailure } from "./runtime-failure.js";
import { FINETUNE_SPEC, preparedData, readyVersion, runtimeEvent } from "./test-fixtures.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-run-failure-"));
  await mkdir(join(root, "models/amv-base"), { recursive: true });
});
after(() => rm(root, { recursive: true, force: true }));

/** The failure each runtime kind reports for the same scripted ending. */
async function failuresOf(ending: ScriptedJob) {
  const reads = {
    modelVersion: async () => readyVersion(3, "amv-base"), prepareTrainingData: async () => preparedData(0),
    latestCheckpoint: async () => null, storedRun: async () => null,
  };
  const deps = (spec: unknown) => runDepsDouble({ root, spec, reads, runtime: () => ending }).deps;
  return [
    await runFinetune(FINETUNE_SPEC, deps(FINETUNE_SPEC)),
    await runPublish({
      specVersion: 1, kind: "publish", versionId: "amv-p", versionNum: 1, sourceRunId: "r", sourceRunNum: 1, step: 1, checkpointPath: "runs/r/c/", baseVersionId: "amv-base",
    }, deps(null)),
    await runCompress({
      specVersion: 1, kind: "compress", sourceVersionId: "amv-base", sourceVersionNum: 3, targetSetNum: 1, outputVersionId: "amv-q", weight: "INT8-PTQ", bits: 8, groupSize: null, config: {},
    }, deps(null)),
  ];
}

describe("one failure classifier for every runtime kind", () => {
  test("the same runtime error reads the same in every kind", async () => {
    const user = await failuresOf({ events: [runtimeEvent.error("user", "out of memory: lower batchSize")], exitCode: 2, stderrTail: "trace" });
    assert.deepEqual(user, Array(3).fill({ kind: "failed", failure: "user", reason: "out of memory: lower batchSize" }));
    const system = await failuresOf({ events: [runtimeEvent.error("system", "CUDA error")], exitCode: 1, stderrTail: "trace\n" });
    assert.deepEqual(system, Array(3).fill({ kind: "failed", failure: "system", reason: "CUDA error (exit code 1); stderr tail:\ntrace" }));
  });

  test("exit code 2 without an error event is the user's; a kill without one names the recipe and the signal", () => {
    assert.deepEqual(runtimeFailure("quantize", null, { exitCode: 2, signal: null, stderrTail: "" }), {
      failure: "user", reason: "the quantize runtime stopped without finishing (exit code 2)",
    });
    assert.deepEqual(runtimeFailure("generate", { kind: "done", step: 1, outputs: {} }, { exitCode: null, signal: "SIGKILL", stderrTail: "" }), {
      failure: "system", reason: "the generate runtime stopped without finishing (killed by SIGKILL)",
    });
  });
});
