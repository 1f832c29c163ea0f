import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import * as engine from "@sailfin/engine";
import { LocalExecutor, Worker, findPython, type Worker as WorkerType } from "@sailfin/worker";
import { startTestServer, testDialects, v1Raw, v2Ok, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { SAILFIN_BIN, stopProcess } from "./cli-process.js";
import { TEST_LEASE_MS, learnableLines, startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * Issue 11: a server must not accept silently what nobody will run. Workers announce themselves
 * (the `workers` table); a queued task's describe says why it waits while no live worker takes
 * its kind; `sailfin serve` says so on stderr; the quickstart stops at once without torch.
 */

const MODEL = "tiny-presence";

let tiny: TinyModelFolders;
let scratch: string;
/** A real Python interpreter that cannot import torch: Debian's, without its site packages. */
let noTorchPython: string;
before(async () => {
  tiny = await writeTinyModels({ llama: TINY });
  scratch = mkdtempSync(join(tmpdir(), "sailfin-presence-"));
  noTorchPython = join(scratch, "python3");
  writeFileSync(noTorchPython, "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n");
  chmodSync(noTorchPython, 0o755);
});
after(async () => {
  await tiny.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** `sailfin serve` on `home` (and `databaseUrl`), stdout and stderr kept apart. */
function serveProcess(args: string[], env: Record<string, string | undefined>): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [SAILFIN_BIN, "serve", "--port", "0", ...args], {
    env: { ...process.env, SAILFIN_LOG_LEVEL: "silent", ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/**
 * scripts/quickstart.mjs with `env`; after `killAfterMs` its whole process group (the server it
 * started included) is killed, so a quickstart that would wait forever fails the test instead.
 */
function runQuickstart(env: NodeJS.ProcessEnv, killAfterMs: number): Promise<{ code: number | null; output: string }> {
  const script = fileURLToPath(new URL("../../scripts/quickstart.mjs", import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), killAfterMs);
    child.on("close", (code) => { clearTimeout(timer); resolve({ code, output: `${output}${code === null ? `\n(killed after ${killAfterMs} ms)` : ""}` }); });
  });
}

async function until(what: string, check: () => boolean, timeoutMs: number, show: () => string): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms:\n${show()}`);
  }
}

test("quickstart stops within seconds, before starting a server, with the command when no torch is found", async () => {
  const home = join(scratch, "quickstart-home");
  const started = Date.now();
  const { code, output } = await runQuickstart({ ...process.env, SAILFIN_HOME: home, SAILFIN_PORT: "0", SAILFIN_PYTHON: noTorchPython }, 60_000);
  assert.equal(code, 1, output);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  assert.match(output, new RegExp(`SAILFIN_PYTHON=${noTorchPython} cannot import torch`));
  assert.match(output, /No module named 'torch'/);
  assert.match(output, /setup-runtime-deps\.sh/);
  // The runtime check is the only step it took: no server, no model, no upload.
  assert.deepEqual([...output.matchAll(/^==> (.*)$/gm)].map((m) => m[1]), ["checking the training runtime (Python with PyTorch)"], output);
  assert.doesNotMatch(output, /sailfin listening/);
});

test("npm run quickstart checks the runtime before its build: without torch it stops within seconds, having built nothing", async () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.quickstart!, /^node scripts\/check-runtime\.mjs && npm run build && /);
  const script = fileURLToPath(new URL("../../scripts/check-runtime.mjs", import.meta.url));
  const started = Date.now();
  const run = spawnSync(process.execPath, [script], { env: { ...process.env, SAILFIN_PYTHON: noTorchPython }, encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  assert.match(run.stderr, new RegExp(`^quickstart: cannot train on this machine yet: SAILFIN_PYTHON=${noTorchPython} cannot import torch`, "m"));
  assert.match(run.stderr, /setup-runtime-deps\.sh/);
  const ok = spawnSync(process.execPath, [script], { env: { ...process.env, SAILFIN_PYTHON: "/usr/bin/python3" }, encoding: "utf8", timeout: 60_000 });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^using \/usr\/bin\/python3$/m);
});

test("quickstart stops with the reason, not after 15 minutes, when its server's worker runs no fine-tuning", { timeout: 200_000 }, async () => {
  const home = join(scratch, "quickstart-kinds-home");
  const env: NodeJS.ProcessEnv = { ...process.env, SAILFIN_HOME: home, SAILFIN_PORT: "0", SAILFIN_WORKER_KINDS: "evaluate" };
  for (const name of ["SAILFIN_ACCESS_KEY", "SAILFIN_SECRET_KEY", "DATABASE_URL"]) delete env[name];
  const { code, output } = await runQuickstart(env, 150_000);
  assert.equal(code, 1, output);
  assert.match(output, /^quickstart: the fine-tuning task cannot start: no online worker runs fine-tuning tasks \(1 online, running evaluation\)$/m);
});

test("`sailfin serve` without torch warns on stderr, naming the fix", async () => {
  const home = join(scratch, "serve-home");
  const serve = serveProcess(["--home", home], { SAILFIN_PYTHON: noTorchPython, SAILFIN_ACCESS_KEY: "", SAILFIN_SECRET_KEY: "", DATABASE_URL: "" });
  try {
    await until("listening", () => /sailfin listening on/.test(serve.stdout()), 30_000, () => serve.stdout() + serve.stderr());
    assert.match(serve.stderr(), /sailfin: warning: no embedded worker, so queued tasks will not run: .*No module named 'torch'.*sudo bash \S*setup-runtime-deps\.sh/);
    assert.doesNotMatch(serve.stdout(), /warning/);
  } finally {
    assert.equal(await stopProcess(serve.child), 0);
  }
});

for (const dialect of testDialects()) {
  describe(`worker presence and waitingReason (${dialect})`, () => {
    let server: TestServer;
    let versionId = "";
    let baseModelId = "";
    let worker: WorkerType | null = null;

    const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);
    const describeTask = (taskId: string) => ok2("DescribeFineTuningTask", { taskId });
    const jobDetail = async (taskId: string) => {
      const row = (await runRow(server, taskId))!;
      const r = await v1Raw(server, "/wenxinworkshop/finetune/jobDetail", { taskId: row.job_num, jobId: row.num });
      assert.equal(r.body.error_code, undefined, r.text);
      return r.body.result;
    };

    before(async () => {
      server = await startTestServer(dialect);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      baseModelId = (await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" })).versionId;
      versionId = (await releasedDataset(server, { name: "presence", format: "PromptResponse", lines: learnableLines(16) })).versionId;
    });
    after(async () => {
      await worker?.stop();
      await server.close();
    });

    let taskId = "";
    let jobId = "";
    test("a queued task on a server without a worker says `no worker online` (V2 and V1), only in the describe", async () => {
      ({ jobId } = await ok2("CreateFineTuningJob", { name: "presence", model: MODEL, trainMode: "SFT" }));
      ({ taskId } = await ok2("CreateFineTuningTask", {
        jobId, parameterScale: "LoRA",
        hyperParameterConfig: { maxSeqLen: 128, batchSize: 2, epoch: 50, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
      }));
      const task = await describeTask(taskId);
      assert.equal(task.runStatus, "Waiting");
      assert.equal(task.waitingReason, "no worker online");
      assert.equal((await jobDetail(taskId)).waitingReason, "no worker online");
      const list = await ok2("DescribeFineTuningTasks", { jobId });
      assert.equal(list.taskList[0].taskId, taskId);
      assert.equal("waitingReason" in list.taskList[0], false, "lists do not pay the query");
    });

    test("a worker that runs other kinds only: `no online worker runs fine-tuning tasks`; gone again when it stops", async () => {
      const other = new Worker({
        res: server.server.res, executor: new LocalExecutor({ python: await findPython() }), id: "eval-only", kinds: ["evaluate"], leaseMs: TEST_LEASE_MS, pollMs: 100,
      });
      await other.start();
      try {
        assert.deepEqual(other.kinds, ["evaluate"]);
        assert.equal((await describeTask(taskId)).waitingReason, "no online worker runs fine-tuning tasks (1 online, running evaluation)");
      } finally {
        await other.stop();
      }
      assert.equal((await describeTask(taskId)).waitingReason, "no worker online", "a clean shutdown withdraws at once");
    });

    test("a worker that stopped heartbeating (killed) counts as gone once its row expires", async () => {
      await engine.announceWorker(server.server.res.db, { id: "killed-worker", kinds: ["finetune"], ttlMs: 300 });
      assert.equal((await describeTask(taskId)).waitingReason, undefined, "alive: it will take the task");
      await sleep(400);
      assert.equal((await describeTask(taskId)).waitingReason, "no worker online");
    });

    test("the reason disappears once a worker starts and claims the task; a drained worker leaves it waiting again", async () => {
      worker = await startTestWorker(server, "presence-worker");
      const running = await waitForTask(server, taskId, (t) => t.runStatus !== "Waiting", 60_000);
      assert.equal(running.runStatus, "Running", JSON.stringify(running));
      assert.equal(running.waitingReason, undefined);
      assert.equal((await jobDetail(taskId)).waitingReason, undefined);
      await worker.stop();
      worker = null;
      const back = await describeTask(taskId);
      assert.equal(back.runStatus, "Waiting", "the drain handed the run back");
      assert.equal(back.waitingReason, "no worker online");
    });

    test("`sailfin serve --no-worker` on the same database warns on stderr about the queued task", async () => {
      const env: Record<string, string | undefined> = { SAILFIN_ACCESS_KEY: "", SAILFIN_SECRET_KEY: "", DATABASE_URL: server.databaseUrl ?? "" };
      const serve = serveProcess(["--home", server.home, "--no-worker"], env);
      try {
        await until("the warning", () => /queued fine-tuning task/.test(serve.stderr()), 30_000, () => serve.stdout() + serve.stderr());
        assert.match(serve.stderr(), /sailfin: warning: 1 queued fine-tuning task cannot start \(no worker online\); start a worker with `sailfin worker`/);
        assert.doesNotMatch(serve.stdout(), /warning/);
      } finally {
        assert.equal(await stopProcess(serve.child), 0);
      }
      assert.equal(await ok2("StopFineTuningTask", { taskId }), true);
      assert.equal((await describeTask(taskId)).waitingReason, undefined, "only queued tasks wait");
    });

    test("compression and evaluation details say why they wait too (V2, and V1 eval/detail)", async () => {
      const v2ok = (resource: string, action: string, body: unknown) => v2Ok(server, resource, action, body);
      const setId = await v2ok("model", "CreateCustomModelSet", { modelSetName: "presence-int8", modelType: "Text2Text" });
      const compId = await v2ok("model", "CreateModelCompTask", {
        name: "int8", sourceModelId: baseModelId, modelSetId: setId, config: { strategy: "Quantization", weight: "W8A16C16" },
      });
      const evalId = await v2ok("eval", "CreateEvalTask", {
        taskName: "presence", evalObjectType: "model",
        evalObjectConfig: { evalModelConfig: { versionId, evalModelConfigList: [{ modelId: baseModelId, promptTemplate: "{input}" }] } },
        evalConfig: { evalMode: "rule" },
      });
      const comp = () => v2ok("model", "DescribeModelCompTask", { modelCompTaskId: compId });
      const evaluation = () => v2ok("eval", "DescribeEvalTask", { taskId: evalId });
      const v1Eval = async () => (await v1Raw(server, "/wenxinworkshop/modelrepo/eval/detail", { id: evalId })).body.result;
      assert.equal((await comp()).status, "creating");
      assert.equal((await comp()).waitingReason, "no worker online");
      assert.equal((await evaluation()).state, "Queued");
      assert.equal((await evaluation()).waitingReason, "no worker online");
      assert.equal((await v1Eval()).waitingReason, "no worker online");
      const trainer = new Worker({
        res: server.server.res, executor: new LocalExecutor({ python: await findPython() }), id: "train-only", kinds: ["finetune"], leaseMs: TEST_LEASE_MS, pollMs: 100,
      });
      await trainer.start();
      try {
        assert.equal((await comp()).waitingReason, "no online worker runs compression tasks (1 online, running fine-tuning)");
        assert.equal((await evaluation()).waitingReason, "no online worker runs evaluation tasks (1 online, running fine-tuning)");
      } finally {
        await trainer.stop();
      }
      await v2ok("model", "CancelModelCompTask", { modelCompTaskId: compId });
      await v2ok("eval", "StopEvalTask", { taskId: evalId });
      assert.equal((await comp()).waitingReason, undefined);
      assert.equal((await evaluation()).waitingReason, undefined);
    });
  });
}
