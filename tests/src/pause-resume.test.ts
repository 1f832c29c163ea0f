import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  cancelRun, claimRun, failRun, heartbeat, pauseLeasedRun, pauseRun, releaseRun, requeueExpired, requeueRun, resumeRun, settleEndedRun,
  type Lease,
} from "@sailfin/engine";
import { SailfinClient } from "@sailfin/sdk";
import { ADMIN, startTestServer, testDialects, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { addCheckpoints, eventsOf, runRow, setRunState } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { learnableLines, startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";
import { runCli } from "./cli-process.js";

/**
 * Pausing and resuming a fine-tuning task (OpenAI's pause/resume; V2's Pause/ResumeFineTuningTask
 * extensions). The state changes and the queue statements on both dialects, through the real
 * routes; then, on SQLite, a real worker and the real runtime: a paused task holds no worker (its
 * slot trains another task meanwhile) and, resumed, continues from the checkpoint it saved.
 */

const MODEL = "tiny-pause";

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

/** A server with the tiny model imported and a released SFT dataset; `task()` creates a waiting task. */
async function setUp(server: TestServer) {
  await stageFolder(server, tiny.dir("llama"), "hub", "llama");
  await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
  const versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(40) })).versionId;
  const { jobId } = await v2Ok(server, "finetuning", "CreateFineTuningJob", { name: "pjob", model: MODEL, trainMode: "SFT" });
  return async (hyper: Record<string, unknown> = { epoch: 1 }) => (await v2Ok(server, "finetuning", "CreateFineTuningTask", {
    jobId, parameterScale: "LoRA",
    hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, ...hyper },
    datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
  })).taskId as string;
}

