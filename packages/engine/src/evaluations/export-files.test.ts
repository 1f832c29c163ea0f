import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EvalResultRow } from "./eval-tasks.js";
import type { EvalUnitSpec } from "./eval-spec.js";
import { evalExportFiles } from "./export-files.js";

const unit = (index: number, modelName: string, version: number, system: string | null = null): EvalUnitSpec => ({
  index, modelVersionId: `amv-${index}`, modelVersionNum: index + 1, modelSetId: `am-${index}`, modelSetNum: index + 1, modelName, version,
  sourceType: "Import", promptTemplate: null, params: { temperature: null, topP: null, penaltyScore: 1, maxOutputTokens: 8, stop: [], system },
});

const row = (num: number, unitIndex: number, extra: Partial<EvalResultRow> = {}): EvalResultRow => ({
  num, unitIndex, modelVersionNum: unitIndex + 1, sampleIndex: num, prompt: `问题 ${num}`, prediction: `回答 ${num}`, reference: `参考 ${num}`,
  metrics: { bleu4: 0.008, rouge_1: 0.0784, rouge_2: 0, rouge_l: 1, accuracy: 0, f1Score: 0.5 }, judgeScore: null, judgeError: null, ...extra,
});

const read = (files: ReturnType<typeof evalExportFiles>, name: string): string => {
  const file = files.find((f) => f.name === name);
  assert.ok(file, name);
  return String(file.data);
};

describe("evalExportFiles", () => {
  test("data.jsonl is Qianfan's layout: one array per sample, Chinese column names, metrics as percentage strings", () => {
    const units = [unit(0, "base", 1), unit(1, "tuned", 3)];
    const rows = [row(1, 0), row(2, 1, { judgeScore: 5, metrics: { bleu4: 0.5862, rouge_1: 1, rouge_2: 1, rouge_l: 1 } }), row(3, 1, { judgeError: "judge answered HTTP 500" })];
    const files = evalExportFiles(rows, units, ["prompt", "prediction", "completion", "metrics"]);
    assert.deepEqual(files.map((f) => f.name), ["data.jsonl", "results.jsonl", "results.csv"]);
    const lines = read(files, "data.jsonl").split("\n");
    assert.equal(lines.pop(), "", "ends with a newline");
    const parsed = lines.map((l) => JSON.parse(l) as Array<Record<string, string>>);
    assert.deepEqual(parsed[0], [{
      模型名称: "base", 模型版本: "V1", Prompt: "问题 1", "Completion（模型回答）": "回答 1", "Response（参考答案）": "参考 1",
      "BLEU-4": "0.80%", "ROUGE-1": "7.84%", "ROUGE-2": "0.00%", "ROUGE-L": "100.00%",
    }]);
    assert.equal(parsed[1]![0]!["模型版本"], "V3");
    assert.equal(parsed[1]![0]!["BLEU-4"], "58.62%");
    assert.equal(parsed[1]![0]!["裁判员模型打分"], "5");
    assert.equal(parsed[1]![0]!["裁判员模型打分理由"], "");
    assert.equal(parsed[2]![0]!["裁判员模型打分"], "", "a failed judge call has no score");
    assert.equal(parsed[2]![0]!["裁判员模型打分理由"], "judge answered HTTP 500");
    assert.ok(parsed.every((p) => Object.values(p[0]!).every((v) => typeof v === "string")), "every value is a string, as Qianfan writes them");
    // Sailfin's own files are unchanged: ids and raw numbers.
    const own = read(files, "results.jsonl").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(own.map((r) => r.resultId), [1, 2, 3]);
    assert.equal(own[1].metrics.judgeScore, 5);
    assert.equal(read(files, "results.csv").trim().split("\r\n").length, 4);
  });

  test("only the chosen columns; `system` has Sailfin's own name; an empty export has empty files", () => {
    const files = evalExportFiles([row(7, 0)], [unit(0, "m", 2, "你是助手")], ["system", "prediction"]);
    assert.deepEqual(JSON.parse(read(files, "data.jsonl")), [{ 模型名称: "m", 模型版本: "V2", System: "你是助手", "Completion（模型回答）": "回答 7" }]);
    const empty = evalExportFiles([], [unit(0, "m", 1)], ["prompt"]);
    assert.equal(read(empty, "data.jsonl"), "");
    assert.equal(read(empty, "results.jsonl"), "");
  });
});
