import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { NodeSdk, pollSdk } from "./node-sdk.js";
import { seedTrainingInputs, type TrainingInputs } from "./sdk-fixtures.js";
import { importModel } from "./fixtures/model-imports.js";
import { expectReachedRoutes } from "./sdk-node-coverage.js";
import {
  ID, expectCompTask, expectJobItem, expectJobShape, expectPageShape, expectSupportModel, expectTask, expectTaskShape,
  expectV1EvalCreated, expectV1EvalDetail, expectV1EvalResultPage, expectV1EvaluableModel, expectV1JobCreated, expectV1JobDetail,
  expectV1JobShape, expectV1ModelDetail, expectV1ModelVersion, expectV1TaskCreated, expectV1UserListItem, expectV2EvalTask,
  expectV2ModelSet, expectV2ModelVersion,
} from "./sdk-expect.js";

/**
 * Every route that needs no finished run, called through the official Node SDK's
 * `consoleAction` (`@baiducloud/qianfan`), each answer checked field by field against what the
 * route renders, and each envelope as consoleAction hands it back (NodeSdk: response headers
 * merged in, V2 errors as HTTP failures, V1 business errors as HTTP 200 bodies). No worker runs
 * here, so tasks, compressions and evaluations stay queued: what is stopped is stopped before it
 * starts. Routes that need a finished run are in sdk-node-runs.test.ts, datasets in
 * sdk-node-datasets.test.ts.
 */

