import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { slurmJobName, startLocalWorker, workerSettingsFromEnv } from "@sailfin/worker";
import { startTestServer, v2Ok, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS, learnableLines, waitForTask } from "./fixtures/worker-fixtures.js";
import { holdSlurmCluster, jobsNamed, slurmConf } from "./fixtures/slurm-cluster.js";

/**
 * A Slurm resource pool on the real one-node cluster (scripts/setup-slurm.sh, held alone by each
 * suite: holdSlurmCluster): a worker started the production way (SAILFIN_WORKER_POOLS)
 * submits the task as a job in the pool's shape — the task's 2 ranks, the pool's partition and time
 * limit — records the Slurm job id on the run, and DescribeFineTuningTask shows it.
 */

const MODEL = "tiny-slurm-pools";
const POOLS = JSON.stringify({
  pools: [
    { id: "local", executor: "local" },
    { id: "cpu-slurm", executor: "slurm", partition: "debug", processesPerNode: 2, maxNodes: 1, timeLimit: "00:10:00" },
  ],
});

describe("a Slurm resource pool (sqlite)", () => {
  let server: TestServer;
  let releaseCluster: (() => Promise<void>) | undefined;
  let tiny: TinyModelFolders;
  let versionId = "";

  const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);

  before(async () => {
    releaseCluster = await holdSlurmCluster();
    process.env.SLURM_CONF = slurmConf();
    tiny = await writeTinyModels({ llama: TINY });
    server = await startTestServer("sqlite", { SAILFIN_POOLS: POOLS });
    await stageFolder(server, tiny.dir("llama"), "hub", "llama");
    await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
    versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(16) })).versionId;
  });
  after(async () => {
    await server?.close();
    await tiny?.remove();
    await releaseCluster?.();
  });

  test("a task of the cpu-slurm pool runs as a Slurm job of the pool's shape, its job id recorded and described", async () => {
    const { jobId } = await ok2("CreateFineTuningJob", { name: "pjob", model: MODEL, trainMode: "SFT" });
    const { taskId } = await ok2("CreateFineTuningTask", {
      jobId, parameterScale: "LoRA", resourceConfig: { resourceId: "cpu-slurm", nodeNum: 1 },
      hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, epoch: 2, loraDropout: 0, saveStep: 100_000 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
    });
    const settings = workerSettingsFromEnv({
      SAILFIN_WORKER_POOLS: "cpu-slurm", SAILFIN_LEASE_MS: String(TEST_LEASE_MS), SAILFIN_POLL_MS: "100", SAILFIN_STOP_GRACE_MS: "10000",
    });
    const worker = await startLocalWorker(server.server.res, settings, "slurm-pool-worker");
    let done: any;
    try {
      done = await waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 180_000);
    } finally {
      await worker.stop();
    }
    assert.equal(done.runStatus, "Done", JSON.stringify(done));
    const name = slurmJobName(`${(await runRow(server, taskId))!.id}/finetune`);
    const listed = spawnSync("squeue", ["-t", "all", "--noheader", `--name=${name}`, "-o", "%i"], { encoding: "utf8" });
    const ids = listed.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
    assert.equal(ids.length, 1, listed.stdout + listed.stderr);
    assert.deepEqual(done.resourceConfig, { resourceId: "cpu-slurm", nodeNum: 1, processesPerNode: 2, executor: "slurm", executorJobId: ids[0] });
    assert.equal((await runRow(server, taskId))!.executor_job_id, ids[0]);
    const shown = spawnSync("scontrol", ["show", "job", "-o", ids[0]!], { encoding: "utf8" }).stdout;
    assert.match(shown, /\bNumTasks=2\b/, shown);
    assert.match(shown, /\bPartition=debug\b/, shown);
    assert.match(shown, /\bTimeLimit=00:10:00\b/, shown);
  });
});

/**
 * A Slurm pool as the default pool: the runs no API field places (publish, compression) go to the
 * same pool and run as Slurm jobs too, not on the worker's machine. Artifacts in S3 (SeaweedFS):
 * the jobs read and write the worker's work folder, which the one node shares, and what they make
 * reaches the store.
 */
