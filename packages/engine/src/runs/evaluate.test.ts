import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer, type LoadedTokenizer } from "@sailfin/data";
import type { EvalResult, EvalRunSpec, EvalUnitSpec } from "../evaluations/eval-spec.js";
import { writeTinyModel } from "../models/tiny-model.js";
import { evaluateRun, runEvaluate } from "./evaluate.js";
import { cutAtStop } from "./generate-answers.js";
import type { RuntimeJob } from "./deps.js";
import { runDepsDouble, type RunDepsDoubleOptions } from "./run-deps-double.js";
import { readyVersion, runtimeEvent } from "./test-fixtures.js";

const unit = (index: number, id: string): EvalUnitSpec => ({
  index, modelVersionId: id, modelVersionNum: 10 + index, modelSetId: "am-1", modelSetNum: 1, modelName: "tiny", version: index + 1,
  sourceType: "Import", promptTemplate: null,
  params: { temperature: null, topP: null, penaltyScore: 1, maxOutputTokens: 8, stop: [], system: null },
});

const SPEC: EvalRunSpec = {
  specVersion: 1, kind: "evaluate",
  dataset: { versionId: "ds-eval", versionNum: 1, name: "eval", dataKey: "datasets/ds-eval/data.jsonl", contentHash: "h" },
  units: [unit(0, "amv-a")], modes: ["rule"], stopWords: null, judge: null, maxSamples: 10, seed: 7, echo: {},
};

let root: string;
let tok: LoadedTokenizer;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-run-evaluate-"));
  await writeTinyModel(join(root, "models/amv-a"), { architecture: "llama", hiddenSize: 32, heads: 4, kvHeads: 2 });
  tok = await loadTokenizer(join(root, "models/amv-a"));
  await mkdir(join(root, "datasets/ds-eval"), { recursive: true });
  await writeFile(join(root, "datasets/ds-eval/data.jsonl"), [
    JSON.stringify([{ prompt: "say red", response: [["red red"]] }]),
    JSON.stringify([{ prompt: "say blue", response: [["blue blue"]] }]),
  ].join("\n"));
});
after(() => rm(root, { recursive: true, force: true }));

