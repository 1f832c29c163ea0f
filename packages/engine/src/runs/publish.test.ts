import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PublishRunSpec } from "../models/publish-from-run.js";
import { publishRun, runPublish } from "./publish.js";
import { runDepsDouble, type RunDepsDoubleOptions } from "./run-deps-double.js";
import { readyVersion, runtimeEvent } from "./test-fixtures.js";

const SPEC: PublishRunSpec = {
  specVersion: 1, kind: "publish", versionId: "amv-pub", versionNum: 7, sourceRunId: "run-src", sourceRunNum: 5, step: 8,
  checkpointPath: "runs/run-src/checkpoints/step_000008/", baseVersionId: "amv-base",
};

let root: string;
before(async () => { root = await mkdtemp(join(tmpdir(), "sailfin-run-publish-")); });
after(() => rm(root, { recursive: true, force: true }));

function double(extra: Partial<RunDepsDoubleOptions> = {}) {
  return runDepsDouble({
    root, spec: SPEC, run: { id: "publish-amv-pub", kind: "publish" }, ...extra,
    reads: { modelVersion: async (ref) => ("id" in ref && ref.id === "amv-base" ? readyVersion(3, "amv-base") : null), ...extra.reads },
  });
}

/** A runtime that writes a two-file folder where the spec says, then prints `done`. */
async function exportsFolder(job: { spec: object }) {
  const out = (job.spec as { outputDir: string }).outputDir;
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "config.json"), "{}");
  await writeFile(join(out, "model.safetensors"), Buffer.alloc(100));
  return { events: [runtimeEvent.done({ modelDir: "/out" })] };
}

describe("publish run kind", () => {
  test("the export spec names the base folder, the checkpoint and the version's folder; done settles the version Ready", async () => {
    await mkdir(join(root, "models/amv-pub"), { recursive: true });
    await writeFile(join(root, "models/amv-pub/stale.bin"), "left by an earlier attempt");
    const { deps, record } = double({ runtime: exportsFolder });
    const outcome = await runPublish(SPEC, deps);
    assert.equal(outcome.kind, "done");
    assert.equal(outcome.kind === "done" && outcome.reason, "exported step 8 of run-src");
    assert.equal(typeof (outcome.kind === "done" && outcome.settle), "function", "the version turns Ready in the completing transaction");
    assert.deepEqual(record.jobs[0]!.spec, {
      version: 1, modelDir: join(root, "models/amv-base"), checkpoint: join(root, "runs/run-src/checkpoints/step_000008"), outputDir: join(root, "models/amv-pub"),
    });
    assert.equal(record.jobs[0]!.recipe, "export");
    assert.deepEqual((await readdir(join(root, "models/amv-pub"))).sort(), ["config.json", "model.safetensors"], "an earlier attempt's files went first");
  });

  test("a failed export leaves no folder; an interrupted one is the system's; a deleted base is the user's", async () => {
    const { deps } = double({
      runtime: async (job) => { await exportsFolder(job); return { events: [runtimeEvent.error("user", "checkpoint folder is missing")], exitCode: 2 }; },
    });
    assert.deepEqual(await runPublish(SPEC, deps), { kind: "failed", failure: "user", reason: "checkpoint folder is missing" });
    await assert.rejects(readdir(join(root, "models/amv-pub")), /ENOENT/);
    const stopped = double({ runtime: () => ({ events: [runtimeEvent.stopped({ step: 0 })] }) });
    assert.deepEqual(await runPublish(SPEC, stopped.deps), { kind: "failed", failure: "system", reason: "the export was interrupted" });
    const noBase = double({ reads: { modelVersion: async () => null } });
    assert.deepEqual(await runPublish(SPEC, noBase.deps), { kind: "failed", failure: "user", reason: "the base model version amv-base no longer exists" });
  });

  test("a lost lease reads lost", async () => {
    const { deps } = double({ leaseHeld: () => false, runtime: () => ({ events: [runtimeEvent.done({ modelDir: "/out" })] }) });
    assert.deepEqual(await runPublish(SPEC, deps), { kind: "lost" });
  });

  test("the catalog entry: file work beside training, needs the runtime, fails its version when it ends Failed", () => {
    assert.equal(publishRun.concurrency, "file-work");
    assert.equal(publishRun.needsRuntime, true);
  });
});
