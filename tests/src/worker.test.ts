import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Worker } from "@sailfin/worker";
import { startTestServer, testArtifacts, testAxes, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { eventsOf, runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { SAILFIN_BIN, startServeProcess, stopProcess } from "./cli-process.js";
import { TEST_LEASE_MS, learnableLines, startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * The worker end to end: a real server, a real worker (in-process, or the `sailfin worker`
 * executable), the real Python runtime training a tiny model (hidden 32, 2 layers) on a tiny
 * dataset. Each run is capped at a few dozen steps so it takes seconds.
 */

const MODEL = "tiny-worker";

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

// Not about the store: run once, on the local axis.
test("`sailfin serve` embeds a worker; `--no-worker` leaves it out", { skip: !testArtifacts().includes("local") }, async () => {
  for (const [flags, expected] of [[[], true], [["--no-worker"], false]] as const) {
    const home = mkdtempSync(join(tmpdir(), "sailfin-serve-worker-"));
    const serve = await startServeProcess(["--port", "0", "--home", home, ...flags], { SAILFIN_ACCESS_KEY: "", SAILFIN_SECRET_KEY: "", DATABASE_URL: "" });
    try {
      assert.equal(/sailfin worker \S+ started/.test(serve.output()), expected, serve.output());
    } finally {
      assert.equal(await stopProcess(serve.child), 0);
      rmSync(home, { recursive: true, force: true });
    }
  }
});

/** SIGKILL (a crash, as the OOM killer does it) or another signal to the runtime process training `taskId`. */
function killRuntimeOf(taskId: string, signal: NodeJS.Signals = "SIGKILL"): void {
  const found = spawnSync("pgrep", ["-f", `sailfin_runtime finetune --spec .*${taskId}`], { encoding: "utf8" });
  const pids = found.stdout.split("\n").filter(Boolean).map(Number);
  assert.ok(pids.length >= 1, `no runtime process for ${taskId}`);
  for (const pid of pids) process.kill(pid, signal);
}

/** The real `sailfin worker` executable on the test server's home (or `own`), database and artifact store. */
function startWorkerProcess(server: TestServer, dialect: string, own: Record<string, string> = {}): ChildProcess {
  const env: Record<string, string | undefined> = {
    ...process.env, SAILFIN_HOME: server.home, SAILFIN_LEASE_MS: String(TEST_LEASE_MS), SAILFIN_POLL_MS: "100", SAILFIN_LOG_LEVEL: "silent",
    ...server.artifactsEnv, ...own,
  };
  if (dialect === "postgres") env.DATABASE_URL = server.databaseUrl;
  else delete env.DATABASE_URL;
  return spawn(process.execPath, [SAILFIN_BIN, "worker"], { env, stdio: "ignore" });
}

for (const { dialect, artifacts, label } of testAxes()) {
  describe(`worker (${label})`, () => {
    let server: TestServer;
    let versionId = "";
    let worker: Worker | null = null;

    const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);
    const newTask = async (hyper: Record<string, unknown>, parameterScale = "LoRA") => {
      const { jobId } = await ok2("CreateFineTuningJob", { name: "wjob", model: MODEL, trainMode: "SFT" });
      const { taskId } = await ok2("CreateFineTuningTask", {
        jobId, parameterScale,
        hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, ...hyper },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
      });
      return taskId as string;
    };
    const metricSteps = async (taskId: string) =>
      ((await ok2("DescribeFineTuningTaskMetrics", { taskId })).metrics as any[]).filter((m) => m.loss !== null).map((m) => m.step as number);
    const withWorker = async <T>(fn: () => Promise<T>): Promise<T> => {
      worker = await startTestWorker(server);
      try { return await fn(); } finally { await worker.stop(); worker = null; }
    };

    before(async () => {
      server = await startTestServer(dialect, {}, artifacts);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
      versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(40) })).versionId;
    });
    after(async () => {
      await worker?.stop();
      await server.close();
    });

    let doneTaskId = "";
    test("a task goes Waiting → Running → Done with checkpoints, decreasing loss and the metric series", async () => {
      // gradientCheckpointing reaches the runtime's spec (runtime/tests/test_training.py checks it checkpoints every layer).
      const taskId = await newTask({ epoch: 8, saveStep: 10, checkpointCount: 2, gradientCheckpointing: "True" });
      assert.equal((await ok2("DescribeFineTuningTask", { taskId })).runStatus, "Waiting");
      const done = await withWorker(async () => {
        const running = await waitForTask(server, taskId, (t) => t.runStatus !== "Waiting");
        assert.ok(["Running", "Done"].includes(running.runStatus), JSON.stringify(running));
        if (running.runStatus === "Running") assert.match(running.runProgress, /^\d{1,2}%$/);
        return waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus));
      });
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      assert.equal(done.runProgress, undefined);
      assert.ok(done.checkpointList.length >= 1 && done.checkpointList.length <= 2, JSON.stringify(done.checkpointList));
      for (const c of done.checkpointList) {
        assert.ok(Number.isInteger(c.step) && c.step > 0);
        assert.equal(typeof c.trainingLoss, "number");
      }
      const last = done.checkpointList.at(-1);
      assert.ok(last.perplexity === null || last.perplexity > 1);
      const series = await ok2("DescribeFineTuningTaskMetrics", { taskId });
      assert.equal(series.taskId, taskId);
      const losses = (series.metrics as any[]).filter((m) => m.loss !== null);
      assert.ok(losses.length >= 10, `few metric points: ${losses.length}`);
      const steps = losses.map((m) => m.step);
      assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), "each step once, in order");
      const mean = (xs: any[]) => xs.reduce((s, m) => s + m.loss, 0) / xs.length;
      assert.ok(mean(losses.slice(-3)) < mean(losses.slice(0, 3)), `loss did not decrease: ${losses.map((m) => m.loss.toFixed(3)).join(" ")}`);
      assert.ok(losses.every((m) => typeof m.lr === "number" && typeof m.tokensPerSecond === "number"));
      const since = await ok2("DescribeFineTuningTaskMetrics", { taskId, sinceStep: steps.at(-2) });
      assert.deepEqual(since.metrics.filter((m: any) => m.loss !== null).map((m: any) => m.step), [steps.at(-1)]);
      // V1 jobDetail of the same run.
      const row = (await runRow(server, taskId))!;
      const job = await server.server.res.db.selectFrom("finetune_jobs").select("num").where("num", "=", row.job_num).executeTakeFirstOrThrow();
      const v1 = await v1Raw(server, "/wenxinworkshop/finetune/jobDetail", { taskId: job.num, jobId: row.num });
      assert.equal(v1.body.result.trainStatus, "FINISH", v1.text);
      assert.equal(v1.body.result.progress, 100);
      assert.match(v1.body.result.finishTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const events = await eventsOf(server, taskId);
      assert.deepEqual(events.map((e) => e.to_state), ["Queued", "Running", "Succeeded"], JSON.stringify(events));
      assert.equal(events[1]!.actor, "test-worker");
      const spec = JSON.parse(readFileSync(join(server.server.res.files.root, "runs", taskId, "spec.attempt-1.json"), "utf8"));
      assert.equal(spec.hyper.gradientCheckpointing, true);
      doneTaskId = taskId;
    });

    test("incremental training starts from the named checkpoint (initCheckpoint)", async () => {
      const base = await ok2("DescribeFineTuningTask", { taskId: doneTaskId });
      const step = base.checkpointList.at(-1).step;
      const { jobId } = await ok2("CreateFineTuningJob", { name: "incr", model: MODEL, trainMode: "SFT" });
      const { taskId } = await ok2("CreateFineTuningTask", {
        jobId, parameterScale: "LoRA", incrementTaskId: doneTaskId, incrementCheckpointStep: step,
        hyperParameterConfig: { maxSeqLen: 128, batchSize: 4, epoch: 1, learningRate: 0.01 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
      });
      const done = await withWorker(() => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus)));
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      const spec = JSON.parse(readFileSync(join(server.server.res.files.root, "runs", taskId, "spec.attempt-1.json"), "utf8"));
      assert.ok(String(spec.initCheckpoint).endsWith(`step_${String(step).padStart(6, "0")}`), spec.initCheckpoint);
      // Starting from the trained adapter, the first loss is already below the base run's first.
      const first = (await ok2("DescribeFineTuningTaskMetrics", { taskId })).metrics[0].loss;
      const baseFirst = (await ok2("DescribeFineTuningTaskMetrics", { taskId: doneTaskId })).metrics[0].loss;
      assert.ok(first < baseFirst, `incremental first loss ${first} vs base ${baseFirst}`);
    });

    test("SIGTERM to a standalone worker drains: the runtime checkpoints, the run goes back to the queue unspent", async () => {
      const taskId = await newTask({ epoch: 50, saveStep: 1000, checkpointCount: 1 });
      const child = startWorkerProcess(server, dialect);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      try {
        await waitForTask(server, taskId, (t) => t.runStatus === "Running" && parseInt(t.runProgress, 10) >= 1, 60_000);
        child.kill("SIGTERM");
        assert.equal(await Promise.race([exited, sleep(20_000).then(() => "timeout")]), 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      const row = (await runRow(server, taskId))!;
      assert.equal(row.status, "Queued");
      assert.equal(row.attempt, 0, "a drain does not spend an attempt");
      const checkpoints = await server.server.res.db.selectFrom("run_checkpoints").select("step").where("run_num", "=", row.num).execute();
      assert.equal(checkpoints.length, 1, "the runtime saved a checkpoint on SIGTERM");
      assert.equal((await eventsOf(server, taskId)).at(-1)!.to_state, "Queued");
      assert.equal(await ok2("StopFineTuningTask", { taskId }), true);
      assert.equal((await ok2("DescribeFineTuningTask", { taskId })).runStatus, "Stopped");
    });

    test("DescribeFineTuningTaskMetrics refuses bad input naming the field", async () => {
      const bad = await v2Raw(server, "finetuning", "DescribeFineTuningTaskMetrics", { taskId: doneTaskId, sinceStep: -1 });
      assert.equal(bad.status, 400, bad.text);
      assert.ok(bad.body.message.includes("sinceStep"), bad.text);
      const missing = await v2Raw(server, "finetuning", "DescribeFineTuningTaskMetrics", { taskId: "task-nope00000000" });
      assert.equal(missing.status, 400, missing.text);
      assert.ok(missing.body.message.includes("param[taskId]"), missing.text);
    });

    test("publish: V1 publishTrainModel exports the LoRA-merged model, Ready with lineage; it is a base model that trains", async () => {
      const row = (await runRow(server, doneTaskId))!;
      const published = await v1Raw(server, "/wenxinworkshop/modelrepo/publishTrainModel", {
        isNewModel: true, modelName: "merged", versionMeta: { taskId: row.job_num, iterationId: row.num },
      });
      assert.equal(published.body.error_code, undefined, published.text);
      const versionIdStr: string = published.body.result.versionIdStr;
      const creating = await server.admin.v2<any>("model", "DescribeModel", { modelId: versionIdStr });
      assert.equal(creating.status, "Creating");
      const ready = await withWorker(async () => {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
          const v = await server.admin.v2<any>("model", "DescribeModel", { modelId: versionIdStr });
          if (v.status !== "Creating") return v;
        }
        throw new Error("publish did not finish");
      });
      assert.equal(ready.status, "Ready", JSON.stringify(ready));
      const detail = await v1Raw(server, "/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: versionIdStr });
      const extra = detail.body.result.sourceExtra;
      assert.equal(extra.sourceType, "Train", detail.text);
      assert.equal(extra.trainSourceExtra.runIdStr, doneTaskId);
      assert.equal(extra.trainSourceExtra.taskId, row.job_num);
      assert.equal(extra.trainSourceExtra.iterationVersion, 1, "the publish row does not count as a run of the job");
      assert.equal(detail.body.result.state, "Ready");
      // A complete Hugging Face folder: merged weights, config and tokenizer.
      const files = (await server.server.res.artifacts.list(`models/${versionIdStr}/`)).map((o) => o.key.split("/").at(-1)!);
      for (const name of ["config.json", "model.safetensors", "tokenizer.json"]) assert.ok(files.includes(name), files.join(","));
      assert.ok(!files.some((f) => f.startsWith("adapter_")), "merged, not an adapter");
      // …and the published version is itself a base model: listed, and it trains.
      const support: any[] = await ok2("DescribeFineTuningSupportModels", {});
      assert.ok(support.some((m) => m.model === "merged"), JSON.stringify(support.map((m) => m.model)));
      const { jobId } = await ok2("CreateFineTuningJob", { name: "again", model: "merged", trainMode: "SFT" });
      const { taskId } = await ok2("CreateFineTuningTask", {
        jobId, parameterScale: "FullFineTuning", hyperParameterConfig: { maxSeqLen: 128, batchSize: 4, epoch: 1 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
      });
      const again = await withWorker(() => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus)));
      assert.equal(again.runStatus, "Done", JSON.stringify(again));
      const publishEvents = await eventsOf(server, `publish-${versionIdStr}`);
      assert.deepEqual(publishEvents.map((e) => e.to_state), ["Queued", "Running", "Succeeded"]);
    });

    test("publish of a checkpoint whose files are gone: the version turns Fail with the reason", async () => {
      const setId = await server.admin.v2<string>("model", "CreateCustomModelSet", { modelSetName: "broken-publish", modelType: "Text2Text" });
      const created = await server.admin.v2<any>("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Train", trainMeta: { taskId: doneTaskId } });
      assert.equal(created.status, "Creating");
      const queued = (await runRow(server, `publish-${created.modelId}`))!;
      const checkpoint = JSON.parse(queued.spec).checkpointPath as string;
      // Gone from the store and from this node's staged copy.
      await server.server.res.artifacts.delete(checkpoint);
      rmSync(join(server.server.res.files.root, ...checkpoint.replace(/\/$/, "").split("/")), { recursive: true, force: true });
      const failed = await withWorker(async () => {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
          const v = await server.admin.v2<any>("model", "DescribeModel", { modelId: created.modelId });
          if (v.status !== "Creating") return v;
        }
        throw new Error("publish did not finish");
      });
      assert.equal(failed.status, "Fail", JSON.stringify(failed));
      const row = await server.server.res.db.selectFrom("model_versions").select(["fail_reason"]).where("id", "=", created.modelId).executeTakeFirstOrThrow();
      assert.ok((row.fail_reason ?? "").includes("checkpoint"), row.fail_reason ?? "");
      const run = (await runRow(server, `publish-${created.modelId}`))!;
      assert.equal(run.status, "Failed");
      assert.equal(run.failure_kind, "user");
    });

    test("StopFineTuningTask stops a running process within seconds and keeps its last checkpoint", async () => {
      const taskId = await newTask({ epoch: 50, saveStep: 1000, checkpointCount: 1 });
      await withWorker(async () => {
        await waitForTask(server, taskId, (t) => t.runStatus === "Running" && parseInt(t.runProgress, 10) >= 1);
        const asked = Date.now();
        assert.equal(await ok2("StopFineTuningTask", { taskId }), true);
        const stopped = await waitForTask(server, taskId, (t) => t.runStatus !== "Running", 15_000);
        assert.equal(stopped.runStatus, "Stopped", JSON.stringify(stopped));
        assert.ok(Date.now() - asked < 10_000, `took ${Date.now() - asked} ms`);
        assert.equal(stopped.checkpointList.length, 1, "the runtime saved a checkpoint on SIGTERM");
        assert.ok(stopped.checkpointList[0].step < 1000);
      });
      const events = await eventsOf(server, taskId);
      assert.equal(events.at(-1)!.to_state, "Cancelled");
    });

    test("a runtime user error fails the task at once with the reason, without a retry", async () => {
      const taskId = await newTask({ epoch: 1 });
      // Stands in for an input only the runtime can refuse: its own spec validation.
      const row = (await runRow(server, taskId))!;
      const spec = JSON.parse(row.spec);
      spec.hyperParameters.schedulerName = "zigzag";
      await server.server.res.db.updateTable("runs").set({ spec: JSON.stringify(spec) }).where("id", "=", taskId).execute();
      const failed = await withWorker(() => waitForTask(server, taskId, (t) => t.runStatus === "Failed", 30_000));
      assert.equal(failed.failureKind, "user");
      assert.ok(failed.failureReason.includes("schedulerName"), failed.failureReason);
      assert.equal((await runRow(server, taskId))!.attempt, 1);
    });

    test("a crashed runtime is retried and resumes from its last checkpoint", async () => {
      const taskId = await newTask({ epoch: 8, saveStep: 8, checkpointCount: 2 });
      const done = await withWorker(async () => {
        await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1);
        killRuntimeOf(taskId);
        return waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 60_000);
      });
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      const row = (await runRow(server, taskId))!;
      assert.equal(row.attempt, 2);
      const events = await eventsOf(server, taskId);
      assert.ok(events.some((e) => e.from_state === "Running" && e.to_state === "Queued" && (e.reason ?? "").includes("system error")), JSON.stringify(events));
      const steps = await metricSteps(taskId);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once");
    });

    if (artifacts === "s3") {
      test("no shared disk: a worker on a folder of its own resumes another's run from the store's checkpoint, and publishes", async () => {
        // Each worker process has a work folder of its own; on PostgreSQL a whole home of its own.
        // (A SQLite worker shares the home's database file, which stands in for the database server.)
        const node = (name: string) => {
          const dir = mkdtempSync(join(tmpdir(), `sailfin-node-${name}-`));
          const env: Record<string, string> = dialect === "postgres" ? { SAILFIN_HOME: dir } : { SAILFIN_WORK_DIR: join(dir, "work") };
          return { dir, work: join(dir, "work"), env };
        };
        const a = node("a");
        const b = node("b");
        const taskId = await newTask({ epoch: 8, saveStep: 8, checkpointCount: 2 });
        const first = startWorkerProcess(server, dialect, a.env);
        try {
          await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 60_000);
        } finally {
          first.kill("SIGKILL");
        }
        const second = startWorkerProcess(server, dialect, b.env);
        try {
          const done = await waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 90_000);
          assert.equal(done.runStatus, "Done", JSON.stringify(done));
          const row = (await runRow(server, taskId))!;
          assert.equal(row.attempt, 2);
          const steps = await metricSteps(taskId);
          assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once");
          // The second attempt resumed from the first's checkpoint, downloaded into its own folder.
          const spec = JSON.parse(readFileSync(join(b.work, "runs", taskId, "spec.attempt-2.json"), "utf8"));
          assert.ok(String(spec.resumeFrom).startsWith(join(b.work, "runs", taskId, "checkpoints")), String(spec.resumeFrom));
          const rows = await server.server.res.db.selectFrom("run_checkpoints").select("path").where("run_num", "=", row.num).execute();
          const stored = (await server.server.res.artifacts.list(`runs/${taskId}/checkpoints/`)).map((o) => o.key);
          for (const { path } of rows) assert.ok(stored.some((key) => key.startsWith(path)), `${path} is in the store`);
          assert.ok(stored.every((key) => rows.some((r) => key.startsWith(r.path))), `pruned checkpoints left the store: ${stored.join(",")}`);

          const published = await v1Raw(server, "/wenxinworkshop/modelrepo/publishTrainModel", {
            isNewModel: true, modelName: "far-away", versionMeta: { taskId: row.job_num, iterationId: row.num },
          });
          assert.equal(published.body.error_code, undefined, published.text);
          const modelId: string = published.body.result.versionIdStr;
          let version: any;
          for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
            version = await server.admin.v2<any>("model", "DescribeModel", { modelId });
            if (version.status !== "Creating") break;
          }
          assert.equal(version.status, "Ready", JSON.stringify(version));
          const files = (await server.server.res.artifacts.list(`models/${modelId}/`)).map((o) => o.key.split("/").at(-1)!);
          for (const name of ["config.json", "model.safetensors", "tokenizer.json"]) assert.ok(files.includes(name), files.join(","));
        } finally {
          await stopProcess(second);
          rmSync(a.dir, { recursive: true, force: true });
          rmSync(b.dir, { recursive: true, force: true });
        }
        // The server's home holds no artifact: the store is the only place they meet.
        for (const name of ["models", "datasets", "runs", "token-cache", "buckets"]) assert.ok(!existsSync(join(server.home, name)), `${name} in SAILFIN_HOME`);
      });
    }

    test("a TERM from outside the worker (not a Stop): the runtime checkpoints, the run is requeued without spending an attempt and resumes to Done", async () => {
      const taskId = await newTask({ epoch: 8, saveStep: 1000, checkpointCount: 1 });
      const done = await withWorker(async () => {
        await waitForTask(server, taskId, (t) => t.runStatus === "Running" && parseInt(t.runProgress, 10) >= 5);
        killRuntimeOf(taskId, "SIGTERM");
        return waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 60_000);
      });
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      assert.equal((await runRow(server, taskId))!.attempt, 1, "the requeue spent no attempt");
      const requeues = (await eventsOf(server, taskId)).filter((e) => e.from_state === "Running" && e.to_state === "Queued");
      assert.equal(requeues.length, 1, JSON.stringify(requeues));
      assert.match(requeues[0]!.reason ?? "", /^requeued after a stop from outside the worker at step (\d+) \[resumes from step \1\]$/);
      const steps = await metricSteps(taskId);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once");
    });

    // On S3 the no-shared-disk test above does the same with a worker on a folder of its own.
    test("kill -9 of a standalone `sailfin worker` mid-training: the lease expires, another worker finishes it", { skip: artifacts === "s3" }, async () => {
      const taskId = await newTask({ epoch: 8, saveStep: 8, checkpointCount: 2 });
      const child = startWorkerProcess(server, dialect);
      try {
        await waitForTask(server, taskId, (t) => t.runStatus === "Running" && t.checkpointList.length >= 1, 60_000);
        child.kill("SIGKILL");
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      const killedAt = (await runRow(server, taskId))!;
      assert.equal(killedAt.status, "Running");
      assert.notEqual(killedAt.lease_owner, "test-worker");
      const done = await withWorker(() => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 60_000));
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      const steps = await metricSteps(taskId);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), "each step recorded once");
      const checkpointSteps: number[] = done.checkpointList.map((c: any) => c.step);
      assert.deepEqual(checkpointSteps, [...new Set(checkpointSteps)].sort((a, b) => a - b));
      const events = await eventsOf(server, taskId);
      assert.ok(events.some((e) => e.from_state === "Running" && e.to_state === "Queued" && (e.reason ?? "").includes("lease")), JSON.stringify(events));
      assert.equal(events.at(-1)!.actor, "test-worker");
    });
  });
}