for (const dialect of testDialects()) {
  describe(`pause and resume (${dialect})`, () => {
    let server: TestServer;
    let newTask: () => Promise<string>;
    const db = () => server.server.res.db;
    const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);
    const status = async (taskId: string) => (await ok2("DescribeFineTuningTask", { taskId })).runStatus as string;
    /** A V2 refusal: its status, code and the field named. */
    async function refused(action: string, taskId: string, code = "ResourceInUse", status = 409): Promise<string> {
      const r = await v2Raw(server, "finetuning", action, { taskId });
      assert.equal(r.status, status, r.text);
      assert.equal(r.body.code, code, r.text);
      assert.ok(r.body.message.includes("param[taskId] invalid"), r.body.message);
      return r.body.message as string;
    }
    /** Claims `taskId` itself (a priority above every earlier one puts it first; other tests' tasks may be waiting too). */
    let priority = 100;
    async function claimTask(taskId: string, owner = "pauser", leaseMs = 60_000): Promise<Lease> {
      await db().updateTable("runs").set({ priority: ++priority }).where("id", "=", taskId).execute();
      const lease = await claimRun(db(), server.server.res.dialect, { owner, kinds: ["finetune"], leaseMs });
      assert.equal(lease?.runId, taskId);
      return lease!;
    }
    const transitions = async (taskId: string) => (await eventsOf(server, taskId)).map((e) => `${e.from_state}>${e.to_state}`);

    // Expired leases are reaped by these tests themselves, not by the server's import worker.
    before(async () => {
      server = await startTestServer(dialect, { SAILFIN_POLL_MS: "600000" });
      newTask = await setUp(server);
    });
    after(async () => { await server.close(); });

    test("a waiting task pauses at once, is never claimed while paused, and resumes to Waiting", async () => {
      const taskId = await newTask();
      assert.equal(await ok2("PauseFineTuningTask", { taskId }), true);
      assert.equal(await status(taskId), "Paused");
      const row = (await runRow(server, taskId))!;
      const v1 = await v1Raw(server, "/wenxinworkshop/finetune/jobDetail", { taskId: row.job_num, jobId: row.num });
      assert.equal(v1.body.result.trainStatus, "RUNNING", "V1 has no paused word: it keeps a poller waiting");
      assert.equal(await ok2("PauseFineTuningTask", { taskId }), true, "pausing a paused task is a no-op");
      assert.deepEqual(await transitions(taskId), ["null>Queued", "Queued>Paused"]);
      assert.match((await eventsOf(server, taskId)).at(-1)!.reason ?? "", /^paused by \S+ while queued$/);

      // First in line, and still not taken.
      await db().updateTable("runs").set({ priority: 100_000 }).where("id", "=", taskId).execute();
      const other = await claimRun(db(), server.server.res.dialect, { owner: "looker", kinds: ["finetune"], leaseMs: 60_000 });
      assert.notEqual(other?.runId, taskId);
      if (other !== null) await releaseRun(db(), other, "not this one");

      assert.equal(await ok2("ResumeFineTuningTask", { taskId }), true);
      assert.equal(await status(taskId), "Waiting");
      assert.deepEqual(await transitions(taskId), ["null>Queued", "Queued>Paused", "Paused>Queued"]);
      assert.match((await eventsOf(server, taskId)).at(-1)!.reason ?? "", /no checkpoint yet/);
      const lease = await claimTask(taskId);
      assert.equal(lease.attempt, 1);
      assert.equal(await releaseRun(db(), lease, "done looking"), true);
    });

    test("a paused task is stopped at once; it cannot be deleted while paused", async () => {
      const taskId = await newTask();
      await ok2("PauseFineTuningTask", { taskId });
      const del = await v2Raw(server, "finetuning", "DeleteFineTuningTask", { taskId });
      assert.equal(del.status, 409, del.text);
      assert.match(del.body.message, /paused/);
      assert.equal(await ok2("StopFineTuningTask", { taskId }), true);
      const stopped = await ok2("DescribeFineTuningTask", { taskId });
      assert.equal(stopped.runStatus, "Stopped");
      assert.notEqual(stopped.finishDate, "0000-00-00T00:00:00Z");
      assert.deepEqual(await transitions(taskId), ["null>Queued", "Queued>Paused", "Paused>Cancelled"]);
      assert.match(await refused("ResumeFineTuningTask", taskId), /has already finished \(Stopped\)/);
      assert.match(await refused("PauseFineTuningTask", taskId), /has already finished \(Stopped\)/);
    });

    test("resuming a task that is not paused, or pausing a finished one, is refused naming the state", async () => {
      const waiting = await newTask();
      assert.match(await refused("ResumeFineTuningTask", waiting), /is not paused \(Waiting\)/);
      const done = await newTask();
      await setRunState(server, done, { status: "Succeeded", progress: 100, finished: true });
      assert.match(await refused("PauseFineTuningTask", done), /has already finished \(Done\)/);
      assert.match(await refused("ResumeFineTuningTask", done), /has already finished \(Done\)/);
      await refused("PauseFineTuningTask", "task-doesnotexist", "InappropriateJSON", 400);
      const bad = await v2Raw(server, "finetuning", "PauseFineTuningTask", {});
      assert.equal(bad.status, 400, bad.text);
      assert.ok(bad.body.message.includes("taskId"), bad.text);
      await ok2("StopFineTuningTask", { taskId: waiting });
    });

    test("a running task: the pause is asked, heard at the heartbeat, and recorded Paused by the lease holder unspent", async () => {
      const taskId = await newTask();
      const lease = await claimTask(taskId);
      await addCheckpoints(server, taskId, [{ step: 4, trainLoss: 1 }, { step: 8, trainLoss: 0.9 }]);
      const asked = await pauseRun(server.server.res, ADMIN, lease.runNum, "fine_tuning_job_id");
      assert.deepEqual(asked, { status: "Running", pauseRequested: true });
      assert.deepEqual(await pauseRun(server.server.res, ADMIN, { id: taskId }, "taskId"), { status: "Running", pauseRequested: true }, "asked once");
      assert.equal(await status(taskId), "Running");
      assert.deepEqual(await heartbeat(db(), lease, 60_000), { alive: true, cancelRequested: false, pauseRequested: true });
      // The record is fenced by the lease like every worker write.
      assert.deepEqual(await pauseLeasedRun(db(), { ...lease, token: "0".repeat(32) }), { applied: false, status: null, cancelRequested: false }, "fenced");
      assert.deepEqual(await pauseLeasedRun(db(), lease), { applied: true, status: "Paused", cancelRequested: false });
      const row = (await runRow(server, taskId))!;
      assert.equal(row.status, "Paused");
      assert.equal(row.lease_owner, null);
      assert.equal(row.lease_token, null);
      assert.equal(row.attempt, 0, "a pause spends no attempt");
      assert.equal(row.pause_requested, 0);
      const events = await eventsOf(server, taskId);
      assert.deepEqual(events.slice(-2).map((e) => [e.from_state, e.to_state, e.reason]), [
        ["Running", "Running", `pause requested by ${ADMIN.accessKey}`], ["Running", "Paused", "paused at step 8"],
      ]);
      assert.equal(events.at(-1)!.actor, "pauser");
      const resumed = await resumeRun(server.server.res, ADMIN, lease.runNum, "fine_tuning_job_id");
      assert.deepEqual(resumed, { status: "Queued" });
      assert.match((await eventsOf(server, taskId)).at(-1)!.reason ?? "", /resumes from the checkpoint at step 8$/);
      const again = await claimTask(taskId);
      assert.equal(again.attempt, 1);
      await ok2("StopFineTuningTask", { taskId });
      await cancelRun(db(), again, "stopped", settleEndedRun);
    });

    test("resume withdraws a pending pause; a stop asked meanwhile wins over the pause", async () => {
      const taskId = await newTask();
      const lease = await claimTask(taskId);
      await ok2("PauseFineTuningTask", { taskId });
      assert.equal(await ok2("ResumeFineTuningTask", { taskId }), true);
      assert.equal((await runRow(server, taskId))!.pause_requested, 0);
      assert.equal(await status(taskId), "Running");
      assert.match(await refused("ResumeFineTuningTask", taskId), /is not paused \(Running\)/);
      // The worker had already stopped the process: the run goes back to the queue, not Paused.
      assert.deepEqual(await pauseLeasedRun(db(), lease), { applied: true, status: "Queued", cancelRequested: false });
      assert.equal((await runRow(server, taskId))!.attempt, 0);

      const second = await claimTask(taskId);
      await ok2("PauseFineTuningTask", { taskId });
      await ok2("StopFineTuningTask", { taskId });
      assert.deepEqual(await pauseLeasedRun(db(), second), { applied: false, status: null, cancelRequested: true });
      assert.equal(await cancelRun(db(), second, "stopped at step 3", settleEndedRun), true);
      assert.equal(await status(taskId), "Stopped");

      const stopping = await newTask();
      const third = await claimTask(stopping);
      await ok2("StopFineTuningTask", { taskId: stopping });
      assert.match(await refused("PauseFineTuningTask", stopping), /is being stopped/);
      await cancelRun(db(), third, "stopped", settleEndedRun);
    });

    test("a pause outlives a drain, a cluster requeue, a retried failure and an expired lease: each ends Paused", async () => {
      const hand = async (how: (lease: Lease) => Promise<unknown>, owner: string, leaseMs = 60_000) => {
        const taskId = await newTask();
        const lease = await claimTask(taskId, owner, leaseMs);
        await addCheckpoints(server, taskId, [{ step: 6 }]);
        await ok2("PauseFineTuningTask", { taskId });
        await how(lease);
        const row = (await runRow(server, taskId))!;
        assert.equal(row.status, "Paused", owner);
        assert.equal(row.pause_requested, 0);
        assert.equal(row.lease_token, null);
        const last = (await eventsOf(server, taskId)).at(-1)!;
        assert.equal(last.to_state, "Paused");
        assert.match(last.reason ?? "", /; paused at step 6$/);
        await ok2("StopFineTuningTask", { taskId });
        return row;
      };
      assert.equal((await hand((lease) => releaseRun(db(), lease, "worker w shut down"), "drain")).attempt, 0);
      assert.equal((await hand((lease) => requeueRun(db(), lease, { reason: "requeued after the Slurm time limit at step 6", step: 6, onEnded: settleEndedRun }), "slurm")).attempt, 0);
      assert.equal((await hand((lease) => failRun(db(), lease, { kind: "system", reason: "runtime killed", backoffMs: 60_000, onEnded: settleEndedRun }), "crash")).attempt, 1);
      await hand(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const reaped = await requeueExpired(db(), "reaper", { onEnded: settleEndedRun });
        assert.ok(reaped.some((r) => r.to === "Paused"), JSON.stringify(reaped));
      }, "expired", 1);
    });
  });
}

