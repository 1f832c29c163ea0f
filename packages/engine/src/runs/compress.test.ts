import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CompRunSpec } from "../compression/comp-tasks.js";
import { runCompress } from "./compress.js";
import { runDepsDouble, type RunDepsDoubleOptions } from "./run-deps-double.js";
import { FINETUNE_SPEC, preparedData, readyVersion, runtimeEvent } from "./test-fixtures.js";

const SPEC: CompRunSpec = {
  specVersion: 1, kind: "compress", sourceVersionId: "amv-src", sourceVersionNum: 4, targetSetNum: 2, outputVersionId: "amv-q8",
  weight: "W8A16C16", bits: 8, groupSize: null, config: {},
};

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-run-compress-"));
  await mkdir(join(root, "models/amv-src"), { recursive: true });
  await writeFile(join(root, "models/amv-src/model.safetensors"), Buffer.alloc(400));
});
after(() => rm(root, { recursive: true, force: true }));

function double(extra: Partial<RunDepsDoubleOptions> = {}) {
  return runDepsDouble({
    root, spec: SPEC, run: { id: "amva-1", kind: "compress", num: 11 }, ...extra,
    reads: {
      modelVersion: async () => readyVersion(4, "amv-src", { sourceRunNum: 5 }),
      storedRun: async (num) => (num === 5 ? { num: 5, id: "run-src", kind: "finetune", name: "", spec: JSON.stringify(FINETUNE_SPEC) } : null),
      prepareTrainingData: async () => preparedData(3),
      modelSetExists: async () => true,
      ...extra.reads,
    },
  });
}

/** A quantizer that writes a smaller folder and reports perplexities. */
async function quantizes(job: { spec: object }) {
  const out = (job.spec as { outputDir: string }).outputDir;
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "model.safetensors"), Buffer.alloc(100));
  return { events: [runtimeEvent.done({ modelDir: "/out", sizeBefore: 100, sizeAfter: 50, perplexityBefore: 12.5, perplexityAfter: 12.9, quantizedModules: 7, seconds: 3 })] };
}

describe("compress run kind", () => {
  test("measures on the held-out split of the source's training data; done reads the measurement and settles the new version", async () => {
    const { deps, record } = double({ runtime: quantizes });
    const outcome = await runCompress(SPEC, deps);
    assert.equal(outcome.kind, "done");
    if (outcome.kind !== "done") return;
    assert.deepEqual(outcome.result, {
      modelId: "amv-q8", sizeBeforeBytes: 400, sizeAfterBytes: 100, perplexityBefore: 12.5, perplexityAfter: 12.9, seconds: 3,
    });
    assert.equal(typeof outcome.settle, "function");
    assert.deepEqual(record.jobs[0]!.spec, {
      version: 1, modelDir: join(root, "models/amv-src"), outputDir: join(root, "models/amv-q8"), bits: 8, groupSize: 128, scheme: "W8A16C16",
      evalSplit: "/cache/k/validation", evalMaxRows: 64,
    });
  });

  test("no measurement for an imported source, or a source run without a held-out split", async () => {
    const imported = double({ reads: { modelVersion: async () => readyVersion(4, "amv-src") }, runtime: quantizes });
    await runCompress(SPEC, imported.deps);
    assert.equal((imported.record.jobs[0]!.spec as Record<string, unknown>).evalSplit, null);
    const noSplit = double({ reads: { prepareTrainingData: async () => preparedData(0) }, runtime: quantizes });
    await runCompress(SPEC, noSplit.deps);
    assert.equal((noSplit.record.jobs[0]!.spec as Record<string, unknown>).evalSplit, null);
  });

  test("the user's failures: a source that is not Ready, a target set deleted meanwhile; a stop reads stopped", async () => {
    const notReady = double({ reads: { modelVersion: async () => readyVersion(4, "amv-src", { status: "Creating" }) } });
    assert.deepEqual(await runCompress(SPEC, notReady.deps), { kind: "failed", failure: "user", reason: "the source model version amv-src no longer exists or is not Ready" });
    const setGone = double({ reads: { modelSetExists: async () => false }, runtime: quantizes });
    assert.deepEqual(await runCompress(SPEC, setGone.deps), { kind: "failed", failure: "user", reason: "the target model set was deleted while compressing" });
    const stopped = double({ runtime: () => ({ events: [runtimeEvent.stopped()] }) });
    assert.deepEqual(await runCompress(SPEC, stopped.deps), { kind: "stopped", reason: "stopped while quantizing" });
  });
});
