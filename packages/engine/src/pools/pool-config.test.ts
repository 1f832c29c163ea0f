import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SailfinError } from "@sailfin/contract";
import { LOCAL_POOLS, parsePools, poolsFromEnv } from "./pool-config.js";
import { defaultPlacement, placeTrainingRun, placementView } from "./place-run.js";

const ISSUE_EXAMPLE = {
  pools: [
    { id: "local", executor: "local", processesPerNode: 1 },
    { id: "cpu-slurm", executor: "slurm", partition: "debug", processesPerNode: 2, maxNodes: 1, timeLimit: "00:30:00" },
  ],
};

describe("SAILFIN_POOLS", () => {
  test("unset: one local pool of one process", () => {
    assert.deepEqual(poolsFromEnv({}), LOCAL_POOLS);
    assert.deepEqual(poolsFromEnv({ SAILFIN_POOLS: "  " }), LOCAL_POOLS);
  });

  test("the issue's example, as JSON text and as a file; the first pool is the default", () => {
    const dir = mkdtempSync(join(tmpdir(), "sailfin-pools-"));
    try {
      const path = join(dir, "pools.json");
      writeFileSync(path, JSON.stringify(ISSUE_EXAMPLE));
      for (const value of [JSON.stringify(ISSUE_EXAMPLE), path]) {
        const pools = poolsFromEnv({ SAILFIN_POOLS: value });
        assert.equal(pools.defaultId, "local");
        assert.deepEqual(pools.pools[1], {
          id: "cpu-slurm", executor: "slurm", processesPerNode: 2, maxNodes: 1, defaultNodes: 1, gpusPerNode: 0, memoryGb: undefined,
          partition: "debug", timeLimit: "00:30:00", maxConcurrentRuns: undefined, engine: undefined,
        });
      }
      assert.throws(() => poolsFromEnv({ SAILFIN_POOLS: join(dir, "missing.json") }), /^Error: SAILFIN_POOLS: .*missing\.json: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every field; `default` picks the default pool; SAILFIN_SLURM_PARTITION/_TIME_LIMIT fill a Slurm pool's gaps, its own win", () => {
    const pools = poolsFromEnv({
      SAILFIN_SLURM_PARTITION: "batch", SAILFIN_SLURM_TIME_LIMIT: "10",
      SAILFIN_POOLS: JSON.stringify({
        default: "gpu",
        pools: [
          { id: "local", executor: "local", processesPerNode: 2, maxConcurrentRuns: 3 },
          { id: "gpu", executor: "slurm", processesPerNode: 8, gpusPerNode: 8, memoryGb: 512, maxNodes: 4, defaultNodes: 2, timeLimit: "1-00:00:00" },
        ],
      }),
    });
    assert.equal(pools.defaultId, "gpu");
    assert.equal(pools.pools[0]!.maxConcurrentRuns, 3);
    assert.equal(pools.pools[0]!.partition, undefined, "a local pool takes no Slurm default");
    assert.deepEqual(pools.pools[1], {
      id: "gpu", executor: "slurm", processesPerNode: 8, maxNodes: 4, defaultNodes: 2, gpusPerNode: 8, memoryGb: 512,
      partition: "batch", timeLimit: "1-00:00:00", maxConcurrentRuns: undefined, engine: undefined,
    });
  });

  test("a pool's operator engine: its command template, environment and ready timeout (default 600 s)", () => {
    const pools = parsePools({
      pools: [
        { id: "vllm", executor: "local", engine: { name: "vllm", command: ["vllm", "serve", "{modelDir}", "--port", "{port}"], env: { HF_HUB_OFFLINE: "1" } } },
        { id: "sglang", executor: "slurm", engine: { name: "sglang", command: ["python3", "-m", "sglang.launch_server"], readyTimeoutSec: 1200 } },
      ],
    });
    assert.deepEqual(pools.pools[0]!.engine, { name: "vllm", command: ["vllm", "serve", "{modelDir}", "--port", "{port}"], env: { HF_HUB_OFFLINE: "1" }, readyTimeoutSec: 600 });
    assert.equal(pools.pools[1]!.engine!.readyTimeoutSec, 1200);
    const bad = (engine: unknown, expected: RegExp) => assert.throws(() => parsePools({ pools: [{ id: "a", executor: "local", engine }] }), (e: Error) => expected.test(e.message) || assert.fail(e.message));
    bad({ name: "vllm", command: [] }, /pools\[0\]\.engine\.command: must name the program/);
    bad({ name: "VLLM x", command: ["vllm"] }, /pools\[0\]\.engine\.name: must be 1-32 of/);
    bad({ name: "vllm", command: ["vllm"], env: { "bad name": "x" } }, /pools\[0\]\.engine\.env/);
    bad({ name: "vllm", command: ["vllm"], apiKey: "inline" }, /pools\[0\]\.engine/);
  });

  test("bad files are refused at start-up, naming the pool's index and the field", () => {
    const bad = (file: unknown, expected: RegExp) => assert.throws(() => parsePools(file), (e: Error) => expected.test(e.message) || assert.fail(e.message));
    bad([], /^SAILFIN_POOLS: \(file\): /);
    bad({}, /pools: /);
    bad({ pools: [] }, /pools: must list at least one pool/);
    bad({ pools: [{ executor: "local" }] }, /pools\[0\]\.id: /);
    bad({ pools: [{ id: "a b", executor: "local" }] }, /pools\[0\]\.id: must be 1-64 of/);
    bad({ pools: [{ id: "a", executor: "k8s" }] }, /pools\[0\]\.executor: must be local or slurm/);
    bad({ pools: [{ id: "a", executor: "local" }, { id: "b", executor: "slurm", processesPerNode: 0 }] }, /pools\[1\]\.processesPerNode: must be at least 1/);
    bad({ pools: [{ id: "a", executor: "slurm", processesPerNode: 1.5 }] }, /pools\[0\]\.processesPerNode: must be an integer/);
    bad({ pools: [{ id: "a", executor: "slurm", maxNodes: "2" }] }, /pools\[0\]\.maxNodes: /);
    bad({ pools: [{ id: "a", executor: "slurm", gpusPerNode: -1 }] }, /pools\[0\]\.gpusPerNode: must be at least 0/);
    bad({ pools: [{ id: "a", executor: "slurm", memoryGb: 0 }] }, /pools\[0\]\.memoryGb: must be positive/);
    bad({ pools: [{ id: "a", executor: "slurm", timeLimit: "half an hour" }] }, /pools\[0\]\.timeLimit: must be a Slurm time/);
    bad({ pools: [{ id: "a", executor: "slurm", partition: "de bug" }] }, /pools\[0\]\.partition: must be a Slurm partition name/);
    bad({ pools: [{ id: "a", executor: "slurm", maxConcurrentRuns: 0 }] }, /pools\[0\]\.maxConcurrentRuns: must be at least 1/);
    bad({ pools: [{ id: "a", executor: "slurm", nodes: 2 }] }, /pools\[0\]: Unrecognized key: "nodes"/);
    bad({ pools: [{ id: "a", executor: "local" }], extra: 1 }, /\(file\): Unrecognized key: "extra"/);
    bad({ pools: [{ id: "a", executor: "local" }, { id: "a", executor: "slurm" }] }, /pools\[1\]\.id: "a" is listed twice/);
    bad({ pools: [{ id: "a", executor: "local", maxNodes: 2 }] }, /pools\[0\]\.maxNodes: a local pool has one node/);
    bad({ pools: [{ id: "a", executor: "local", partition: "debug" }] }, /pools\[0\]\.partition: only Slurm pools take it/);
    bad({ pools: [{ id: "a", executor: "slurm", maxNodes: 2, defaultNodes: 3 }] }, /pools\[0\]\.defaultNodes: 3 is more than maxNodes 2/);
    bad({ pools: [{ id: "a", executor: "local" }], default: "b" }, /default: "b" is not a listed pool/);
    assert.throws(() => poolsFromEnv({ SAILFIN_POOLS: "{not json" }), /^Error: SAILFIN_POOLS: .*JSON/);
    // Every problem at once.
    bad({ pools: [{ id: "a", executor: "local", maxNodes: 2 }, { id: "a", executor: "slurm" }] }, /maxNodes: a local pool.*; pools\[1\]\.id: "a" is listed twice/);
  });

  test("the shorthand variables shape the default pool when SAILFIN_POOLS is unset, and are refused beside it", () => {
    assert.deepEqual(poolsFromEnv({ SAILFIN_EXECUTOR: "local" }), LOCAL_POOLS);
    assert.deepEqual(poolsFromEnv({
      SAILFIN_EXECUTOR: "slurm", SAILFIN_SLURM_PARTITION: "debug", SAILFIN_SLURM_NODES: "2", SAILFIN_SLURM_TASKS_PER_NODE: "4", SAILFIN_SLURM_TIME_LIMIT: "00:30:00",
    }).pools, [{
      id: "local", executor: "slurm", processesPerNode: 4, maxNodes: 2, defaultNodes: 2, gpusPerNode: 0, memoryGb: undefined,
      partition: "debug", timeLimit: "00:30:00", maxConcurrentRuns: undefined, engine: undefined,
    }]);
    assert.throws(() => poolsFromEnv({ SAILFIN_EXECUTOR: "k8s" }), /SAILFIN_EXECUTOR must be local or slurm, got "k8s"/);
    assert.throws(() => poolsFromEnv({ SAILFIN_EXECUTOR: "slurm", SAILFIN_SLURM_NODES: "0" }), /SAILFIN_SLURM_NODES must be an integer >= 1/);
    assert.throws(() => poolsFromEnv({ SAILFIN_EXECUTOR: "slurm", SAILFIN_SLURM_TIME_LIMIT: "soon" }), /SAILFIN_SLURM_TIME_LIMIT: must be a Slurm time/);
    assert.throws(() => poolsFromEnv({ SAILFIN_EXECUTOR: "slurm", SAILFIN_POOLS: JSON.stringify(ISSUE_EXAMPLE) }),
      /SAILFIN_POOLS: SAILFIN_EXECUTOR shape the default pool only when SAILFIN_POOLS is unset/);
  });
});

describe("placing a training run", () => {
  const pools = parsePools(ISSUE_EXAMPLE);
  const refused = (request: Parameters<typeof placeTrainingRun>[1], field: string) =>
    assert.throws(() => placeTrainingRun(pools, request), (e: unknown) => e instanceof SailfinError && e.id === "InvalidParameter" && e.field === field);

  test("the default pool and its shape when nothing is asked; a named pool; fewer ranks than it holds", () => {
    assert.deepEqual(placeTrainingRun(pools, undefined), { poolId: "local", nodes: 1, processesPerNode: 1 });
    assert.deepEqual(placeTrainingRun(pools, { resourceId: "cpu-slurm" }), { poolId: "cpu-slurm", nodes: 1, processesPerNode: 2 });
    assert.deepEqual(placeTrainingRun(pools, { resourceId: "cpu-slurm", nodeNum: 1, processesPerNode: 1 }), { poolId: "cpu-slurm", nodes: 1, processesPerNode: 1 });
    assert.deepEqual(defaultPlacement(parsePools({ pools: [{ id: "g", executor: "slurm", processesPerNode: 8, maxNodes: 4, defaultNodes: 4 }] })),
      { poolId: "g", nodes: 1, processesPerNode: 1 }, "only training runs several ranks");
  });

  test("refuses what no pool holds, naming the field", () => {
    refused({ resourceId: "gpu" }, "resourceConfig.resourceId");
    refused({ resourceId: "cpu-slurm", nodeNum: 2 }, "resourceConfig.nodeNum");
    refused({ resourceId: "local", nodeNum: 2 }, "resourceConfig.nodeNum");
    refused({ resourceId: "cpu-slurm", processesPerNode: 3 }, "resourceConfig.processesPerNode");
    refused({ processesPerNode: 2 }, "resourceConfig.processesPerNode");
  });

  test("the describe view names the pool's executor, or null for a pool no longer configured", () => {
    assert.deepEqual(placementView(pools, { poolId: "cpu-slurm", nodes: 1, processesPerNode: 2, executorJobId: "17" }),
      { resourceId: "cpu-slurm", nodeNum: 1, processesPerNode: 2, executor: "slurm", executorJobId: "17" });
    assert.equal(placementView(pools, { poolId: "gone", nodes: 1, processesPerNode: 1, executorJobId: null }).executor, null);
  });
});
