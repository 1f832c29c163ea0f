import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EvalExportResult, EvalExportSpec, EvalRunSpec } from "../evaluations/eval-spec.js";
import type { EvalResultRow } from "../evaluations/eval-tasks.js";
import { evalExportRun, runEvalExport } from "./eval-export.js";
import { runDepsDouble, type RunDepsDoubleOptions } from "./run-deps-double.js";

const EVAL: EvalRunSpec = {
  specVersion: 1, kind: "evaluate",
  dataset: { versionId: "ds", versionNum: 1, name: "eval", dataKey: "datasets/ds/data.jsonl", contentHash: "h" },
  units: [{
    index: 0, modelVersionId: "amv-a", modelVersionNum: 10, modelSetId: "am-1", modelSetNum: 1, modelName: "tiny", version: 1, sourceType: "Import",
    promptTemplate: null, params: { temperature: null, topP: null, penaltyScore: 1, maxOutputTokens: 8, stop: [], system: null },
  }],
  modes: ["rule"], stopWords: null, judge: null, maxSamples: 10, seed: 1, echo: {},
};

const SPEC: EvalExportSpec = { specVersion: 1, kind: "eval-export", evalRunNum: 4, evalId: "ame-1", exportType: "local", volumeId: null, content: ["prompt", "prediction"], resultNums: null };

const row = (num: number): EvalResultRow => ({
  num, unitIndex: 0, modelVersionNum: 10, sampleIndex: num, prompt: `p${num}`, prediction: "a", reference: "a", metrics: {}, judgeScore: null, judgeError: null,
});

function double(extra: Partial<RunDepsDoubleOptions> = {}) {
  return runDepsDouble({
    root: null, spec: SPEC, run: { id: "amee-1", kind: "eval-export" }, ...extra,
    reads: {
      storedRun: async (num) => (num === 4 ? { num: 4, id: "ame-1", kind: "evaluate", name: "my eval", spec: JSON.stringify(EVAL) } : null),
      evalResults: async () => [row(1), row(2), row(3)],
      ...extra.reads,
    },
  });
}

describe("eval-export run kind", () => {
  test("zips the results into Sailfin's storage, or under the user's bucket, and reports where", async () => {
    const { deps, record } = double();
    const outcome = await runEvalExport(SPEC, deps);
    const result = (outcome.kind === "done" ? outcome.result : null) as EvalExportResult;
    assert.equal(result.rows, 3);
    assert.match(result.key, /^exports\/amee-1\/my_eval_4_\d+\.zip$/);
    assert.deepEqual(record.puts.map((p) => p.key), [result.key]);
    assert.equal(result.bytes, record.puts[0]!.body.length);
    const bucket = { ...SPEC, exportType: "storage" as const, volumeId: "vol-1", resultNums: [2] };
    const stored = await runEvalExport(bucket, double({ spec: bucket }).deps);
    const r2 = (stored.kind === "done" ? stored.result : null) as EvalExportResult;
    assert.match(r2.key, /^buckets\/vol-1\/sailfin\/model_eval_result_export\/my_eval_4_\d+\.zip$/);
    assert.equal(r2.rows, 1, "a part export takes the named results only");
  });

  test("an evaluation deleted meanwhile is the user's failure; the export needs no runtime and no local store", async () => {
    const { deps } = double({ reads: { storedRun: async () => null } });
    assert.deepEqual(await runEvalExport(SPEC, deps), { kind: "failed", failure: "user", reason: "evaluation ame-1 no longer exists" });
    assert.equal(evalExportRun.needsRuntime, false);
  });
});
