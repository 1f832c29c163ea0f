import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { announceWorker, claimRun, enqueueRun, strandedWork, withdrawWorker, type ExecRequest, type Lease } from "@sailfin/engine";
import { ConfigError, loadServerConfig } from "@sailfin/server";
import { LocalExecutor, Worker, findPython, servedPools, type WorkerPool } from "@sailfin/worker";
import { ADMIN, startTestServer, testDialects, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { runRow } from "./fixtures/finetune-fixtures.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS, learnableLines, waitForTask } from "./fixtures/worker-fixtures.js";
import { SAILFIN_BIN } from "./cli-process.js";

/**
 * Resource pools (SAILFIN_POOLS): the API places a task in a pool and refuses what no pool holds,
 * naming the field (V1 and V2 envelopes); a worker claims only its pools' runs (both dialects);
 * a 2-rank task of a local pool trains to Done through the runtime's launcher with the losses of
 * 1 rank; the describe routes show where a task ran.
 */

const MODEL = "tiny-pools";
const POOLS = JSON.stringify({
  pools: [
    { id: "local", executor: "local", processesPerNode: 2 },
    { id: "solo", executor: "local", processesPerNode: 1 },
  ],
});

test("the server refuses to start on a bad SAILFIN_POOLS, naming the pool and the field", () => {
  const load = (SAILFIN_POOLS: string) => loadServerConfig({ flags: {}, env: { SAILFIN_POOLS } });
  assert.throws(() => load(JSON.stringify({ pools: [{ id: "a", executor: "local" }, { id: "b", executor: "slurm", maxNodes: 0 }] })),
    (e: unknown) => e instanceof ConfigError && /SAILFIN_POOLS: pools\[1\]\.maxNodes: must be at least 1/.test(e.message));
  assert.throws(() => load("/nonexistent/pools.json"), (e: unknown) => e instanceof ConfigError && /SAILFIN_POOLS: \/nonexistent\/pools\.json: ENOENT/.test(e.message));
  assert.deepEqual(load(POOLS).pools.pools.map((p) => p.id), ["local", "solo"]);
});

test("`sailfin worker` refuses to start on a bad SAILFIN_POOLS or an unknown SAILFIN_WORKER_POOLS, saying which", () => {
  const home = mkdtempSync(join(tmpdir(), "sailfin-pools-worker-"));
  try {
    const worker = (env: Record<string, string>) => {
      const childEnv: NodeJS.ProcessEnv = { ...process.env, SAILFIN_HOME: home, SAILFIN_LOG_LEVEL: "silent", ...env };
      delete childEnv.DATABASE_URL;
      return spawnSync(process.execPath, [SAILFIN_BIN, "worker"], { env: childEnv, encoding: "utf8", timeout: 60_000 });
    };
    const bad = worker({ SAILFIN_POOLS: JSON.stringify({ pools: [{ id: "local", executor: "local", processesPerNode: 0 }] }) });
    assert.notEqual(bad.status, 0, bad.stdout);
    assert.match(bad.stderr, /invalid configuration: SAILFIN_POOLS: pools\[0\]\.processesPerNode: must be at least 1/, bad.stderr);
    const unknown = worker({ SAILFIN_POOLS: POOLS, SAILFIN_WORKER_POOLS: "solo,gpu" });
    assert.notEqual(unknown.status, 0, unknown.stdout);
    assert.match(unknown.stderr, /SAILFIN_WORKER_POOLS: "gpu" not in SAILFIN_POOLS \(local, solo\)/, unknown.stderr);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

for (const dialect of testDialects()) {
  describe(`resource pools: API and claims (${dialect})`, () => {
    let server: TestServer;
    let tiny: TinyModelFolders;
    let versionId = "";
    let jobId = "";
    let v1TaskNum = 0;

    const v2 = (action: string, body: unknown) => v2Raw(server, "finetuning", action, body);
    const taskBody = (resourceConfig?: unknown) => ({
      jobId, parameterScale: "LoRA", hyperParameterConfig: { epoch: 1 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
      ...(resourceConfig === undefined ? {} : { resourceConfig }),
    });
    const v1Body = (resourceConfig?: unknown) => ({
      taskId: v1TaskNum, peftType: "LoRA", trainConfig: { epoch: 1 }, trainset: [{ type: 1, id: versionId }],
      ...(resourceConfig === undefined ? {} : { resourceConfig }),
    });

    before(async () => {
      tiny = await writeTinyModels({ llama: TINY });
      server = await startTestServer(dialect, { SAILFIN_POOLS: POOLS, SAILFIN_POLL_MS: "600000" });
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
      versionId = (await releasedDataset(server, { name: "pools", format: "PromptResponse", lines: learnableLines(8) })).versionId;
      jobId = (await server.admin.v2<any>("finetuning", "CreateFineTuningJob", { name: "pjob", model: MODEL, trainMode: "SFT" })).jobId;
      v1TaskNum = (await server.admin.v1<any>("/wenxinworkshop/finetune/createTask", { name: "ptask", trainType: MODEL })).id;
    });
    after(async () => {
      await server?.close();
      await tiny?.remove();
    });

    test("V2 CreateFineTuningTask refuses what no pool holds, naming the field", async () => {
      for (const [resourceConfig, field, why] of [
        [{ resourceId: "gpu-a100" }, "resourceConfig.resourceId", /resource pool "gpu-a100" does not exist; pools: local, solo/],
        [{ resourceId: "solo", nodeNum: 2 }, "resourceConfig.nodeNum", /at most 1 node/],
        [{ resourceId: "solo", processesPerNode: 2 }, "resourceConfig.processesPerNode", /at most 1 process/],
        [{ processesPerNode: 3 }, "resourceConfig.processesPerNode", /pool "local" holds at most 2/],
        [{ nodeNum: 0 }, "resourceConfig.nodeNum", /must be an integer in \[1, 100000\]/],
        [{ resourceId: 7 }, "resourceConfig.resourceId", /./],
      ] as const) {
        for (const action of ["CreateFineTuningTask", "DescribeFineTuningTaskQuote"]) {
          const r = await v2(action, taskBody(resourceConfig));
          assert.equal(r.status, 400, `${action} ${JSON.stringify(resourceConfig)}: ${r.text}`);
          assert.equal(r.body.code, "InappropriateJSON", r.text);
          assert.ok(r.body.message.includes(`param[${field}] invalid`), `expected param[${field}]: ${r.body.message}`);
          assert.match(r.body.message, why);
        }
      }
    });

    test("V1 createJob takes the same resourceConfig (any key case) and refuses the same way", async () => {
      for (const [resourceConfig, field] of [
        [{ resourceId: "nope" }, "resourceConfig.resourceId"],
        [{ ResourceId: "solo", NodeNum: 3 }, "resourceConfig.nodeNum"],
        [{ processesPerNode: 4 }, "resourceConfig.processesPerNode"],
      ] as const) {
        const r = await v1Raw(server, "/wenxinworkshop/finetune/createJob", v1Body(resourceConfig));
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.error_code, 500001, r.text);
        assert.ok(r.body.error_msg.startsWith(`param[${field}] invalid`), `expected param[${field}]: ${r.body.error_msg}`);
      }
      const created = await server.admin.v1<any>("/wenxinworkshop/finetune/createJob", v1Body({ resourceid: "solo" }));
      const detail = await server.admin.v1<any>("/wenxinworkshop/finetune/jobDetail", { taskId: v1TaskNum, jobId: created.id });
      assert.deepEqual(detail.resourceConfig, { resourceId: "solo", nodeNum: 1, processesPerNode: 1, executor: "local", executorJobId: null });
    });

    test("a task records its placement (default: the default pool's shape); DescribeFineTuningTask shows it", async () => {
      const placed = (await server.admin.v2<any>("finetuning", "CreateFineTuningTask", taskBody())).taskId as string;
      const row = (await runRow(server, placed))!;
      assert.deepEqual([row.pool_id, Number(row.node_num), Number(row.processes_per_node), row.executor_job_id], ["local", 1, 2, null]);
      const task = await server.admin.v2<any>("finetuning", "DescribeFineTuningTask", { taskId: placed });
      assert.deepEqual(task.resourceConfig, { resourceId: "local", nodeNum: 1, processesPerNode: 2, executor: "local", executorJobId: null });
      const listed = await server.admin.v2<any>("finetuning", "DescribeFineTuningTasks", { jobId });
      assert.ok(listed.taskList.every((t: any) => typeof t.resourceConfig?.resourceId === "string"), JSON.stringify(listed.taskList));
    });

    test("a queued task of a pool no live worker serves says so (waitingReason), and sailfin serve's stranded-work check names the pool", async () => {
      const db = server.server.res.db;
      const taskId = (await server.admin.v2<any>("finetuning", "CreateFineTuningTask", taskBody({ resourceId: "solo" }))).taskId as string;
      const reason = async () => (await server.admin.v2<any>("finetuning", "DescribeFineTuningTask", { taskId })).waitingReason as string | undefined;
      assert.equal(await reason(), "no worker online");
      const ids = [`pools-local-${dialect}`, `pools-solo-${dialect}`];
      try {
        await announceWorker(db, { id: ids[0]!, kinds: ["finetune", "publish"], pools: ["local"], ttlMs: 60_000 });
        assert.equal(await reason(), "no online worker serves resource pool solo (1 online for fine-tuning tasks, serving local)");
        const stranded = await strandedWork(db);
        assert.ok(stranded.some((s) => s.kind === "finetune" && s.poolId === "solo" && /resource pool solo/.test(s.reason)), JSON.stringify(stranded));
        assert.ok(!stranded.some((s) => s.poolId === "local"), JSON.stringify(stranded));
        await announceWorker(db, { id: ids[1]!, kinds: ["finetune"], pools: ["solo"], ttlMs: 60_000 });
        assert.equal(await reason(), undefined);
      } finally {
        for (const id of ids) await withdrawWorker(db, id);
      }
    });

    test("claims are routed by pool: a claimer of pool A never takes pool B's run", async () => {
      const db = server.server.res.db;
      const ids = { a: `task-pa${dialect.slice(0, 2)}0000001`, b: `task-pb${dialect.slice(0, 2)}0000001` };
      // Placed runs of both pools, queued before anything claims.
      await enqueueRun(db, ADMIN, { id: ids.a, kind: "compress", spec: {}, placement: { poolId: "pool-a", nodes: 1, processesPerNode: 1 } });
      await enqueueRun(db, ADMIN, { id: ids.b, kind: "compress", spec: {}, placement: { poolId: "pool-b", nodes: 1, processesPerNode: 1 } });
      const claim = (owner: string, pools: string[]) => claimRun(db, server.server.res.dialect, { owner, kinds: ["compress"], leaseMs: 60_000, pools });
      const taken: Lease[] = [];
      for (let i = 0; i < 3; i++) {
        const lease = await claim(`a-${i}`, ["pool-a"]);
        if (lease !== null) taken.push(lease);
      }
      assert.deepEqual(taken.map((l) => l.runId), [ids.a], "pool A's claimer took only pool A's run");
      assert.equal(await claim("none", []), null, "a claimer of no pool takes nothing");
      const b = await claim("b-0", ["pool-c", "pool-b"]);
      assert.equal(b?.runId, ids.b);
      assert.equal(b?.row.pool_id, "pool-b");
    });
  });
}

describe("resource pools: workers (sqlite)", () => {
  let server: TestServer;
  let tiny: TinyModelFolders;
  let versionId = "";
  let python = "";

  const ok2 = (action: string, body: unknown) => v2Ok(server, "finetuning", action, body);
  // No dropout: each rank draws its own, so only without it are 1 and 2 ranks the same steps.
  const HYPER = { maxSeqLen: 128, batchSize: 2, gradientAccumulationSteps: 2, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0, epoch: 4, loraDropout: 0, saveStep: 100_000, checkpointCount: 1 };
  const newTask = async (resourceConfig: unknown) => {
    const { jobId } = await ok2("CreateFineTuningJob", { name: "wjob", model: MODEL, trainMode: "SFT" });
    const { taskId } = await ok2("CreateFineTuningTask", {
      jobId, parameterScale: "LoRA", hyperParameterConfig: HYPER, resourceConfig,
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 20 },
    });
    return taskId as string;
  };
  const losses = async (taskId: string) =>
    ((await ok2("DescribeFineTuningTaskMetrics", { taskId })).metrics as any[]).filter((m) => m.loss !== null) as Array<{ step: number; loss: number }>;
  /** A worker serving `pools`, each through a LocalExecutor that notes the ranks of every job it is given. */
  const stderrs: string[] = [];
  const startPoolWorker = async (id: string, pools: string[], seen: ExecRequest["ranks"][]) => {
    const local = new LocalExecutor({ python, graceMs: 10_000 });
    const executor = {
      run: async (request: ExecRequest) => {
        seen.push(request.ranks);
        const result = await local.run(request);
        stderrs.push(result.stderrTail);
        return result;
      },
    };
    const worker = new Worker({
      res: server.server.res, id, pools: pools.map((pool): WorkerPool => ({ id: pool, executor })),
      leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200,
    });
    await worker.start();
    return worker;
  };
  const ended = (taskId: string) => waitForTask(server, taskId, (t) => !["Waiting", "Running"].includes(t.runStatus), 180_000);

  before(async () => {
    python = await findPython();
    tiny = await writeTinyModels({ llama: TINY });
    server = await startTestServer("sqlite", { SAILFIN_POOLS: POOLS });
    await stageFolder(server, tiny.dir("llama"), "hub", "llama");
    await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "llama" });
    versionId = (await releasedDataset(server, { name: "learn", format: "PromptResponse", lines: learnableLines(40) })).versionId;
  });
  after(async () => {
    await server?.close();
    await tiny?.remove();
  });

  test("SAILFIN_WORKER_POOLS picks pools of SAILFIN_POOLS, and an unknown id is refused at start", () => {
    const settings = (pools: string[] | undefined) => ({ pools }) as Parameters<typeof servedPools>[1];
    assert.deepEqual(servedPools(server.server.res, settings(["solo"])).map((p) => p.id), ["solo"]);
    assert.deepEqual(servedPools(server.server.res, settings(undefined)).map((p) => p.id), ["local", "solo"]);
    assert.throws(() => servedPools(server.server.res, settings(["solo", "gpu"])), /SAILFIN_WORKER_POOLS: "gpu" not in SAILFIN_POOLS \(local, solo\)/);
  });

  test("a worker of pool solo trains solo's task and leaves the local pool's; a 2-rank local task then trains to Done with the losses of 1 rank", async () => {
    const ranked = await newTask({ resourceId: "local", processesPerNode: 2 });
    const single = await newTask({ resourceId: "solo" });
    const soloSeen: ExecRequest["ranks"][] = [];
    const solo = await startPoolWorker("solo-worker", ["solo"], soloSeen);
    try {
      assert.equal((await ended(single)).runStatus, "Done");
      await sleep(300);
      assert.equal((await runRow(server, ranked))!.status, "Queued", "the solo worker never claims the local pool's task");
    } finally {
      await solo.stop();
    }
    assert.deepEqual(soloSeen, [{ nodes: 1, processesPerNode: 1 }]);
    const localSeen: ExecRequest["ranks"][] = [];
    const local = await startPoolWorker("local-worker", ["local"], localSeen);
    let done: any;
    try {
      done = await ended(ranked);
    } finally {
      await local.stop();
    }
    assert.equal(done.runStatus, "Done", JSON.stringify(done));
    assert.deepEqual(localSeen, [{ nodes: 1, processesPerNode: 2 }], "the run's placement reached the executor");
    // Through the runtime's launcher: two ranks in one world of 2.
    const stderr = stderrs.at(-1) ?? "";
    assert.match(stderr, /\[sailfin_runtime\] started 2 ranks/, stderr);
    for (const rank of [0, 1]) assert.match(stderr, new RegExp(`\\[sailfin_runtime rank ${rank}\\] .*rank ${rank} of 2`), stderr);
    assert.deepEqual(done.resourceConfig, { resourceId: "local", nodeNum: 1, processesPerNode: 2, executor: "local", executorJobId: null });
    const [one, two] = [await losses(single), await losses(ranked)];
    assert.ok(one.length >= 8, `few steps: ${one.length}`);
    assert.deepEqual(two.map((m) => m.step), one.map((m) => m.step), "each step recorded once, as many as 1 rank's");
    // 2 ranks of half the batch each make the same global batch: the same losses, up to float sums.
    two.forEach((m, i) => assert.ok(Math.abs(m.loss - one[i]!.loss) <= 1e-4, `step ${m.step}: loss ${m.loss} with 2 ranks, ${one[i]!.loss} with 1`));
  });
});
