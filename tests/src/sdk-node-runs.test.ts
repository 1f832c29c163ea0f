import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "@sailfin/worker";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { NodeSdk, pollSdk } from "./node-sdk.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { learnableLines, startTestWorker } from "./fixtures/worker-fixtures.js";
import { expectReachedRoutes } from "./sdk-node-coverage.js";
import {
  ID, expectTaskShape, expectV1EvalDetail, expectV1EvalReportItem, expectV1EvalResultPage, expectV1ExportCreated, expectV1ExportInfo,
  expectV1ModelVersion, expectV1Published, expectV2EvalExport, expectV2EvalReport, expectV2EvalTask, expectV2ModelVersion,
} from "./sdk-expect.js";

/**
 * The routes that need a finished run, through the official Node SDK's `consoleAction` against
 * a real server and worker: a tiny LoRA task trained to Done and published both ways (V1
 * `publishTrainModel`, V2 `CreateCustomModel` with sourceType Train), and one evaluation run to
 * the end, read and exported through both dialects (an `ame-` evaluation is one object to V1
 * and V2 alike).
 */

const METRICS = ["accuracy", "f1Score", "rouge_1", "rouge_2", "rouge_l", "bleu4"];

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`official Node SDK consoleAction: finished runs (${dialect})`, () => {
    let server: TestServer;
    let sdk: NodeSdk;
    let worker: Worker;
    let baseModelId = "";
    let datasetId = "";
    let jobId = "";
    let taskId = "";

    before(async () => {
      server = await startTestServer(dialect);
      sdk = new NodeSdk(server.url, ADMIN);
      worker = await startTestWorker(server, `node-runs-${dialect}`);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      baseModelId = (await importBaseModel(server, "tiny-node-runs", { bucket: "hub", objectPath: "llama" })).versionId;
      datasetId = (await releasedDataset(server, { name: "node-runs", format: "PromptResponse", lines: learnableLines(4) })).versionId;
    });
    after(async () => {
      await worker?.stop();
      await server?.close();
    });

    test("V2: a LoRA task trains to Done (every field of the finished task)", async () => {
      jobId = (await sdk.v2("finetuning", "CreateFineTuningJob", { name: "node_runs", model: "tiny-node-runs", trainMode: "SFT" })).result.jobId;
      taskId = (await sdk.v2("finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA", hyperParameterConfig: { epoch: 1, batchSize: 2, maxSeqLen: 128, learningRate: 0.01 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: datasetId }], splitRatio: 20 },
      })).result.taskId;
      const done = (await pollSdk(() => sdk.v2("finetuning", "DescribeFineTuningTask", { taskId }),
        (b) => !["Waiting", "Running"].includes(b.result.runStatus), "training", 90_000)).result;
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      expectTaskShape(done);
      assert.equal(done.runProgress, undefined);
      assert.match(done.finishDate, /Z$/);
      assert.ok(done.checkpointList.length >= 1, "a finished task has its final checkpoint");
      assert.equal(typeof done.checkpointList.at(-1).trainingLoss, "number");
    });

    test("publishTrainModel (V1) and CreateCustomModel sourceType Train (V2): Ready versions with their lineage", async () => {
      assert.ok(taskId, "needs the trained task");
      const published = (await sdk.v1("/wenxinworkshop/modelrepo/publishTrainModel", {
        isNewModel: true, modelName: "node_runs_v1", tags: ["sdk"], versionMeta: { taskId: jobId, iterationId: taskId, description: "v1 publish" },
      })).result;
      expectV1Published(published);
      assert.equal(published.version, "1");
      const ready = (await pollSdk(() => sdk.v1("/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: published.versionIdStr }),
        (b) => b.result.state !== "Creating", `publish of ${published.versionIdStr}`, 60_000)).result;
      expectV1ModelVersion(ready, {
        modelId: published.modelId, modelIdStr: published.modelIDStr, modelVersionIdStr: published.versionIdStr, state: "Ready", sourceType: "Train", detail: true,
      });
      assert.equal(ready.modelVersionId, published.versionId);
      assert.equal(ready.description, "v1 publish");
      const train = ready.sourceExtra.trainSourceExtra;
      assert.equal(train.taskIdStr, jobId);
      assert.equal(train.runIdStr, taskId);
      assert.equal(train.taskName, "node_runs");
      assert.equal(train.templateType, 2000, "SFT's prompt/response template");
      assert.equal(ready.modelNet, "pytorch-LlamaForCausalLM_LORA", "a LoRA run's model net");
      assert.equal(ready.trainType, "tiny-node-runs", "the base model it was trained from");

      const modelSetId: string = (await sdk.v2("model", "CreateCustomModelSet", { modelSetName: "node_runs_v2", modelType: "Text2Text" })).result;
      const created = (await sdk.v2("model", "CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId }, description: "v2 publish" })).result;
      assert.equal(created.status, "Creating");
      assert.match(created.modelId, ID.modelVersion);
      assert.equal(created.modelName, "node_runs_v2-V1");
      const version = (await pollSdk(() => sdk.v2("model", "DescribeModel", { modelId: created.modelId }),
        (b) => b.result.status !== "Creating", "V2 publish", 60_000)).result;
      expectV2ModelVersion(version, { modelId: created.modelId, modelSetId, status: "Ready", sourceType: "Train" });
      assert.equal(version.sourceInfo.trainTaskId, taskId);
      assert.equal(version.sourceInfo.trainJobId, jobId);
      assert.equal(typeof version.sourceInfo.checkpointStep, "number");
      assert.equal(version.model, "tiny-node-runs");
      assert.equal(version.description, "v2 publish");
    });

    test("one evaluation to the end: V1 create/detail/report/result list/export, V2 describe/report/export, both downloads", async () => {
      const created = (await sdk.v1("/wenxinworkshop/modelrepo/eval/create", {
        name: "node-runs-eval", datasetId,
        versionEvalInfo: [{ modelVersionId: baseModelId, params: { max_output_tokens: 4 } }],
        evalStandardConf: { evalMode: "rule" },
      })).result;
      const evalId: string = created.evalIdStr;
      const detail = (await pollSdk(() => sdk.v1("/wenxinworkshop/modelrepo/eval/detail", { id: evalId }),
        (b) => !["Pending", "Doing"].includes(b.result.state), "evaluation", 90_000)).result;
      expectV1EvalDetail(detail, { evaluationIdStr: evalId, name: "node-runs-eval", state: "Done", datasetIdStr: datasetId, modelVersionIdStrs: [baseModelId] });
      assert.equal(detail.progress, 100);
      assert.match(detail.finishTime, /\+00:00$/);
      assert.equal(detail.evalUnits[0].state, "Done");

      const report = (await sdk.v1("/wenxinworkshop/modelrepo/eval/report", { id: created.evalId })).result;
      assert.equal(report.length, 1);
      expectV1EvalReportItem(report[0], { modelVersionIdStr: baseModelId, metrics: METRICS });
      assert.equal(report[0].samples, 4);
      assert.equal(report[0].evaluationId, created.evalId);
      assert.equal(report[0].evaluationName, "node-runs-eval");
      const results = (await sdk.v1("/wenxinworkshop/modelrepo/eval/result/list", { id: evalId, pageSize: 3 })).result;
      expectV1EvalResultPage(results, { total: 4, pageNo: 1, pageSize: 3 });
      assert.equal(results.results.length, 3);

      // The same evaluation through V2.
      const task = (await sdk.v2("eval", "DescribeEvalTask", { taskId: evalId })).result;
      expectV2EvalTask(task, { taskId: evalId, taskName: "node-runs-eval", state: "Successed", datasetVersionId: datasetId, modelIds: [baseModelId] });
      assert.equal(task.models[0].state, "Successed");
      const v2Report = (await sdk.v2("eval", "DescribeEvalTaskReport", { taskId: evalId })).result;
      expectV2EvalReport(v2Report, { taskId: evalId, modelIds: [baseModelId], metrics: METRICS });
      assert.equal(v2Report.state, "Successed");
      assert.deepEqual(v2Report.reports[0].effectMetric, report[0].effectMetric, "one evaluation, one report");

      const v1Export = (await sdk.v1("/wenxinworkshop/modelrepo/eval/result/export", { id: evalId, exportType: "local", exportOpt: "total" })).result;
      expectV1ExportCreated(v1Export);
      const info = (await pollSdk(() => sdk.v1("/wenxinworkshop/modelrepo/eval/result/export/info", { exportID: v1Export.exportID }),
        (b) => ["Done", "Fail"].includes(b.result.state), "V1 export", 60_000)).result;
      expectV1ExportInfo(info, { idStr: evalId, exportIDStr: v1Export.exportIDStr, state: "Done" });
      assert.equal(info.id, created.evalId);
      assert.equal(info.exportType, "local");
      assert.match(info.downloadUrl, new RegExp(`^${server.url}/sailfin/v1/exports/${v1Export.exportIDStr}/download\\?`), "a link on the host the SDK called");

      const exportTaskId: string = (await sdk.v2("eval", "CreateEvalResultExportTask", {
        evalId, storageType: "sysStorage", exportContent: ["prompt", "prediction", "completion", "metrics"],
      })).result;
      assert.match(exportTaskId, ID.evalExport);
      const exported = (await pollSdk(() => sdk.v2("eval", "DescribeEvalResultExportTask", { exportTaskId }),
        (b) => ["Done", "Fail"].includes(b.result.state), "V2 export", 60_000)).result;
      expectV2EvalExport(exported, { exportTaskId, evalId, state: "Done" });
      assert.equal(exported.bucket, "");
      assert.match(exported.finishTime, /\+00:00$/);
      const latest = (await sdk.v2("eval", "DescribeEvalResultExportTask", { evalId })).result;
      // The same export; its link is signed afresh at each read (expiry one hour from then), so
      // two reads a second apart may differ there and only there.
      const unsigned = (url: string) => url.replace(/\?.*$/, "");
      assert.deepEqual({ ...latest, downloadUrl: unsigned(latest.downloadUrl) }, { ...exported, downloadUrl: unsigned(exported.downloadUrl) }, "by evaluation: its latest export");

      for (const url of [info.downloadUrl, exported.downloadUrl]) {
        const zip = await fetch(url);
        assert.equal(zip.status, 200, url);
        assert.equal(zip.headers.get("content-type"), "application/zip");
        assert.equal(Buffer.from(await zip.arrayBuffer()).subarray(0, 2).toString("latin1"), "PK");
      }
    });

    test("every route this file declares was reached through consoleAction", () => {
      expectReachedRoutes(sdk, "sdk-node-runs.test.ts");
    });
  });
}
