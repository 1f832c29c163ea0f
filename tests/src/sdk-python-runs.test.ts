import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "@sailfin/worker";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { PythonSdk, okBody, okRef, pollPython, pyEnum, pythonSdkMissing, sdkExtraMissing } from "./python-sdk.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { learnableLines, startTestWorker } from "./fixtures/worker-fixtures.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";
import {
  ID, expectRequestId, expectTaskShape, expectV1Envelope, expectV1ModelVersion, expectV1Published, expectV2EvalExport,
  expectV2EvalReport, expectV2EvalTask, expectV2ModelVersion,
} from "./sdk-expect.js";

/**
 * The routes that need a finished run, through the official Python SDK against a real server
 * and worker: a tiny task trained to Done and published (V1 `Model.publish`, V2
 * `create_custom_model` with sourceType Train, and the higher-level
 * `qianfan.model.Model(...).publish()`), and a V2 evaluation run to the end, with its report and
 * result export.
 */

const missing = pythonSdkMissing();

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`official Python SDK: finished runs (${dialect})`, { skip: missing ?? false }, () => {
    let server: TestServer;
    let py: PythonSdk;
    let worker: Worker;
    let baseModelId = "";
    let datasetId = "";
    let jobId = "";
    let taskId = "";

    before(async () => {
      server = await startTestServer(dialect);
      py = new PythonSdk({ ...ADMIN, baseUrl: server.url });
      worker = await startTestWorker(server, `py-runs-${dialect}`);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      baseModelId = (await importBaseModel(server, "tiny-py-runs", { bucket: "hub", objectPath: "llama" })).versionId;
      datasetId = (await releasedDataset(server, { name: "py-runs", format: "PromptResponse", lines: learnableLines(4) })).versionId;
    });
    after(async () => {
      await worker?.stop();
      await py?.close();
      await server?.close();
    });

    const waitReadyV1 = (versionIdStr: string) =>
      pollPython(() => py.helper("Model.detail", { model_version_id: versionIdStr }), (b) => b.result.state !== "Creating", `publish of ${versionIdStr}`, 60_000);

    test("FineTune.V2: a task trains to Done (every field of the finished task)", async () => {
      jobId = okBody(await py.helper("FineTune.V2.create_job", { name: "py_runs", model: "tiny-py-runs", train_mode: pyEnum("TrainMode.SFT") })).result.jobId;
      taskId = okBody(await py.helper("FineTune.V2.create_task", {
        job_id: jobId, params_scale: "LoRA", hyper_params: { epoch: 1, batchSize: 2, maxSeqLen: 128, learningRate: 0.01 },
        dataset_config: { sourceType: "Platform", versions: [{ versionId: datasetId }], splitRatio: 20 },
      })).result.taskId;
      const done = await pollPython(() => py.helper("FineTune.V2.task_detail", { task_id: taskId }),
        (b) => !["Waiting", "Running"].includes(b.result.runStatus), "training", 90_000);
      expectRequestId(done);
      assert.equal(done.result.runStatus, "Done", JSON.stringify(done.result));
      expectTaskShape(done.result);
      assert.ok(done.result.checkpointList.length >= 1, "a finished task has its final checkpoint");
    });

    test("Model.publish (V1 publishTrainModel) and Model.V2.create_custom_model (sourceType Train): Ready versions with lineage", async () => {
      assert.ok(taskId, "needs the trained task");
      const published = okBody(await py.helper("Model.publish", {
        is_new: true, model_name: "py_runs_v1", tags: ["sdk"], version_meta: { taskId: jobId, iterationId: taskId, description: "v1 publish" },
      }));
      expectV1Envelope(published);
      expectV1Published(published.result);
      assert.equal(published.result.version, "1");
      const ready = await waitReadyV1(published.result.versionIdStr);
      expectV1ModelVersion(ready.result, {
        modelId: published.result.modelId, modelIdStr: published.result.modelIDStr, modelVersionIdStr: published.result.versionIdStr,
        state: "Ready", sourceType: "Train", detail: true,
      });
      assert.equal(ready.result.sourceExtra.trainSourceExtra.taskIdStr, jobId);
      assert.equal(ready.result.sourceExtra.trainSourceExtra.runIdStr, taskId);
      assert.equal(ready.result.modelNet, "pytorch-LlamaForCausalLM_LORA", "a LoRA run's model net");

      const setId = okBody(await py.helper("Model.V2.create_custom_model_set", { model_set_name: "py_runs_v2", model_type: "Text2Text" })).result;
      const created = okBody(await py.helper("Model.V2.create_custom_model", {
        model_set_id: setId, source_type: pyEnum("CreateCustomModelSourceType.Train"), train_meta: { taskId }, description: "v2 publish",
      }));
      expectRequestId(created);
      assert.equal(created.result.status, "Creating");
      assert.match(created.result.modelId, ID.modelVersion);
      const version = await pollPython(() => py.helper("Model.V2.describe_model", { model_id: created.result.modelId }),
        (b) => b.result.status !== "Creating", "V2 publish", 60_000);
      expectV2ModelVersion(version.result, { modelId: created.result.modelId, modelSetId: setId, status: "Ready", sourceType: "Train" });
      assert.equal(version.result.sourceInfo.trainTaskId, taskId);
      assert.equal(version.result.sourceInfo.trainJobId, jobId);
      assert.equal(typeof version.result.sourceInfo.checkpointStep, "number");
      assert.equal(version.result.model, "tiny-py-runs", "the base model it was trained from");
    });

    test("qianfan.model.Model(task_id, job_id).publish(): the SDK's own publish flow ends with a Ready version", async (t) => {
      assert.ok(taskId, "needs the trained task");
      // V2 task and job ids: the SDK sends them as V1 iterationId and taskId.
      const model = await py.helper("qianfan.model.Model", { task_id: taskId, job_id: jobId });
      if (sdkExtraMissing(t, model)) return;
      const { ref } = okRef(model);
      const published = okRef(await py.onRef(ref, "publish", { name: "py_runs_model" })).value;
      assert.equal(published.__class__, "Model");
      assert.match(published.id, ID.modelVersion);
      assert.match(published.set_id, ID.modelSet);
      const version = okBody(await py.helper("Model.detail", { model_version_id: published.id })).result;
      assert.equal(version.state, "Ready");
      assert.equal(version.modelName, "py_runs_model");
      assert.equal(version.sourceExtra.trainSourceExtra.runIdStr, taskId);
    });

    test("Eval.V2: an evaluation runs to Successed; report, result export (call_action) until Done, download, delete", async () => {
      const evalId = okBody(await py.helper("Eval.V2.create_eval_task", {
        task_name: "py-runs-eval", eval_object_type: "model",
        eval_object_config: { evalModelConfig: { versionId: datasetId, evalModelConfigList: [{ modelId: baseModelId, inferenceParams: { max_output_tokens: 4 } }] } },
        eval_config: { evalMode: "rule" },
      })).result as string;
      const done = await pollPython(() => py.helper("Eval.V2.describe_eval_task", { task_id: evalId }),
        (b) => !["Queued", "Running"].includes(b.result.state), "evaluation", 90_000);
      expectV2EvalTask(done.result, { taskId: evalId, taskName: "py-runs-eval", state: "Successed", datasetVersionId: datasetId, modelIds: [baseModelId] });
      assert.match(done.result.finishTime, /\+00:00$/);
      const report = okBody(await py.helper("Eval.V2.describe_eval_task_report", { task_id: evalId }));
      expectRequestId(report);
      expectV2EvalReport(report.result, { taskId: evalId, modelIds: [baseModelId], metrics: ["accuracy", "f1Score", "rouge_1", "rouge_2", "rouge_l", "bleu4"] });
      assert.equal(report.result.reports[0].samples, 4);

      // Eval.V2 has no export helpers in 0.4.12.3.
      const exportTaskId = okBody(await py.action("/v2/eval", "CreateEvalResultExportTask", {
        evalId, storageType: "sysStorage", exportContent: ["prompt", "prediction", "completion", "metrics"],
      })).result as string;
      assert.match(exportTaskId, ID.evalExport);
      const exported = await pollPython(() => py.action("/v2/eval", "DescribeEvalResultExportTask", { exportTaskId }),
        (b) => ["Done", "Fail"].includes(b.result.state), "export", 60_000);
      expectRequestId(exported);
      expectV2EvalExport(exported.result, { exportTaskId, evalId, state: "Done" });
      const latest = okBody(await py.action("/v2/eval", "DescribeEvalResultExportTask", { evalId })).result;
      assert.equal(latest.exportTaskId, exportTaskId, "by evaluation: its latest export");
      const zip = await fetch(exported.result.downloadUrl);
      assert.equal(zip.status, 200);
      assert.equal(zip.headers.get("content-type"), "application/zip");

      assert.equal(okBody(await py.helper("Eval.V2.delete_eval_task", { task_id: evalId })).result, true);
      assert.equal((await py.helper("Eval.V2.describe_eval_task", { task_id: evalId })).status, 400);
    });

    test("every route this file declares was reached through the SDK", () => {
      expectReachedRoutes(py, "sdk-python-runs.test.ts");
    });
  });
}
