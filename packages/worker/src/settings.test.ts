import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { workerSettingsFromEnv } from "./settings.js";

describe("worker settings", () => {
  test("runtime device and precision are read once here (default auto; empty is unset)", () => {
    assert.deepEqual(workerSettingsFromEnv({}).runtime, { device: "auto", precision: "auto" });
    assert.deepEqual(workerSettingsFromEnv({ SAILFIN_DEVICE: "cuda:1", SAILFIN_PRECISION: "" }).runtime, { device: "cuda:1", precision: "auto" });
  });

  test("SAILFIN_WORKER_KINDS takes the catalog's kinds and refuses others", () => {
    assert.deepEqual(workerSettingsFromEnv({ SAILFIN_WORKER_KINDS: "finetune, eval-export" }).kinds, ["finetune", "eval-export"]);
    assert.equal(workerSettingsFromEnv({ SAILFIN_WORKER_KINDS: " " }).kinds, undefined);
    assert.throws(() => workerSettingsFromEnv({ SAILFIN_WORKER_KINDS: "finetune,train" }), /SAILFIN_WORKER_KINDS must list run kinds among finetune, publish/);
  });

  test("SAILFIN_EXECUTOR chooses local (default) or slurm with its job shape, and refuses others", () => {
    assert.deepEqual(workerSettingsFromEnv({}).executor, { kind: "local" });
    assert.deepEqual(workerSettingsFromEnv({ SAILFIN_EXECUTOR: "slurm" }).executor, {
      kind: "slurm", shape: { partition: undefined, nodes: 1, tasksPerNode: 1, timeLimit: undefined },
    });
    assert.deepEqual(workerSettingsFromEnv({
      SAILFIN_EXECUTOR: "slurm", SAILFIN_SLURM_PARTITION: "debug", SAILFIN_SLURM_NODES: "2", SAILFIN_SLURM_TASKS_PER_NODE: "4", SAILFIN_SLURM_TIME_LIMIT: "00:30:00",
    }).executor, { kind: "slurm", shape: { partition: "debug", nodes: 2, tasksPerNode: 4, timeLimit: "00:30:00" } });
    assert.throws(() => workerSettingsFromEnv({ SAILFIN_EXECUTOR: "k8s" }), /SAILFIN_EXECUTOR must be local or slurm, got "k8s"/);
    assert.throws(() => workerSettingsFromEnv({ SAILFIN_EXECUTOR: "slurm", SAILFIN_SLURM_NODES: "0" }), /SAILFIN_SLURM_NODES must be an integer >= 1/);
  });
});
