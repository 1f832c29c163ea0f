import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { SlurmExecutor, Worker, findPython, slurmJobName } from "@sailfin/worker";
import { startTestServer, v2Ok, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { eventsOf, runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS, learnableLines, lossMetrics, waitForTask } from "./fixtures/worker-fixtures.js";
import { holdSlurmCluster, jobShown, jobsNamed, nodeState, restoreNode, scontrol, slurmConf } from "./fixtures/slurm-cluster.js";

/**
 * Slurm taking a running job away, on the real one-node cluster (holding it alone,
 * holdSlurmCluster: it takes the node down). Measured on Slurm 22.05 here:
 * - `scontrol requeue <job>` (what a preemption in REQUEUE mode does): Restarts=1 at once, TERM to
 *   the batch shell and the steps (the runtime checkpoints), COMPLETING for KillWait (30 s), then
 *   PENDING (Reason=BeginTime, some minutes ahead) under the same job id.
 * - `scontrol update nodename=localhost state=down`: the steps are killed without a TERM (srun:
 *   "Node failure on localhost"), the job is PENDING again at once with Restarts=1, and the node
 *   is idle again within a second (slurmd still answers and ReturnToService=2).
 * Either way the executor reports the requeue and cancels the waiting job; the run goes back to
 * Sailfin's queue without spending an attempt and resumes from its latest checkpoint as a new job.
 */

const MODEL = "tiny-slurm-requeue";

describe("Slurm requeue and node failure (sqlite)", () => {
  let server: TestServer;
  let releaseCluster: (() => Promise<void>) | undefined;
  let tiny: TinyModelFolders;
  let versionId = "";
  let python = "";

  const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);
  const newTask = async (hyper: Record<string, unknown>) => {
    const { jobId } = await ok2("CreateFineTuningJob", { name: "rjob", model: MODEL, trainMode: "SFT" });
    const { taskId } = await ok2("CreateFineTuningTask", {
      jobId, parameterScale: "LoRA",
      hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, ...hyper },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
    });
    return taskId as string;
  };
  const jobNameOf = async (taskId: string) => slurmJobName(`${(await runRow(server, taskId))!.id}/finetune`);
  const metricSteps = async (taskId: string) => (await lossMetrics(server, taskId)).map((m) => m.step);
  const withSlurmWorker = async <T>(fn: () => Promise<T>): Promise<T> => {
    const worker = new Worker({
      res: server.server.res, executor: new SlurmExecutor({ python, graceMs: 10_000, partition: undefined, nodes: 1, tasksPerNode: 1, timeLimit: "00:10:00" }),
      id: "slurm-worker", leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200,
    });
    await worker.start();
    try { return await fn(); } finally { await worker.stop(); }
  };
  /** The live Slurm job of a task, once it runs. */
  const runningJob = async (taskId: string) => {
    const name = await jobNameOf(taskId);
    for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
      const live = jobsNamed(name).find((j) => j.state === "RUNNING");
      if (live !== undefined) return live.id;
      assert.ok(Date.now() < deadline, `no running job named ${name}: ${JSON.stringify(jobsNamed(name))}`);
    }
  };
  const requeueEvents = async (taskId: string) =>
    (await eventsOf(server, taskId)).filter((e) => e.from_state === "Running" && e.to_state === "Queued");
  /** After a requeue: Done, no attempt spent, each step recorded once, two jobs (the requeued one cancelled while it waited). */
  const assertResumedToDone = async (taskId: string, requeuedJob: string) => {
    const done = await waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 240_000);
    assert.equal(done.runStatus, "Done", JSON.stringify(done));
    assert.equal((await runRow(server, taskId))!.attempt, 1, "a requeue spends no attempt");
    const steps = await metricSteps(taskId);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once across the requeue");
    const jobs = jobsNamed(await jobNameOf(taskId));
    assert.deepEqual(jobs.map((j) => j.state), ["CANCELLED", "COMPLETED"], `the requeued job, then a new one: ${JSON.stringify(jobs)}`);
    assert.equal(jobs[0]!.id, requeuedJob);
    assert.match(jobShown(requeuedJob).shown, /\bRestarts=1\b/);
    return done;
  };

  before(async () => {
    releaseCluster = await holdSlurmCluster();
    process.env.SLURM_CONF = slurmConf();
    python = await findPython();
    tiny = await writeTinyModels({ llama: TINY });
    server = await startTestServer("sqlite");
    await stageFolder(server, tiny.dir("llama"), "hub", "llama");
    await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
    versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(40) })).versionId;
  });
  after(async () => {
    await server?.close();
    await tiny?.remove();
    await releaseCluster?.();
  });

  test("scontrol requeue (a preemption's requeue): the runtime checkpoints on TERM, the run is requeued without an attempt and resumes from that step as a new job", async () => {
    const taskId = await newTask({ epoch: 12, saveStep: 100_000, checkpointCount: 1 });
    await withSlurmWorker(async () => {
      await waitForTask(server, taskId, (t) => t.runStatus === "Running" && parseInt(t.runProgress, 10) >= 2, 120_000);
      const job = await runningJob(taskId);
      scontrol("requeue", job);
      const [requeue] = await (async () => {
        for (const deadline = Date.now() + 90_000; ; await sleep(200)) {
          const found = await requeueEvents(taskId);
          if (found.length > 0) return found;
          assert.ok(Date.now() < deadline, `no requeue: ${JSON.stringify(await eventsOf(server, taskId))}`);
        }
      })();
      const step = Number(/at step (\d+) \[resumes from step \1\]$/.exec(requeue!.reason ?? "")?.[1]);
      assert.ok(step >= 1, `requeued from the checkpoint saved on TERM: ${requeue!.reason}`);
      assert.match(requeue!.reason!, /^requeued after a Slurm requeue \(scontrol requeue or a preemption\) at step \d+/);
      assert.match(jobShown(job).stderr, /SIGTERM received/, "the runtime got TERM and saved a checkpoint");
      const done = await assertResumedToDone(taskId, job);
      assert.ok(done.checkpointList.some((c: any) => c.step > step), "training went on past the requeue");
    });
  });

  test("the node goes down under a running job: Slurm kills and requeues it, the run resumes from its last periodic checkpoint as a new job once the node is back", async () => {
    const taskId = await newTask({ epoch: 12, saveStep: 8, checkpointCount: 3 });
    try {
      await withSlurmWorker(async () => {
        const running = await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 120_000);
        const job = await runningJob(taskId);
        scontrol("update", "nodename=localhost", "state=down", "reason=sailfin-node-failure-test");
        for (const deadline = Date.now() + 60_000; (await requeueEvents(taskId)).length === 0; await sleep(200)) {
          assert.ok(Date.now() < deadline, `no requeue after the node went down (node ${nodeState()}): ${JSON.stringify(await eventsOf(server, taskId))}`);
        }
        const [requeue] = await requeueEvents(taskId);
        const step = Number(/\[resumes from step (\d+)\]$/.exec(requeue!.reason ?? "")?.[1]);
        assert.ok(step >= (running.checkpointList.at(-1).step as number), `resumes from the latest periodic checkpoint: ${requeue!.reason}`);
        assert.match(requeue!.reason!, /^requeued after a Slurm node failure \(Slurm requeued the job\)/);
        await restoreNode();
        await assertResumedToDone(taskId, job);
      });
    } finally {
      await restoreNode();
    }
  });
});