/** A generator that answers every prompt with the reference (or `answer`). */
function answers(answer?: (i: number) => string) {
  return async (job: RuntimeJob) => {
    const spec = job.spec as { promptsFile: string; outputFile: string };
    const prompts = (await readFile(spec.promptsFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { id: string });
    const refs = ["red red", "blue blue"];
    await writeFile(spec.outputFile, prompts.map((p, i) => JSON.stringify({ id: p.id, ids: tok.encode(answer?.(i) ?? refs[i]!), finishReason: "stop" })).join("\n"));
    return { events: [runtimeEvent.progress({ done: prompts.length, total: prompts.length }), runtimeEvent.done({ outputFile: spec.outputFile, generatedTokens: 6, tokensPerSecond: 30, seconds: 0.2 })] };
  };
}

function double(extra: Partial<RunDepsDoubleOptions> = {}) {
  return runDepsDouble({
    root, spec: SPEC, run: { id: "ame-1", kind: "evaluate" }, settings: { device: "cpu", precision: "auto" }, runtime: answers(), ...extra,
    reads: { modelVersion: async (ref) => ("num" in ref && ref.num === 10 ? readyVersion(10, "amv-a") : null), ...extra.reads },
  });
}

describe("evaluate run kind", () => {
  test("generates per version, scores the answers, records every sample (replacing an earlier attempt's) and reports the units", async () => {
    const { deps, record } = double();
    const outcome = await runEvaluate(SPEC, deps);
    assert.equal(outcome.kind, "done");
    const result = (outcome.kind === "done" ? outcome.result : null) as EvalResult;
    assert.equal(result.partly, false);
    assert.equal(result.units[0]!.state, "Done");
    assert.equal(result.units[0]!.samples, 2);
    assert.equal(result.units[0]!.generatedTokens, 6);
    assert.equal(result.units[0]!.sizeBytes, 1234);
    assert.ok(Number(result.units[0]!.effectMetric.bleu4) > 0, "rule metrics were computed");
    assert.deepEqual(record.evalResults.map((w) => [w.rows.length, w.replace]), [[0, true], [2, false]]);
    assert.deepEqual(record.evalResults[1]!.rows.map((r) => r.prediction), ["red red", "blue blue"]);
    const spec = record.jobs[0]!.spec as Record<string, unknown>;
    assert.equal(spec.device, "cpu", "the worker's settings, not the environment");
    assert.equal(spec.doSample, false, "no temperature: greedy");
    assert.equal(spec.seed, 7);
    assert.equal(record.jobs[0]!.jobKey, "ame-1/generate/unit-0");
    assert.deepEqual(record.progress.map((b) => b.progress), [99]);
  });

  test("manual: the answers become the result dataset (one object per line) and the result waits for people's scores", async () => {
    const manualSpec: EvalRunSpec = { ...SPEC, modes: ["manual"], manual: { dimensions: [{ dimension: "满意度", description: "", minScore: 1, maxScore: 5 }] } };
    const { deps, record } = double({ runtime: answers((i) => ["red", "blue"][i]!) });
    const outcome = await runEvaluate(manualSpec, deps);
    assert.equal(outcome.kind, "done");
    const result = (outcome.kind === "done" ? outcome.result : null) as EvalResult;
    assert.deepEqual(result.manual, { resultDataset: { groupId: "ds-group-1", groupNum: 1, versionId: "ds-version-1", versionNum: 1, name: "ame-1_result" }, finished: false, finishedAt: null });
    assert.deepEqual(result.units[0]!.effectMetric, {}, "no rule metrics were asked for");
    assert.equal(record.resultDatasets.length, 1);
    const written = record.resultDatasets[0]!;
    assert.equal(written.records, 2);
    assert.deepEqual(written.jsonl.trim().split("\n").map((l) => JSON.parse(l)), [
      { prompt: "say red", response: [["red red"]], completion: "red" }, { prompt: "say blue", response: [["blue blue"]], completion: "blue" },
    ]);
    // The lease lost after the answers were recorded (fenced writes: clear, progress, rows): no dataset, no outcome.
    let fenced = 0;
    const lost = double({ leaseHeld: () => fenced++ < 3 });
    assert.equal((await runEvaluate(manualSpec, lost.deps)).kind, "lost");
    assert.equal(lost.record.evalResults.length, 2, "the answers were recorded before the lease went");
    assert.equal(lost.record.resultDatasets.length, 0);
  });

  test("a version that cannot be evaluated fails alone (PartlyDone); when every one fails, the evaluation is the user's failure", async () => {
    const two = { ...SPEC, units: [unit(0, "amv-a"), unit(1, "amv-gone")] };
    const partly = await runEvaluate(two, double({ spec: two }).deps);
    const result = (partly.kind === "done" ? partly.result : null) as EvalResult;
    assert.equal(result.partly, true);
    assert.deepEqual(result.units.map((u) => u.state), ["Done", "Fail"]);
    assert.equal(result.units[1]!.message, "model version amv-gone no longer exists or is not Ready");
    const crash = double({ runtime: () => ({ events: [runtimeEvent.error("user", "maxNewTokens too large")], exitCode: 2 }) });
    assert.deepEqual(await runEvaluate(SPEC, crash.deps), { kind: "failed", failure: "user", reason: "amv-a: maxNewTokens too large" });
  });

  test("model mode asks the judge for every sample; a judge error makes the unit PartlyDone", async () => {
    const judged = { ...SPEC, modes: ["model" as const], judge: { url: "http://judge/v1", model: "j", timeoutMs: 1000, prompt: { minScore: 1, maxScore: 5 } } };
    const { deps } = double({
      spec: judged,
      judge: { sample: async (input) => (input.question === "say red" ? { ok: true, score: 5, raw: "5" } : { ok: false, error: "timeout" }) },
    });
    const outcome = await runEvaluate(judged, deps);
    const result = (outcome.kind === "done" ? outcome.result : null) as EvalResult;
    assert.equal(result.units[0]!.state, "PartlyDone");
    assert.equal(result.units[0]!.failedSamples, 1);
  });

  test("a lost lease writes no answers; a stop before a version reads stopped; a bad dataset is the user's", async () => {
    assert.deepEqual(await runEvaluate(SPEC, double({ leaseHeld: () => false }).deps), { kind: "lost" });
    const stop = new AbortController();
    stop.abort("cancel");
    assert.deepEqual(await runEvaluate(SPEC, double({ signal: stop.signal }).deps), { kind: "stopped", reason: "stopped after 0 of 1 model versions" });
    const missing = { ...SPEC, dataset: { ...SPEC.dataset, dataKey: "datasets/none.jsonl" } };
    const outcome = await runEvaluate(missing, double().deps);
    assert.equal(outcome.kind === "failed" && outcome.failure, "user");
  });

  test("stop strings cut the answer; the catalog runs evaluations in their own slots", () => {
    assert.equal(cutAtStop("red red###more", ["###"]), "red red");
    assert.equal(evaluateRun.concurrency, "evaluation");
  });
});