for (const dialect of testDialects()) {
  describe(`official Node SDK consoleAction: every route without a worker (${dialect})`, () => {
    let server: TestServer;
    let sdk: NodeSdk;
    let inputs: TrainingInputs;
    const tag = `noderoutes${dialect}`;
    before(async () => {
      server = await startTestServer(dialect);
      sdk = new NodeSdk(server.url, ADMIN);
      inputs = await seedTrainingInputs(server, tag);
    });
    after(async () => { await server?.close(); });

    test("V2 fine-tuning: jobs (pages, filter), a task queued, listed, stopped, deleted; supported models", async () => {
      const { baseModel, datasetVersionId } = inputs;
      const job = { name: "node_routes_job", description: "made by consoleAction", model: baseModel, trainMode: "SFT" };
      const created = await sdk.v2("finetuning", "CreateFineTuningJob", job);
      assert.deepEqual(Object.keys(created.result), ["jobId"]);
      const jobId: string = created.result.jobId;
      assert.match(jobId, ID.job);
      const newer: string = (await sdk.v2("finetuning", "CreateFineTuningJob", { ...job, name: "node_routes_newer" })).result.jobId;

      const first = (await sdk.v2("finetuning", "DescribeFineTuningJobs", { maxKeys: 1 })).result;
      assert.deepEqual(first.jobList.map((j: any) => j.jobId), [newer], "newest first");
      expectPageShape(first.pageInfo, ID.job);
      assert.deepEqual(first.pageInfo, { marker: "", maxKeys: 1, isTruncated: true, nextMarker: jobId });
      const second = (await sdk.v2("finetuning", "DescribeFineTuningJobs", { maxKeys: 1, marker: first.pageInfo.nextMarker })).result;
      assert.deepEqual(second.jobList.map((j: any) => j.jobId), [jobId], "the marker is inclusive");
      assert.equal(second.pageInfo.marker, jobId);
      expectJobShape(second.jobList[0]);
      expectJobItem(second.jobList[0], { jobId, ...job });
      const byModel = (await sdk.v2("finetuning", "DescribeFineTuningJobs", { model: baseModel, trainMode: "SFT", maxKeys: 100 })).result;
      assert.deepEqual(byModel.jobList.map((j: any) => j.jobId), [newer, jobId]);
      for (const item of byModel.jobList) expectJobShape(item);
      expectPageShape(byModel.pageInfo);
      assert.deepEqual((await sdk.v2("finetuning", "DescribeFineTuningJobs", { trainMode: "DPO" })).result.jobList, [], "the trainMode filter applies");

      const task = await sdk.v2("finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA", description: "queued only",
        hyperParameterConfig: { epoch: 1, learningRate: 0.0003 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 20 },
      });
      assert.deepEqual(Object.keys(task.result).sort(), ["jobId", "taskId"]);
      assert.equal(task.result.jobId, jobId);
      const taskId: string = task.result.taskId;
      assert.match(taskId, ID.task);

      const detail = (await sdk.v2("finetuning", "DescribeFineTuningTask", { taskId })).result;
      expectTask(detail, { taskId, jobId, runStatus: "Waiting", trainMode: "SFT", parameterScale: "LoRA" });
      expectTaskShape(detail);
      assert.equal(detail.runProgress, undefined, "runProgress only while Running");
      assert.equal(detail.jobName, "node_routes_job");
      assert.equal(detail.jobDescription, "made by consoleAction");
      assert.equal(detail.description, "queued only");
      assert.equal(detail.model, baseModel);
      assert.deepEqual(detail.checkpointList, []);
      assert.equal(detail.finishDate, "0000-00-00T00:00:00Z", "unset times keep the V2 form");
      assert.equal(new URL(detail.vdlLink).host, new URL(server.url).host, "the link names the host the SDK called");
      assert.equal(detail.hyperParameterConfig.epoch, 1);
      assert.equal(detail.hyperParameterConfig.learningRate, 0.0003);
      assert.deepEqual(detail.datasetConfig.versions.map((v: any) => v.versionId), [datasetVersionId]);
      assert.equal(detail.datasetConfig.splitRatio, 20);

      const tasks = (await sdk.v2("finetuning", "DescribeFineTuningTasks", { jobId, maxKeys: 5 })).result;
      assert.deepEqual(tasks.taskList.map((t: any) => t.taskId), [taskId]);
      for (const t of tasks.taskList) expectTaskShape(t);
      assert.deepEqual(tasks.pageInfo, { marker: "", maxKeys: 5, isTruncated: false });

      // A job with a waiting task cannot go: 409 ResourceInUse, a rejection like any non-2xx.
      const busy = await sdk.v2Error("finetuning", "DeleteFineTuningJob", { jobId });
      assert.equal(busy.status, 409);
      assert.equal(busy.body.code, "ResourceInUse");

      assert.equal((await sdk.v2("finetuning", "StopFineTuningTask", { taskId })).result, true);
      const stopped = (await sdk.v2("finetuning", "DescribeFineTuningTask", { taskId })).result;
      expectTask(stopped, { taskId, jobId, runStatus: "Stopped", trainMode: "SFT", parameterScale: "LoRA" });
      expectTaskShape(stopped);
      assert.equal((await sdk.v2("finetuning", "StopFineTuningTask", { taskId })).result, true, "stopping a stopped task is idempotent");

      assert.equal((await sdk.v2("finetuning", "DeleteFineTuningTask", { taskId })).result, true);
      const goneTask = await sdk.v2Error("finetuning", "DescribeFineTuningTask", { taskId });
      assert.equal(goneTask.status, 400);
      assert.equal(goneTask.body.code, "InappropriateJSON");
      assert.match(goneTask.body.message, /param\[taskId\]/);
      assert.equal((await sdk.v2("finetuning", "DeleteFineTuningJob", { jobId })).result, true);
      const left = (await sdk.v2("finetuning", "DescribeFineTuningJobs", { maxKeys: 100 })).result.jobList;
      assert.deepEqual(left.map((j: any) => j.jobId), [newer], "the deleted job is not listed");
      const badMarker = await sdk.v2Error("finetuning", "DescribeFineTuningJobs", { marker: jobId });
      assert.equal(badMarker.status, 400);
      assert.equal(badMarker.body.code, "InvalidMarker");
      const shortName = await sdk.v2Error("finetuning", "CreateFineTuningJob", { ...job, name: "x" });
      assert.equal(shortName.status, 400);
      assert.match(shortName.body.message, /name/);

      // consoleAction sends no body at all without `data` (content-length 0): read as `{}`.
      const support = await sdk.v2("finetuning", "DescribeFineTuningSupportModels");
      assert.ok(Array.isArray(support.result));
      assert.ok(support.result.some((m: any) => m.model === baseModel), "the imported base model can be tuned");
      for (const entry of support.result) expectSupportModel(entry);
    });

    test("V1 fine-tuning: createTask, createJob, jobDetail (numbers, digit strings, public ids), stopJob", async () => {
      const { baseModel, datasetVersionNum } = inputs;
      const createdTask = await sdk.v1("/wenxinworkshop/finetune/createTask", { name: "node_routes_v1", baseTrainType: baseModel, trainType: baseModel, description: "v1" });
      expectV1TaskCreated(createdTask.result, { name: "node_routes_v1", description: "v1" });
      const taskId: number = createdTask.result.id;
      const createdJob = await sdk.v1("/wenxinworkshop/finetune/createJob", {
        taskId, jobRunType: 0, baseTrainType: baseModel, trainType: baseModel, trainMode: "SFT", peftType: "LoRA",
        trainConfig: { epoch: 1, learningRate: 0.0003 }, trainset: [{ type: 1, id: datasetVersionNum }], trainsetRate: 20,
      });
      expectV1JobCreated(createdJob.result);
      const jobId: number = createdJob.result.id;

      const detail = (await sdk.v1("/wenxinworkshop/finetune/jobDetail", { taskId, jobId })).result;
      expectV1JobShape(detail);
      expectV1JobDetail(detail, { id: jobId, taskId, trainStatus: "RUNNING" });
      assert.equal(detail.progress, 0, "V1 has no queued state: a queued run reads RUNNING at 0");
      assert.equal(detail.startTime, "0000-00-00 00:00:00");
      assert.equal(detail.finishTime, "0000-00-00 00:00:00");
      assert.equal(detail.runTime, 0);
      assert.equal(detail.version, 1);
      assert.equal(detail.jobRunType, 0);
      assert.equal(detail.peftType, "LoRA");
      assert.equal(detail.taskName, "node_routes_v1");
      assert.equal(detail.trainType, baseModel);
      const byString = (await sdk.v1("/wenxinworkshop/finetune/jobDetail", { taskId: String(taskId), jobId: String(jobId) })).result;
      assert.deepEqual(byString, detail, "digit strings name the same run");

      assert.equal((await sdk.v1("/wenxinworkshop/finetune/stopJob", { taskId, jobId })).result, true);
      const stopped = (await sdk.v1("/wenxinworkshop/finetune/jobDetail", { taskId: createdTask.result.uuid, jobId: createdJob.result.uuid })).result;
      expectV1JobDetail(stopped, { id: jobId, taskId, trainStatus: "STOP" });
      expectV1JobShape(stopped);

      const missing = await sdk.v1Error("/wenxinworkshop/finetune/jobDetail", { taskId, jobId: 987654321 });
      assert.equal(missing.body.error_code, 500001);
      assert.match(missing.body.error_msg, /param\[jobId\]/);
      const invalid = await sdk.v1Error("/wenxinworkshop/finetune/createTask", { name: "x", baseTrainType: baseModel, trainType: baseModel });
      assert.equal(invalid.body.error_code, 500001);
    });

    test("V2 model repository: sets (pages, by name), an imported version until Ready, system sets, delete", async () => {
      const setId = await sdk.v2("model", "CreateCustomModelSet", { modelSetName: "node_routes_set", modelType: "Text2Text", labels: ["tiny", "sdk"], description: "a set" });
      assert.match(setId.result, ID.modelSet);
      const modelSetId: string = setId.result;

      const created = (await sdk.v2("model", "CreateCustomModel", {
        modelSetId, sourceType: "Import", description: "imported through consoleAction",
        importMeta: { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` },
      })).result;
      assert.deepEqual(Object.keys(created).sort(), ["modelId", "modelName", "modelSetId", "status"]);
      assert.equal(created.modelSetId, modelSetId);
      assert.match(created.modelId, ID.modelVersion);
      assert.equal(created.modelName, "node_routes_set-V1");
      assert.equal(created.status, "Creating");
      const modelId: string = created.modelId;
      const ready = (await pollSdk(() => sdk.v2("model", "DescribeModel", { modelId }), (b) => b.result.status !== "Creating", "import")).result;
      expectV2ModelVersion(ready, { modelId, modelSetId, status: "Ready", sourceType: "Import" });
      assert.equal(ready.description, "imported through consoleAction");
      assert.equal(ready.sourceInfo.importBosUri, `bos:/sdk-models/sdk-base-${tag}/`);
      assert.equal(ready.modelName, "node_routes_set-V1");
      assert.equal(typeof ready.tokenLimitations.trivial.inputTokens, "number");

      const set = (await sdk.v2("model", "DescribeModelSet", { modelSetId })).result;
      expectV2ModelSet(set, { modelSetId, modelSetName: "node_routes_set", modelType: "Text2Text", modelIds: [modelId] });
      assert.deepEqual(set.labels, ["tiny", "sdk"]);
      assert.equal(set.description, "a set");
      assert.deepEqual(set.modelNames, ["node_routes_set-V1"]);
      assert.deepEqual((await sdk.v2("model", "DescribeModelSet", { modelSetName: "node_routes_set" })).result, set, "by name: the same set");

      const firstPage = (await sdk.v2("model", "DescribeCustomModelSets", { maxKeys: 1 })).result;
      expectPageShape(firstPage.pageInfo, ID.modelSet);
      assert.equal(firstPage.pageInfo.isTruncated, true, "the base model's set is on the next page");
      expectV2ModelSet(firstPage.customModelSetList[0], { modelSetId, modelSetName: "node_routes_set", modelType: "Text2Text", modelIds: [modelId], listItem: true });
      const next = (await sdk.v2("model", "DescribeCustomModelSets", { maxKeys: 100, marker: firstPage.pageInfo.nextMarker })).result;
      assert.deepEqual(next.customModelSetList.map((s: any) => s.modelSetId), [inputs.baseModelSetId]);
      expectV2ModelSet(next.customModelSetList[0], {
        modelSetId: inputs.baseModelSetId, modelSetName: inputs.baseModel, modelType: "Text2Text", modelIds: [inputs.baseModelVersionId], listItem: true,
      });
      assert.deepEqual(next.pageInfo, { marker: firstPage.pageInfo.nextMarker, maxKeys: 100, isTruncated: false });

      const system = await sdk.v2("model", "DescribeSystemModelSets", { maxKeys: 20 });
      assert.deepEqual(system.result, { systemModelSetList: [], pageInfo: { marker: "", maxKeys: 20, isTruncated: false } }, "Sailfin has no platform presets");
      const noPreset = await sdk.v2Error("model", "DescribeSystemModelSets", { marker: "am-doesnotexist" });
      assert.equal(noPreset.body.code, "InvalidMarker");

      const taken = await sdk.v2Error("model", "CreateCustomModelSet", { modelSetName: "node_routes_set", modelType: "Text2Text" });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.code, "ResourceInUse");
      assert.equal((await sdk.v2("model", "DeleteModel", { modelId })).result, true);
      const goneModel = await sdk.v2Error("model", "DescribeModel", { modelId });
      assert.equal(goneModel.status, 400);
      assert.match(goneModel.body.message, /param\[modelId\]/);
      assert.deepEqual((await sdk.v2("model", "DescribeModelSet", { modelSetId })).result.modelIds, []);
      assert.equal((await sdk.v2("model", "DeleteModelSet", { modelSetId })).result, true);
      const goneSet = await sdk.v2Error("model", "DescribeModelSet", { modelSetId });
      assert.match(goneSet.body.message, /param\[modelSetId\]/);
    });

    test("V1 model repository: modelDetail, modelVersionDetail, model/user/list, model/preset/list, batch deletes", async () => {
      const { baseModel, baseModelSetId, baseModelSetNum, baseModelVersionId, baseModelVersionNum } = inputs;
      const detail = (await sdk.v1("/wenxinworkshop/modelrepo/modelDetail", { modelId: baseModelSetId })).result;
      expectV1ModelDetail(detail, { modelId: baseModelSetNum, modelIdStr: baseModelSetId, modelName: baseModel, versionIds: [baseModelVersionId] });
      for (const v of detail.modelVersionList) expectV1ModelVersion(v, { modelId: baseModelSetNum, modelIdStr: baseModelSetId, modelVersionIdStr: v.modelVersionIdStr, sourceType: "Import" });
      assert.equal(detail.modelType, 0, "Text2Text is V1 type 0");
      assert.equal(detail.trainType, baseModel);
      assert.deepEqual((await sdk.v1("/wenxinworkshop/modelrepo/modelDetail", { modelId: baseModelSetNum })).result, detail, "by number: the same set");

      const version = (await sdk.v1("/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: baseModelVersionNum })).result;
      expectV1ModelVersion(version, { modelId: baseModelSetNum, modelIdStr: baseModelSetId, modelVersionIdStr: baseModelVersionId, state: "Ready", sourceType: "Import", detail: true });
      assert.equal(version.modelVersionId, baseModelVersionNum);
      assert.equal(version.algorithm, "LlamaForCausalLM");
      assert.equal(version.modelNet, "pytorch-LlamaForCausalLM");
      assert.deepEqual(version.params, {});
      assert.deepEqual(version.sourceExtra.importModelVersionSourceExtra, { bucket: "sdk-models", object: `sdk-base-${tag}` });
      const missingVersion = await sdk.v1Error("/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: "amv-doesnotexist" });
      assert.equal(missingVersion.body.error_code, 70102);

      // Two more sets to delete: one version by version number, one set by set id.
      const doomed = await importModel(server, "node_v1_doomed", { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` });
      const second = await importModel(server, "node_v1_doomed", { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` }, { modelSetId: doomed.setId });
      const users = (await sdk.v1("/wenxinworkshop/modelrepo/model/user/list", { nameFilter: "node_v1_doomed", modelType: [0], pageNo: 1, pageSize: 1 })).result;
      assert.deepEqual(Object.keys(users).sort(), ["items", "total"]);
      assert.equal(users.total, 1);
      expectV1UserListItem(users.items[0], { modelIdStr: doomed.setId, modelName: "node_v1_doomed", versionCount: 2, latestVersionIdStr: second.versionId });
      const page2 = (await sdk.v1("/wenxinworkshop/modelrepo/model/user/list", { pageNo: 2, pageSize: 1, order: "asc" })).result;
      assert.equal(page2.total, 2, "the base set and the doomed one");
      assert.deepEqual(page2.items.map((i: any) => i.modelIdStr), [doomed.setId], "oldest first: the base set, then this");
      assert.deepEqual((await sdk.v1("/wenxinworkshop/modelrepo/model/user/list", { modelType: [1] })).result, { total: 0, items: [] });
      const presets = await sdk.v1("/wenxinworkshop/modelrepo/model/preset/list", { pageNo: 1, pageSize: 10 });
      assert.deepEqual(presets.result, { total: 0, items: [] }, "Sailfin has no platform presets");

      assert.equal((await sdk.v1("/wenxinworkshop/modelrepo/model/version/batchDelete", { modelVersionIds: [second.versionNum] })).result, true);
      const left = (await sdk.v1("/wenxinworkshop/modelrepo/modelDetail", { modelId: doomed.setId })).result;
      assert.deepEqual(left.modelVersionList.map((v: any) => v.modelVersionIdStr), [doomed.versionId]);
      assert.equal((await sdk.v1("/wenxinworkshop/modelrepo/model/batchDelete", { modelIDs: [doomed.setId] })).result, true);
      const gone = await sdk.v1Error("/wenxinworkshop/modelrepo/modelDetail", { modelId: doomed.setId });
      assert.equal(gone.body.error_code, 500001);
    });

    test("compression without a worker: create, describe, list (pages by source), Cancel (no result), Stop (Cancel's alias), delete", async () => {
      const { baseModelVersionId } = inputs;
      const modelSetId: string = (await sdk.v2("model", "CreateCustomModelSet", { modelSetName: "node_routes_int8", modelType: "Text2Text" })).result;
      const create = async (name: string) => (await sdk.v2("model", "CreateModelCompTask", {
        name, sourceModelId: baseModelVersionId, modelSetId, config: { strategy: "Quantization", weight: "INT8-PTQ" }, description: "queued only",
      })).result as string;
      const cancelId = await create("mco_cancel");
      assert.match(cancelId, ID.compTask);
      const stopId = await create("mco_stop");

      const described = (await sdk.v2("model", "DescribeModelCompTask", { modelCompTaskId: cancelId })).result;
      expectCompTask(described, { id: cancelId, name: "mco_cancel", sourceModelId: baseModelVersionId, status: "creating" });
      assert.deepEqual(described.config, { strategy: "Quantization", weight: "INT8-PTQ", quantConf: "wint8" }, "the weight named as the runtime's scheme");
      assert.equal(described.description, "queued only");
      assert.equal(described.progress, 0);
      assert.equal(described.finishTime, undefined, "no finishTime before it finishes");
      assert.equal(described.sizeAfterBytes, undefined, "measurements only once it has a result");

      const list = (await sdk.v2("model", "DescribeModelCompTasks", { sourceModelId: baseModelVersionId, maxKeys: 1 })).result;
      assert.deepEqual(list.modelCompTaskList.map((t: any) => t.id), [stopId], "newest first");
      expectPageShape(list.pageInfo, ID.compTask);
      assert.deepEqual(list.pageInfo, { marker: "", maxKeys: 1, isTruncated: true, nextMarker: cancelId });
      for (const t of list.modelCompTaskList) expectCompTask(t, { id: stopId, name: "mco_stop", sourceModelId: baseModelVersionId, status: "creating" });
      const unknownSource = await sdk.v2Error("model", "DescribeModelCompTasks", { sourceModelId: "amv-doesnotexist" });
      assert.match(unknownSource.body.message, /param\[sourceModelId\]/);

      const cancelled = await sdk.v2("model", "CancelModelCompTask", { modelCompTaskId: cancelId });
      assert.equal("result" in cancelled, false, "Cancel answers only requestId");
      const stopped = await sdk.v2("model", "StopModelCompTask", { modelCompTaskId: stopId });
      assert.equal("result" in stopped, false, "Stop is Cancel's alias");
      for (const [id, name] of [[cancelId, "mco_cancel"], [stopId, "mco_stop"]] as const) {
        const task = (await sdk.v2("model", "DescribeModelCompTask", { modelCompTaskId: id })).result;
        expectCompTask(task, { id, name, sourceModelId: baseModelVersionId, status: "stopped" });
        assert.equal((await sdk.v2("model", "DeleteModelCompTask", { modelCompTaskId: id })).result, true);
      }
      const gone = await sdk.v2Error("model", "DescribeModelCompTask", { modelCompTaskId: cancelId });
      assert.equal(gone.status, 400);
      assert.match(gone.body.message, /param\[modelCompTaskId\]/);
    });

    test("V1 evaluation without a worker: create, detail, result/list, model/list, cancel, delete", async () => {
      const { baseModelSetId, baseModelSetNum, baseModelVersionId, datasetVersionId, datasetVersionNum } = inputs;
      const created = await sdk.v1("/wenxinworkshop/modelrepo/eval/create", {
        name: "node_routes_v1_eval", description: "pending", datasetId: datasetVersionNum,
        versionEvalInfo: [{ modelId: baseModelSetId, modelVersionId: baseModelVersionId, params: { temperature: 0.5 } }],
        evalStandardConf: { evalMode: "rule" }, computeResourceConf: { vmType: 1, vmNumber: 8 },
      });
      expectV1EvalCreated(created.result);
      const evalId: string = created.result.evalIdStr;
      const expected = { evaluationIdStr: evalId, name: "node_routes_v1_eval", datasetIdStr: datasetVersionId, modelVersionIdStrs: [baseModelVersionId] };
      const info = (await sdk.v1("/wenxinworkshop/modelrepo/eval/detail", { id: created.result.evalId })).result;
      expectV1EvalDetail(info, { ...expected, state: "Pending" });
      assert.equal(info.evaluationId, created.result.evalId);
      assert.equal(info.datasetId, datasetVersionNum);
      assert.equal(info.description, "pending");
      assert.equal(info.finishTime, "", "unset V1 evaluation times are empty");
      assert.equal(info.progress, 0);
      assert.deepEqual(info.computeResourceConf, { vmType: 1, vmNumber: 8 }, "echoed as sent");
      assert.deepEqual(info.evalStandardConf, { evalMode: "rule" });
      assert.equal(info.evalUnits[0].modelId, baseModelSetNum);
      assert.equal(info.evalUnits[0].modelSource, "Import");

      const results = (await sdk.v1("/wenxinworkshop/modelrepo/eval/result/list", { id: evalId, pageNo: 1, pageSize: 5 })).result;
      expectV1EvalResultPage(results, { total: 0, pageNo: 1, pageSize: 5 });
      const evaluable = (await sdk.v1("/wenxinworkshop/modelrepo/eval/model/list")).result;
      assert.ok(Array.isArray(evaluable));
      for (const entry of evaluable) expectV1EvaluableModel(entry);
      const base = evaluable.find((e: any) => e.modelIdStr === baseModelSetId);
      assert.deepEqual(base?.modelVersionList.map((v: any) => v.modelVersionIdStr), [baseModelVersionId]);
      const early = await sdk.v1Error("/wenxinworkshop/modelrepo/eval/report", { id: evalId });
      assert.match(early.body.error_msg, /has not finished/);

      const stop = await sdk.v1("/wenxinworkshop/modelrepo/eval/cancel", { id: evalId });
      assert.deepEqual(stop.result, { result: true, errorMessage: "" });
      expectV1EvalDetail((await sdk.v1("/wenxinworkshop/modelrepo/eval/detail", { id: evalId })).result, { ...expected, state: "Stopped" });
      assert.deepEqual((await sdk.v1("/wenxinworkshop/modelrepo/eval/cancel", { id: evalId })).result, { result: true, errorMessage: "" }, "idempotent");
      assert.equal((await sdk.v1("/wenxinworkshop/modelrepo/eval/delete", { evalIds: [evalId] })).result, true);
      const gone = await sdk.v1Error("/wenxinworkshop/modelrepo/eval/detail", { id: evalId });
      assert.match(gone.body.error_msg, /param\[id\]/);
    });

    test("V2 evaluation without a worker: create, describe, list (keyFilter, manual), report refused early, stop, delete", async () => {
      const { baseModel, baseModelSetId, baseModelVersionId, datasetVersionId } = inputs;
      // Hyphens: keyFilter is a LIKE pattern (see sdk-python-routes.test.ts).
      const created = await sdk.v2("eval", "CreateEvalTask", {
        taskName: "node-routes-v2-eval", evalObjectType: "model", description: "queued",
        evalObjectConfig: { evalModelConfig: { versionId: datasetVersionId, evalModelConfigList: [{ modelId: baseModelVersionId, promptTemplate: "Q: {input}", inferenceParams: { temperature: 0.5 } }] } },
        evalConfig: { evalMode: "rule" },
      });
      assert.match(created.result, ID.eval);
      const taskId: string = created.result;
      const expected = { taskId, taskName: "node-routes-v2-eval", datasetVersionId, modelIds: [baseModelVersionId] };
      const task = (await sdk.v2("eval", "DescribeEvalTask", { taskId })).result;
      expectV2EvalTask(task, { ...expected, state: "Queued" });
      assert.equal(task.description, "queued");
      assert.equal(task.evalMode, "rule");
      assert.equal(task.progress, 0);
      assert.equal(task.finishTime, "");
      assert.deepEqual(task.models, [{ modelId: baseModelVersionId, modelName: `${baseModel}-V1`, modelSetId: baseModelSetId, state: "Queued", message: "" }]);

      const listed = (await sdk.v2("eval", "DescribeEvalTasks", { evalType: "auto", keyFilter: "node-routes-v2", maxKeys: 5 })).result;
      assert.deepEqual(listed.taskList.map((t: any) => t.taskId), [taskId]);
      expectV2EvalTask(listed.taskList[0], expected);
      assert.deepEqual(listed.pageInfo, { marker: "", maxKeys: 5, isTruncated: false });
      const manual = (await sdk.v2("eval", "DescribeEvalTasks", { evalType: "manual" })).result;
      assert.deepEqual(manual, { taskList: [], pageInfo: { marker: "", maxKeys: 10, isTruncated: false } }, "no manual evaluation was created here");
      const early = await sdk.v2Error("eval", "DescribeEvalTaskReport", { taskId });
      assert.equal(early.status, 400);
      assert.match(early.body.message, /has not finished/);

      const stop = await sdk.v2("eval", "StopEvalTask", { taskId });
      assert.deepEqual(stop.result, {});
      expectV2EvalTask((await sdk.v2("eval", "DescribeEvalTask", { taskId })).result, { ...expected, state: "Stopped" });
      assert.equal((await sdk.v2("eval", "DeleteEvalTask", { taskId })).result, true);
      const gone = await sdk.v2Error("eval", "DescribeEvalTask", { taskId });
      assert.equal(gone.status, 400);
      assert.match(gone.body.message, /param\[taskId\]/);
      const bos = await sdk.v2Error("eval", "CreateEvalTask", {
        taskName: "node-bos", evalObjectType: "model",
        evalObjectConfig: { evalModelConfig: { versionId: datasetVersionId, storageType: "BOS", evalModelConfigList: [{ modelId: baseModelVersionId }] } },
        evalConfig: { evalMode: "rule" },
      });
      assert.match(bos.body.message, /storageType/);
    });

    test("every route this file declares was reached through consoleAction", () => {
      expectReachedRoutes(sdk, "sdk-node-routes.test.ts");
    });
  });
}