// The real worker and runtime: SQLite is enough (the statements are checked on both dialects above).
describe("pause and resume with a real worker and runtime (sqlite)", { skip: !testDialects().includes("sqlite") }, () => {
  let server: TestServer;
  let newTask: (hyper?: Record<string, unknown>) => Promise<string>;
  const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);

  before(async () => {
    server = await startTestServer("sqlite");
    newTask = await setUp(server);
  });
  after(async () => { await server.close(); });

  test("pause while Running: checkpoint saved, Paused, no lease, the slot trains another task; resumed, it finishes from that step", async () => {
    const taskId = await newTask({ epoch: 12, saveStep: 5, checkpointCount: 2 });
    const worker = await startTestWorker(server);
    try {
      await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 60_000);
      assert.equal(await ok2("PauseFineTuningTask", { taskId }), true);
      const paused = await waitForTask(server, taskId, (t) => t.runStatus !== "Running", 20_000);
      assert.equal(paused.runStatus, "Paused", JSON.stringify(paused));
      const row = (await runRow(server, taskId))!;
      assert.equal(row.lease_owner, null);
      assert.equal(row.attempt, 0, "the pause spent no attempt");
      const pausedAt = Math.max(...paused.checkpointList.map((c: any) => c.step as number));
      const last = (await eventsOf(server, taskId)).at(-1)!;
      assert.deepEqual([last.from_state, last.to_state, last.reason, last.actor], ["Running", "Paused", `paused at step ${pausedAt}`, "test-worker"]);
      const found = spawnSync("pgrep", ["-f", `sailfin_runtime finetune --spec .*${taskId}`], { encoding: "utf8" });
      assert.equal(found.stdout.trim(), "", "the runtime process is gone");

      // The worker's one training slot is free: another task is claimed and finishes meanwhile.
      const other = await newTask({ epoch: 1 });
      const otherDone = await waitForTask(server, other, (t) => !["Waiting", "Running"].includes(t.runStatus), 60_000);
      assert.equal(otherDone.runStatus, "Done", JSON.stringify(otherDone));
      assert.equal((await ok2("DescribeFineTuningTask", { taskId })).runStatus, "Paused");

      // Resumed through the SDK: it continues from the checkpoint it saved when paused.
      await new SailfinClient({ baseUrl: server.url, ...ADMIN }).tasks.resume({ taskId });
      const done = await waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 90_000);
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      assert.equal((await runRow(server, taskId))!.attempt, 1);
      const spec = JSON.parse(readFileSync(join(server.server.res.files.root, "runs", taskId, "spec.attempt-1.json"), "utf8"));
      assert.ok(String(spec.resumeFrom).endsWith(`step_${String(pausedAt).padStart(6, "0")}`), String(spec.resumeFrom));
      const metrics = (await ok2("DescribeFineTuningTaskMetrics", { taskId })).metrics as any[];
      const steps = metrics.filter((m) => m.loss !== null).map((m) => m.step as number);
      assert.ok(steps.length > pausedAt, `${steps.length} steps`);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once, continuous across the pause");
      const checkpointSteps: number[] = done.checkpointList.map((c: any) => c.step);
      assert.deepEqual(checkpointSteps, [...new Set(checkpointSteps)].sort((a, b) => a - b));
      assert.deepEqual((await eventsOf(server, taskId)).map((e) => e.to_state), ["Queued", "Running", "Running", "Paused", "Queued", "Running", "Succeeded"]);
    } finally {
      await worker.stop();
    }
  });

  test("`sailfin tasks pause|resume TASK`", async () => {
    const taskId = await newTask();
    const env = {
      QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey,
      SAILFIN_CONFIG: join(server.home, "cli-config.json"), SAILFIN_PROFILE: "",
    };
    const paused = await runCli(["tasks", "pause", taskId], env);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout.trim(), `paused ${taskId}`);
    const resumed = await runCli(["tasks", "resume", taskId], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout.trim(), `resumed ${taskId} (Waiting)`);
    const again = await runCli(["tasks", "resume", taskId], env);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /not paused/);
    await ok2("StopFineTuningTask", { taskId });
  });
});
