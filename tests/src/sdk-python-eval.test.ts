import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { Worker } from "@sailfin/worker";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { PythonSdk, okBody, okRef, pyRef, pythonSdkMissing, sdkExtraMissing, type PythonResult } from "./python-sdk.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { startTestWorker } from "./fixtures/worker-fixtures.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";
import {
  ID, expectCompTask, expectPageShape, expectRequestId, expectV1EvalCreated, expectV1EvalDetail, expectV1EvalReportItem,
  expectV1EvalResultPage, expectV1EvaluableModel, expectV1Envelope, expectV1ExportCreated, expectV1ExportInfo, expectV2ModelVersion,
} from "./sdk-expect.js";

/**
 * Compression, evaluation and result export through the official Python SDK's own helpers
 * (`qianfan.resources.Model` and `Model.V2`), as a Qianfan user's code calls and parses them,
 * against a real server and worker: the SDK builds the bodies (its `versionEvalInfo`,
 * `computeResourceConf`, export options), signs them, and reads our answers.
 */

const missing = pythonSdkMissing();
const line = (w: string) => JSON.stringify([{ prompt: `say ${w}`, response: [[`${w} ${w} ${w}`]] }]);

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`official Python SDK: compression, evaluation, export (${dialect})`, { skip: missing ?? false }, () => {
    let server: TestServer;
    let py: PythonSdk;
    let worker: Worker;
    let modelId = "";
    let datasetId = "";

    before(async () => {
      server = await startTestServer(dialect);
      // Batch inference polls eval/detail every 30 s by default.
      py = new PythonSdk({ ...ADMIN, baseUrl: server.url, extra: { QIANFAN_BATCH_RUN_STATUS_POLLING_INTERVAL: "0.2" } });
      worker = await startTestWorker(server, `py-eval-${dialect}`);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      modelId = (await importBaseModel(server, "tiny-py-eval", { bucket: "hub", objectPath: "llama" })).versionId;
      datasetId = (await releasedDataset(server, { name: "py-eval", format: "PromptResponse", lines: ["red", "blue", "gold"].map(line) })).versionId;
    });
    after(async () => {
      await worker?.stop();
      await py?.close();
      await server?.close();
    });

    const poll = async (call: () => Promise<PythonResult>, done: (body: any) => boolean, what: string): Promise<any> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const body = okBody(await call());
        if (done(body)) return body;
        if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(body)}`);
        await sleep(200);
      }
    };

    test("Model.V2 compression helpers: create, describe until succeeded, list by source, delete", async () => {
      const setId = okBody(await py.helper("Model.V2.create_custom_model_set", { model_set_name: "py-int8", model_type: "Text2Text" })).result;
      // Positional: given by keyword, `config` is also forwarded to the SDK's requestor as its own
      // options object and the SDK fails before sending anything (AttributeError: 'dict' has no
      // ENABLE_PRIVATE). qianfan 0.4.12.3's own Model.compress() passes it by keyword, so that
      // helper cannot work against any server; this is the call that does.
      const created = okBody(await py.helper("Model.V2.create_model_comp_task", {}, [
        "mco_pyint8", modelId, { strategy: "Quantization", weight: "INT8-PTQ" }, setId,
      ]));
      const taskId = created.result as string;
      assert.match(taskId, /^amva-/);
      const done = await poll(() => py.helper("Model.V2.describe_model_comp_task", { model_comp_task_id: taskId }),
        (b) => !["creating", "running"].includes(b.result.status), "compression");
      assert.equal(done.result.status, "succeeded", JSON.stringify(done));
      expectRequestId(done);
      expectCompTask(done.result, { id: taskId, name: "mco_pyint8", sourceModelId: modelId, status: "succeeded" });
      for (const key of ["sizeBeforeBytes", "sizeAfterBytes", "seconds"]) assert.equal(typeof done.result[key], "number", key);
      const list = okBody(await py.helper("Model.V2.describe_model_comp_tasks", { source_model_id: modelId }));
      assert.deepEqual(list.result.modelCompTaskList.map((t: any) => t.id), [taskId]);
      expectPageShape(list.result.pageInfo, ID.compTask);
      assert.equal(list.result.pageInfo.isTruncated, false);
      const version = okBody(await py.helper("Model.V2.describe_model", { model_id: done.result.modelId }));
      expectV2ModelVersion(version.result, { modelId: done.result.modelId, modelSetId: setId, status: "Ready", sourceType: "Acceleration" });
      assert.equal(version.result.model, "tiny-py-eval", "an acceleration output names the base model of the version it compressed");
      okBody(await py.helper("Model.V2.delete_model_comp_task", { model_comp_task_id: taskId }));
      const orphan = okBody(await py.helper("Model.V2.describe_model", { model_id: done.result.modelId }));
      assert.equal(orphan.result.model, "py-int8", "with its task deleted, the version's own set: never empty");
      const cancelDone = await py.helper("Model.V2.cancel_model_comp_task", { model_comp_task_id: taskId });
      assert.equal(cancelDone.ok, false, "a deleted task is gone");
    });

    test("Model evaluation helpers: create, info until Done, result, result list, export + status, evaluable models, delete", async () => {
      const evaluable = okBody(await py.helper("Model.evaluable_model_list", {}));
      expectV1Envelope(evaluable);
      for (const entry of evaluable.result) expectV1EvaluableModel(entry);
      assert.ok(evaluable.result.some((set: any) => set.modelVersionList.some((v: any) => v.modelVersionIdStr === modelId)), JSON.stringify(evaluable.result));
      const created = okBody(await py.helper("Model.create_evaluation_task", {
        name: "py-eval", dataset_id: datasetId,
        version_info: [{ modelVersionId: modelId, params: { temperature: 0.5, top_p: 0.9, penalty_score: 1.1, max_output_tokens: 6 } }],
        eval_config: { evalMode: "rule" },
      }));
      const evalId = created.result.evalIdStr as string;
      expectV1Envelope(created);
      expectV1EvalCreated(created.result);
      const info = await poll(() => py.helper("Model.get_evaluation_info", { eval_id: evalId }),
        (b) => !["Pending", "Doing"].includes(b.result.state), "evaluation");
      assert.equal(info.result.state, "Done", JSON.stringify(info));
      expectV1EvalDetail(info.result, { evaluationIdStr: evalId, name: "py-eval", state: "Done", datasetIdStr: datasetId, modelVersionIdStrs: [modelId] });
      assert.equal(info.result.progress, 100);
      const report = okBody(await py.helper("Model.get_evaluation_result", { eval_id: evalId }));
      expectV1Envelope(report);
      assert.equal(report.result.length, 1);
      expectV1EvalReportItem(report.result[0], { modelVersionIdStr: modelId, metrics: ["accuracy", "f1Score", "rouge_1", "rouge_2", "rouge_l", "bleu4"] });
      const results = okBody(await py.helper("Model.get_evaluation_result_list", { id: evalId, page_size: 2 }));
      expectV1Envelope(results);
      expectV1EvalResultPage(results.result, { total: 3, pageNo: 1, pageSize: 2 });
      assert.equal(results.result.results.length, 2);

      const exported = okBody(await py.helper("Model.create_evaluation_result_export_task", { eval_id: evalId }));
      expectV1Envelope(exported);
      expectV1ExportCreated(exported.result);
      const status = await poll(() => py.helper("Model.get_evaluation_result_export_task_status", { export_task_id: exported.result.exportIDStr }),
        (b) => ["Done", "Fail"].includes(b.result.state), "export");
      assert.equal(status.result.state, "Done", JSON.stringify(status));
      expectV1ExportInfo(status.result, { idStr: evalId, exportIDStr: exported.result.exportIDStr, state: "Done" });
      const zip = await fetch(status.result.downloadUrl);
      assert.equal(zip.status, 200);
      assert.equal(zip.headers.get("content-type"), "application/zip");

      const stop = await py.helper("Model.stop_evaluation_task", { eval_id: evalId });
      assert.equal(stop.ok, false, "a finished evaluation cannot be stopped");
      assert.match(stop.error!, /finished/);
      okBody(await py.helper("Model.batch_delete_evaluation_result", { eval_ids: [evalId] }));
      const gone = await py.helper("Model.get_evaluation_info", { eval_id: evalId });
      assert.equal(gone.ok, false);
    });

    test("EvaluationManager.eval (QianfanRuleEvaluator): evaluates, downloads the export zip and reads data.jsonl's per-sample rows", async (t) => {
      const evaluator = await py.helper("qianfan.evaluation.evaluator.QianfanRuleEvaluator", { using_similarity: true, using_accuracy: true });
      if (sdkExtraMissing(t, evaluator)) return;
      const manager = okRef(await py.helper("qianfan.evaluation.EvaluationManager", { qianfan_evaluators: [pyRef(okRef(evaluator).ref)] }));
      const model = okRef(await py.helper("qianfan.model.Model", { id: modelId }));
      const dataset = okRef(await py.helper("qianfan.dataset.Dataset.load", { qianfan_dataset_id: datasetId }));
      // The SDK's whole flow: eval/create, eval/detail until Done, eval/report, eval/result/export,
      // export/info until Done, GET downloadUrl, unzip, Dataset.load(data.jsonl).
      const evaluated = await py.onRef(manager.ref, "eval", { llms: [pyRef(model.ref)], dataset: pyRef(dataset.ref) });
      const result = okRef(evaluated);
      assert.equal(result.value.__class__, "EvaluationResult");
      assert.equal(result.value.result_dataset, "Dataset", "the SDK built a Dataset from the downloaded data.jsonl");
      const metrics = Object.values(result.value.metrics) as Array<Record<string, number>>;
      assert.equal(metrics.length, 1);
      for (const key of ["accuracy", "f1Score", "rouge_1", "rouge_2", "rouge_l", "bleu4"]) assert.equal(typeof metrics[0]![key], "number", key);

      // The same samples as the result list, in Qianfan's column names, every metric a percentage string.
      const evalId = okRef(await py.onRef(manager.ref, "task_id", {}, { call: false })).value as string;
      const samples = okBody(await py.helper("Model.get_evaluation_result_list", { id: evalId, page_size: 10 })).result.results as any[];
      const rows = okRef(await py.onRef(result.ref, "result_dataset.list")).value as Array<Array<Record<string, string>>>;
      assert.equal(rows.length, samples.length, "one line per sample");
      assert.equal(rows.length, 3);
      const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
      for (const [i, group] of rows.entries()) {
        assert.equal(group.length, 1, "each line is an array holding one sample");
        const row = group[0]!;
        const sample = samples[i];
        assert.deepEqual(Object.keys(row), ["模型名称", "模型版本", "Prompt", "Completion（模型回答）", "Response（参考答案）", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L"]);
        assert.deepEqual(row, {
          模型名称: "tiny-py-eval", 模型版本: "V1", Prompt: sample.prompt, "Completion（模型回答）": sample.prediction, "Response（参考答案）": sample.completion,
          "BLEU-4": percent(sample.metrics.bleu4), "ROUGE-1": percent(sample.metrics.rouge_1), "ROUGE-2": percent(sample.metrics.rouge_2), "ROUGE-L": percent(sample.metrics.rouge_l),
        });
      }
      assert.deepEqual(rows.map((g) => g[0]!.Prompt), ["say red", "say blue", "say gold"]);
    });

    test("Model.batch_inference (Dataset.test_using_llm(model_id)): a manual evaluation answers, and the SDK reads its result dataset back", async (t) => {
      const loaded = await py.helper("qianfan.dataset.Dataset.load", { qianfan_dataset_id: datasetId });
      if (sdkExtraMissing(t, loaded)) return;
      const model = okRef(await py.helper("qianfan.model.Model", { id: modelId }));
      // The SDK's flow: modelVersionDetail, eval/create (evalMode manual, 满意度), eval/detail until
      // DoingWithManualBegin, evalStandardConf.resultDatasetIdStr, Dataset.load of that dataset
      // (dataset/info, export, exportRecord, download), mapped to prompt / llm_output / expected_output.
      const answered = okRef(await py.onRef(model.ref, "batch_inference", { dataset: pyRef(okRef(loaded).ref) }));
      const rows = okRef(await py.onRef(answered.ref, "list")).value as Array<Record<string, string>>;
      assert.deepEqual(rows.map((r) => [r.prompt, r.input_prompt, r.expected_output]), ["red", "blue", "gold"].map((w) => [`say ${w}`, `say ${w}`, `${w} ${w} ${w}`]), JSON.stringify(rows));
      for (const row of rows) assert.equal(typeof row.llm_output, "string");
      // The evaluation behind it waits for people's scores, its answers the ones the SDK returned.
      const evals = okBody(await py.helper("Eval.V2.describe_eval_tasks", { eval_type: "manual" })).result.taskList as any[];
      assert.equal(evals.length, 1);
      assert.equal(evals[0].state, "RunningWithManualBegin");
      const results = okBody(await py.helper("Model.get_evaluation_result_list", { id: evals[0].taskId, page_size: 10 })).result.results as any[];
      assert.deepEqual(results.map((r) => r.prediction), rows.map((r) => r.llm_output));
    });

    test("every route this file declares was reached through the SDK", () => {
      expectReachedRoutes(py, "sdk-python-eval.test.ts");
    });
  });
}
