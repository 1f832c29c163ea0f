import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUN_CATALOG } from "./catalog.js";
import type { EngineLaunch } from "./deps.js";
import { runDepsDouble } from "./run-deps-double.js";

const spec = { specVersion: 1, kind: "serve", serviceNum: 4, serviceId: "svco-aaaaaaaaaaaa", modelVersionNum: 2, modelVersionId: "amv-bbbbbbbbbbbb", servedModelName: "chat" };
const ready = { num: 2, id: "amv-bbbbbbbbbbbb", status: "Ready", artifactPath: null, sizeBytes: 1, sourceRunNum: null };

describe("serve run kind", () => {
  test("a run its service no longer wants (stopped or redeployed meanwhile) ends stopped without starting an engine", async () => {
    const { deps } = runDepsDouble({ root: null, spec, run: { kind: "serve" }, serving: { wanted: async () => false } });
    assert.deepEqual(await RUN_CATALOG.serve.attempt(deps), { kind: "stopped", reason: "the service no longer wants this run serving" });
  });

  test("a version gone or not Ready is the user's failure", async () => {
    const { deps } = runDepsDouble({ root: null, spec, run: { kind: "serve" }, reads: { modelVersion: async () => ({ ...ready, status: "Creating" }) } });
    const outcome = await RUN_CATALOG.serve.attempt(deps);
    assert.equal(outcome.kind === "failed" && outcome.failure, "user");
  });

  test("an engine that exits before answering, twice, fails the run naming its stderr; the key travels in the environment and a 0600 file, never argv", async () => {
    const root = await mkdtemp(join(tmpdir(), "sailfin-serve-"));
    try {
      const launches: EngineLaunch[] = [];
      const { deps } = runDepsDouble({
        root, spec, run: { kind: "serve", id: "task-cccccccccccc" }, reads: { modelVersion: async () => ready },
        serving: {
          engine: { name: "vllm", command: ["vllm", "serve", "{modelDir}", "--port", "{port}", "--api-key-file", "{apiKeyFile}"], env: { A: "1" }, readyTimeoutSec: 5 },
          launch: (launch) => { launches.push(launch); return { exited: Promise.resolve({ exitCode: 1, signal: null, stderrTail: "CUDA out of memory" }) }; },
        },
      });
      const outcome = await RUN_CATALOG.serve.attempt(deps);
      assert.equal(outcome.kind, "failed");
      assert.match(outcome.kind === "failed" ? outcome.reason : "", /could not start: it exited \(exit code 1\): CUDA out of memory/);
      assert.equal(launches.length, 2);
      const [first] = launches;
      assert.equal(first!.builtIn, false);
      assert.equal(first!.argv[0], "vllm");
      assert.match(first!.argv[2]!, /models\/amv-bbbbbbbbbbbb$/);
      assert.match(first!.argv[4]!, /^\d+$/);
      const key = first!.env.SAILFIN_ENGINE_API_KEY!;
      assert.ok(key.length >= 32 && first!.env.VLLM_API_KEY === key && first!.env.A === "1");
      assert.ok(!first!.argv.some((word) => word.includes(key)), "the key is not on the command line");
      assert.match(first!.argv[6]!, /runs\/task-cccccccccccc\/engine-key\.attempt-1$/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
