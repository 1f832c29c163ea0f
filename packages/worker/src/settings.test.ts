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

  test("SAILFIN_WORKER_POOLS lists pool ids (default: undefined, every pool it can run)", () => {
    assert.equal(workerSettingsFromEnv({}).pools, undefined);
    assert.equal(workerSettingsFromEnv({ SAILFIN_WORKER_POOLS: " " }).pools, undefined);
    assert.deepEqual(workerSettingsFromEnv({ SAILFIN_WORKER_POOLS: "cpu-slurm, local,cpu-slurm" }).pools, ["cpu-slurm", "local"]);
  });

  test("SAILFIN_WORKER_SERVING (services a pool serves at once, default 2, 0 for none) and SAILFIN_ENGINE_HOST (default 127.0.0.1)", () => {
    assert.equal(workerSettingsFromEnv({}).servingSlots, 2);
    assert.equal(workerSettingsFromEnv({ SAILFIN_WORKER_SERVING: "0" }).servingSlots, 0);
    assert.throws(() => workerSettingsFromEnv({ SAILFIN_WORKER_SERVING: "-1" }), /SAILFIN_WORKER_SERVING must be an integer >= 0/);
    assert.equal(workerSettingsFromEnv({}).engineHost, "127.0.0.1");
    assert.equal(workerSettingsFromEnv({ SAILFIN_ENGINE_HOST: " 10.0.0.5 " }).engineHost, "10.0.0.5");
  });
});