describe("a Slurm default pool takes every runtime run kind, artifacts in S3 (sqlite)", () => {
  let server: TestServer;
  let releaseCluster: (() => Promise<void>) | undefined;
  let tiny: TinyModelFolders;
  let base: { versionId: string; setId: string };
  let versionId = "";

  const ok2 = (resource: string, action: string, body: unknown) => v2Ok(server, resource, action, body);
  const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> => {
    for (const deadline = Date.now() + 180_000; ; await new Promise((r) => setTimeout(r, 200))) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    }
  };

  before(async () => {
    releaseCluster = await holdSlurmCluster();
    process.env.SLURM_CONF = slurmConf();
    tiny = await writeTinyModels({ llama: TINY });
    const pools = JSON.stringify({ default: "cpu-slurm", pools: [{ id: "cpu-slurm", executor: "slurm", processesPerNode: 1, timeLimit: "00:10:00" }] });
    server = await startTestServer("sqlite", { SAILFIN_POOLS: pools }, "s3");
    await stageFolder(server, tiny.dir("llama"), "hub", "llama");
    base = await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
    versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(16) })).versionId;
  });
  after(async () => {
    await server?.close();
    await tiny?.remove();
    await releaseCluster?.();
  });

  test("training, publish and compression each run as a Slurm job of the default pool", async () => {
    const settings = workerSettingsFromEnv({ SAILFIN_LEASE_MS: String(TEST_LEASE_MS), SAILFIN_POLL_MS: "100", SAILFIN_STOP_GRACE_MS: "10000" });
    const worker = await startLocalWorker(server.server.res, settings, "slurm-default-worker");
    try {
      const { jobId } = await ok2("finetuning", "CreateFineTuningJob", { name: "djob", model: MODEL, trainMode: "SFT" });
      const { taskId } = await ok2("finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA",
        hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, epoch: 1, saveStep: 100_000 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
      });
      const done = await waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 180_000);
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      assert.equal(done.resourceConfig.resourceId, "cpu-slurm");
      assert.equal(jobsNamed(slurmJobName(`${taskId}/finetune`)).length, 1);

      const setId = await ok2("model", "CreateCustomModelSet", { modelSetName: "on-slurm", modelType: "Text2Text" });
      const tuned: string = (await ok2("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Train", trainMeta: { taskId } })).modelId;
      const published = await until(() => ok2("model", "DescribeModel", { modelId: tuned }), (m) => m.status !== "Creating", "publish");
      assert.equal(published.status, "Ready", JSON.stringify(published));
      const publishRun = await server.server.res.db.selectFrom("runs").select(["id", "pool_id"]).where("kind", "=", "publish").execute();
      assert.equal(publishRun.length, 1);
      assert.equal(publishRun[0]!.pool_id, "cpu-slurm");
      assert.deepEqual(jobsNamed(slurmJobName(`${publishRun[0]!.id}/export`)).map((j) => j.state), ["COMPLETED"], "the publish ran as a Slurm job");
      const stored = (await server.server.res.artifacts.list(`models/${tuned}/`)).map((o) => o.key.split("/").at(-1));
      for (const name of ["config.json", "model.safetensors", "tokenizer.json"]) assert.ok(stored.includes(name), `${name} in the store: ${stored.join(",")}`);

      const compId: string = await ok2("model", "CreateModelCompTask", {
        name: "int8", sourceModelId: base.versionId, modelSetId: base.setId, config: { strategy: "Quantization", weight: "W8A16C16" },
      });
      const comp = await until(() => ok2("model", "DescribeModelCompTask", { modelCompTaskId: compId }), (c) => !["creating", "running"].includes(c.status), "compression");
      assert.equal(comp.status, "succeeded", JSON.stringify(comp));
      const compRun = await server.server.res.db.selectFrom("runs").select(["id", "pool_id"]).where("kind", "=", "compress").executeTakeFirstOrThrow();
      assert.equal(compRun.pool_id, "cpu-slurm");
      assert.deepEqual(jobsNamed(slurmJobName(`${compRun.id}/quantize`)).map((j) => j.state), ["COMPLETED"], "the compression ran as a Slurm job");
    } finally {
      await worker.stop();
    }
  });
});
