import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { SlurmExecutor, Worker, findPython, slurmJobName } from "@sailfin/worker";
import { startTestServer, v2Ok, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { eventsOf, runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { SAILFIN_BIN } from "./cli-process.js";
import { TEST_LEASE_MS, learnableLines, lossMetrics, waitForTask } from "./fixtures/worker-fixtures.js";
import { holdSlurmCluster, jobShown, jobsNamed, slurmConf } from "./fixtures/slurm-cluster.js";

/**
 * The Slurm executor on a real one-node Slurm cluster on localhost (scripts/setup-slurm.sh, which
 * the test set-up runs; SLURM_CONF from the environment or the script's last line): the tiny model
 * trains to Done as a Slurm job (and as a 2-task job: 2 data-parallel ranks, the losses of 1),
 * StopFineTuningTask reaches every rank as `scancel --signal=TERM` (PauseFineTuningTask too, and
 * the resumed task continues as a new job), a
 * worker killed mid-run leaves its job running for the next worker to adopt, and a time limit's
 * TERM checkpoints the run, which is requeued (no attempt spent) and resumes from there as a new
 * job. Requeues and node failures: slurm-requeue.test.ts.
 */

const MODEL = "tiny-slurm";

describe("Slurm executor (sqlite)", () => {
  let server: TestServer;
  let releaseCluster: (() => Promise<void>) | undefined;
  let tiny: TinyModelFolders;
  let versionId = "";
  let python = "";

  const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);
  /** A task of `processesPerNode` ranks (its placement decides the job's tasks, whatever the executor's default). */
  const newTask = async (hyper: Record<string, unknown>, processesPerNode = 1) => {
    const { jobId } = await ok2("CreateFineTuningJob", { name: "sjob", model: MODEL, trainMode: "SFT" });
    const { taskId } = await ok2("CreateFineTuningTask", {
      jobId, parameterScale: "LoRA", resourceConfig: { processesPerNode },
      hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, ...hyper },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
    });
    return taskId as string;
  };
  const jobNameOf = async (taskId: string) => slurmJobName(`${(await runRow(server, taskId))!.id}/finetune`);
  const metricSteps = async (taskId: string) => (await lossMetrics(server, taskId)).map((m) => m.step);
  const withSlurmWorker = async <T>(fn: () => Promise<T>, tasksPerNode = 1): Promise<T> => {
    const worker = new Worker({
      res: server.server.res, executor: new SlurmExecutor({ python, graceMs: 10_000, partition: undefined, nodes: 1, tasksPerNode, timeLimit: "00:10:00" }),
      id: "slurm-worker", leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200,
    });
    await worker.start();
    try { return await fn(); } finally { await worker.stop(); }
  };
  const trainToEnd = (taskId: string, tasksPerNode: number) =>
    withSlurmWorker(() => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 120_000), tasksPerNode);

  before(async () => {
    releaseCluster = await holdSlurmCluster();
    process.env.SLURM_CONF = slurmConf();
    python = await findPython();
    tiny = await writeTinyModels({ llama: TINY });
    // The default pool holds 2 ranks a node, so a task may ask for 2.
    server = await startTestServer("sqlite", { SAILFIN_POOLS: JSON.stringify({ pools: [{ id: "local", executor: "slurm", processesPerNode: 2 }] }) });
    await stageFolder(server, tiny.dir("llama"), "hub", "llama");
    await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
    versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(40) })).versionId;
  });
  after(async () => {
    await server?.close();
    await tiny?.remove();
    await releaseCluster?.();
  });

  test("a fine-tuning task trains to Done as one Slurm job, its events relayed as metrics and checkpoints", async () => {
    const taskId = await newTask({ epoch: 4, saveStep: 16, checkpointCount: 2 });
    const done = await withSlurmWorker(() => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 120_000));
    assert.equal(done.runStatus, "Done", JSON.stringify(done));
    assert.ok(done.checkpointList.length >= 1, JSON.stringify(done.checkpointList));
    const steps = await metricSteps(taskId);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once, in order");
    assert.ok(steps.length >= 10, `few metric points: ${steps.length}`);
    const jobs = jobsNamed(await jobNameOf(taskId));
    assert.deepEqual(jobs.map((j) => j.state), ["COMPLETED"], JSON.stringify(jobs));
  });

  test("a 2-task job trains with 2 ranks: Done, each step once, the losses of the same task as 1 task (same global batch)", async () => {
    // No dropout: each rank draws its own, so only without it are the two runs the same steps.
    const hyper = { epoch: 4, batchSize: 2, gradientAccumulationSteps: 2, loraDropout: 0, saveStep: 100_000, checkpointCount: 1 };
    const single = await newTask(hyper);
    assert.equal((await trainToEnd(single, 1)).runStatus, "Done");
    const ranked = await newTask(hyper, 2);
    const done = await trainToEnd(ranked, 2);
    assert.equal(done.runStatus, "Done", JSON.stringify(done));
    const [job] = jobsNamed(await jobNameOf(ranked));
    assert.equal(job?.state, "COMPLETED", JSON.stringify(job));
    const { shown, stderr } = jobShown(job!.id);
    assert.match(shown, /\bNumTasks=2\b/, shown);
    // Both ranks joined one world of 2 (each logs it after joining), one CPU's thread each.
    const threads = process.env.OMP_NUM_THREADS ?? "1";
    for (const rank of [0, 1]) assert.match(stderr, new RegExp(`\\[sailfin_runtime rank ${rank}\\] .* ${threads} torch thread\\(s\\), .*rank ${rank} of 2`), stderr);
    const [one, two] = [await lossMetrics(server, single), await lossMetrics(server, ranked)];
    assert.deepEqual(two.map((m) => m.step), Array.from({ length: one.length }, (_, i) => i + 1), "each step recorded once, as many as 1 task's");
    assert.ok(one.length >= 8, `few steps: ${one.length}`);
    two.forEach((m, i) => assert.ok(Math.abs(m.loss - one[i]!.loss) <= 1e-4, `step ${m.step}: loss ${m.loss} with 2 ranks, ${one[i]!.loss} with 1`));
  });

  for (const tasksPerNode of [1, 2]) test(`StopFineTuningTask → scancel --signal=TERM to every rank (${tasksPerNode} task(s)): the job checkpoints and the task ends Stopped`, async () => {
    const taskId = await newTask({ epoch: 50, saveStep: 100_000, checkpointCount: 1 }, tasksPerNode);
    await withSlurmWorker(async () => {
      await waitForTask(server, taskId, (t) => t.runStatus === "Running" && parseInt(t.runProgress, 10) >= 1, 120_000);
      assert.equal(await ok2("StopFineTuningTask", { taskId }), true);
      const stopped = await waitForTask(server, taskId, (t) => t.runStatus !== "Running", 30_000);
      assert.equal(stopped.runStatus, "Stopped", JSON.stringify(stopped));
      assert.equal(stopped.checkpointList.length, 1, "the runtime saved a checkpoint on SIGTERM");
    }, tasksPerNode);
    assert.equal((await eventsOf(server, taskId)).at(-1)!.to_state, "Cancelled");
    const jobs = jobsNamed(await jobNameOf(taskId));
    assert.equal(jobs.length, 1, JSON.stringify(jobs));
    assert.equal(jobs[0]!.state, "COMPLETED", "the runtime ended by itself on TERM, before any hard scancel");
    const { stderr } = jobShown(jobs[0]!.id);
    const ranks = tasksPerNode === 1 ? ["[sailfin_runtime]"] : ["[sailfin_runtime rank 0]", "[sailfin_runtime rank 1]"];
    for (const rank of ranks) assert.ok(stderr.includes(`${rank} SIGTERM received`), `${rank} got no TERM: ${stderr}`);
  });

  test("PauseFineTuningTask → the same scancel --signal=TERM: the job checkpoints, the task reads Paused holding no job; resumed, a new job continues from that step to Done", async () => {
    const taskId = await newTask({ epoch: 12, saveStep: 5, checkpointCount: 2 });
    await withSlurmWorker(async () => {
      await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 120_000);
      assert.equal(await ok2("PauseFineTuningTask", { taskId }), true);
      const paused = await waitForTask(server, taskId, (t) => t.runStatus !== "Running", 30_000);
      assert.equal(paused.runStatus, "Paused", JSON.stringify(paused));
      const first = jobsNamed(await jobNameOf(taskId));
      assert.deepEqual(first.map((j) => j.state), ["COMPLETED"], `the runtime ended by itself on TERM: ${JSON.stringify(first)}`);
      const pausedAt = Math.max(...paused.checkpointList.map((c: any) => c.step as number));
      assert.equal((await eventsOf(server, taskId)).at(-1)!.reason, `paused at step ${pausedAt}`);
      assert.equal(await ok2("ResumeFineTuningTask", { taskId }), true);
      const done = await waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 120_000);
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
    });
    const jobs = jobsNamed(await jobNameOf(taskId));
    assert.deepEqual(jobs.map((j) => j.state), ["COMPLETED", "COMPLETED"], JSON.stringify(jobs));
    assert.equal((await runRow(server, taskId))!.attempt, 1, "the pause spent no attempt");
    const steps = await metricSteps(taskId);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step once, continuous across the pause");
  });

  test("kill -9 of a `sailfin worker` on Slurm: its job runs on, the next worker adopts it (no second sbatch) and finishes the run", async () => {
    const taskId = await newTask({ epoch: 20, saveStep: 8, checkpointCount: 2 });
    const env: Record<string, string | undefined> = {
      ...process.env, SAILFIN_HOME: server.home, SAILFIN_EXECUTOR: "slurm", SAILFIN_SLURM_TIME_LIMIT: "00:10:00",
      SAILFIN_LEASE_MS: String(TEST_LEASE_MS), SAILFIN_POLL_MS: "100", SAILFIN_LOG_LEVEL: "silent",
    };
    delete env.DATABASE_URL;
    const child: ChildProcess = spawn(process.execPath, [SAILFIN_BIN, "worker"], { env, stdio: "ignore" });
    try {
      await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 120_000);
    } finally {
      child.kill("SIGKILL");
    }
    const name = await jobNameOf(taskId);
    const orphan = jobsNamed(name);
    assert.deepEqual(orphan.map((j) => j.state), ["RUNNING"], `the dead worker's job runs on: ${JSON.stringify(orphan)}`);
    const done = await withSlurmWorker(() => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 180_000));
    assert.equal(done.runStatus, "Done", JSON.stringify(done));
    const row = (await runRow(server, taskId))!;
    assert.equal(row.attempt, 2, "the adopting worker's attempt");
    const jobs = jobsNamed(name);
    assert.deepEqual(jobs, [{ id: orphan[0]!.id, state: "COMPLETED" }], "one job ran, the one the dead worker submitted");
    const steps = await metricSteps(taskId);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once although the job's events were replayed");
    const events = await eventsOf(server, taskId);
    assert.ok(events.some((e) => e.from_state === "Running" && e.to_state === "Queued" && (e.reason ?? "").includes("lease")), JSON.stringify(events));
    assert.equal(events.at(-1)!.actor, "slurm-worker");
  });

  test("a time limit: Slurm's TERM (--signal=B:TERM@grace) checkpoints, and the run is requeued without spending an attempt, resuming from that checkpoint as a new job", async () => {
    const long = (await releasedDataset(server, { name: "long", format: "PromptResponse", lines: learnableLines(400) })).versionId;
    const { jobId } = await ok2("CreateFineTuningJob", { name: "sjob", model: MODEL, trainMode: "SFT" });
    const { taskId } = await ok2("CreateFineTuningTask", {
      jobId, parameterScale: "LoRA",
      hyperParameterConfig: { maxSeqLen: 128, batchSize: 1, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, epoch: 50, saveStep: 100_000, checkpointCount: 1 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId: long }], splitRatio: 20 },
    });
    const worker = new Worker({
      // slurmctld looks at time limits about every 30 s, and sbatch(1) warns that the signal "may
      // be sent up to 60 seconds earlier than specified": with a limit of 1 minute TERM often came
      // before the first step (measured: twice in two runs). With 2 minutes and a 30 s grace it
      // comes after 30 to 90 s; a grace below 30 s may come with the kill itself.
      res: server.server.res, executor: new SlurmExecutor({ python, graceMs: 30_000, partition: undefined, nodes: 1, tasksPerNode: 1, timeLimit: "2" }),
      id: "slurm-worker", leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200,
    });
    await worker.start();
    try {
      // Every requeue names the time limit and the step it resumes from; wait for one that saved a checkpoint.
      const requeues = async () => (await eventsOf(server, taskId)).filter((e) => e.from_state === "Running" && e.to_state === "Queued").map((e) => e.reason ?? "");
      let first = 0;
      for (const deadline = Date.now() + 150_000; first === 0; await new Promise((r) => setTimeout(r, 200))) {
        const reasons = await requeues();
        for (const reason of reasons) assert.match(reason, /^requeued after the Slurm time limit at step \d+ \[resumes from step \d+\]$/);
        first = Math.max(0, ...reasons.map((r) => Number(/at step (\d+) \[resumes from step \1\]$/.exec(r)?.[1] ?? 0)));
        assert.ok(Date.now() < deadline, `no requeue from a checkpoint after the time limit: ${JSON.stringify(reasons)}`);
      }
      const resumed = await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 30_000);
      assert.ok(resumed.checkpointList.some((c: any) => c.step >= first), JSON.stringify(resumed.checkpointList));
      // 1 while an attempt runs, 0 while requeued again; a failed attempt would make it 2.
      assert.ok((await runRow(server, taskId))!.attempt <= 1, "requeues spend no attempt");
      // The second attempt is a new job, resuming after the first one's checkpoint.
      for (const deadline = Date.now() + 60_000; Math.max(0, ...(await metricSteps(taskId))) <= first + 1; await new Promise((r) => setTimeout(r, 100))) {
        assert.ok(Date.now() < deadline, "the second attempt did not train");
      }
      // One job per attempt, never two at once. A loaded machine may time out the second job too
      // before this line: that is another requeue, as it should be.
      const jobs = jobsNamed(await jobNameOf(taskId));
      assert.ok(jobs.length >= 2, JSON.stringify(jobs));
      assert.ok(jobs.filter((j) => ["RUNNING", "PENDING", "COMPLETING"].includes(j.state)).length <= 1, `one live job at a time: ${JSON.stringify(jobs)}`);
      assert.equal(jobs[0]!.state, "COMPLETED", `the first job ended by itself on TERM: ${JSON.stringify(jobs)}`);
      const steps = await metricSteps(taskId);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "the resumed attempt continues the series, each step once");
      assert.equal(await ok2("StopFineTuningTask", { taskId }), true);
      assert.equal((await waitForTask(server, taskId, (t) => t.runStatus !== "Running", 30_000)).runStatus, "Stopped");
    } finally {
      await worker.stop();
    }
  });
});
