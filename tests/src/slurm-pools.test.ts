import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { slurmJobName, startLocalWorker, workerSettingsFromEnv } from "@sailfin/worker";
import { startTestServer, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS, learnableLines, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * A Slurm resource pool on the real one-node cluster (scripts/setup-slurm.sh; run under
 * `flock /tmp/sailfin-slurm.lock`): a worker started the production way (SAILFIN_WORKER_POOLS)
 * submits the task as a job in the pool's shape — the task's 2 ranks, the pool's partition and time
 * limit — records the Slurm job id on the run, and DescribeFineTuningTask shows it.
 */

const MODEL = "tiny-slurm-pools";
const setupScript = fileURLToPath(new URL("../../scripts/setup-slurm.sh", import.meta.url));
const POOLS = JSON.stringify({
  pools: [
    { id: "local", executor: "local" },
    { id: "cpu-slurm", executor: "slurm", partition: "debug", processesPerNode: 2, maxNodes: 1, timeLimit: "00:10:00" },
  ],
});

function slurmConf(): string {
  if (process.env.SLURM_CONF) return process.env.SLURM_CONF;
  const setup = spawnSync("bash", [setupScript], { encoding: "utf8" });
  assert.equal(setup.status, 0, `${setupScript} failed: ${setup.stdout}${setup.stderr}`);
  const last = setup.stdout.trim().split("\n").at(-1) ?? "";
  assert.match(last, /^SLURM_CONF=/);
  return last.slice("SLURM_CONF=".length);
}

describe("a Slurm resource pool (sqlite)", () => {
  let server: TestServer;
  let tiny: TinyModelFolders;
  let versionId = "";

  const ok2 = async (action: string, body: unknown): Promise<any> => {
    const r = await v2Raw(server, "finetuning", action, body);
    assert.equal(r.status, 200, `${action}: ${r.text}`);
    return r.body.result;
  };

  before(async () => {
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
