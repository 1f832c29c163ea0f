import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { PythonSdk, okBody, pollPython, pyEnum, pythonSdkMissing } from "./python-sdk.js";
import { seedTrainingInputs, type TrainingInputs } from "./sdk-fixtures.js";
import { importModel } from "./fixtures/model-imports.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";
import {
  ID, expectCompTask, expectJobItem, expectJobShape, expectPageShape, expectRequestId, expectSupportModel, expectTask, expectTaskShape,
  expectV1Envelope, expectV1EvalCreated, expectV1EvalDetail, expectV1EvalResultPage, expectV1EvaluableModel, expectV1JobCreated,
  expectV1JobDetail, expectV1JobShape, expectV1ModelDetail, expectV1ModelVersion, expectV1TaskCreated, expectV1UserListItem,
  expectV2EvalTask, expectV2ModelSet, expectV2ModelVersion,
} from "./sdk-expect.js";

/**
 * Every route that needs no finished run, called through the official Python SDK
 * (`qianfan==0.4.12.3`) with its typed helper where it has one (`FineTune`, `FineTune.V2`,
 * `Model`, `Model.V2`, `Eval.V2`) and `call_action` where it has none (StopModelCompTask,
 * StopEvalTask), each answer checked field by field against what the route renders. No worker
 * runs here, so tasks, compressions and evaluations stay queued: what is stopped is stopped
 * before it starts. Routes that need a finished run are in sdk-python-runs.test.ts.
 */

const missing = pythonSdkMissing();

for (const dialect of testDialects()) {
  describe(`official Python SDK: every route without a worker (${dialect})`, { skip: missing ?? false }, () => {
    let server: TestServer;
    let py: PythonSdk;
    let inputs: TrainingInputs;
    const tag = `pyroutes${dialect}`;
    before(async () => {
      server = await startTestServer(dialect);
      py = new PythonSdk({ ...ADMIN, baseUrl: server.url });
      inputs = await seedTrainingInputs(server, tag);
    });
    after(async () => {
      await py?.close();
      await server?.close();
    });

    test("FineTune.V2: create_job, job_list, create_task, task_list, task_detail, stop_task, delete_task, delete_job, supported_models", async () => {
      const { baseModel, datasetVersionId } = inputs;
      const created = okBody(await py.helper("FineTune.V2.create_job", { name: "py_routes_job", model: baseModel, train_mode: pyEnum("TrainMode.SFT"), description: "d" }));
      expectRequestId(created);
      assert.deepEqual(Object.keys(created.result), ["jobId"]);
      const jobId: string = created.result.jobId;
      assert.match(jobId, ID.job);

      const jobs = okBody(await py.helper("FineTune.V2.job_list", { max_keys: 100 }));
      expectRequestId(jobs);
      expectPageShape(jobs.result.pageInfo, ID.job);
      for (const job of jobs.result.jobList) expectJobShape(job);
      expectJobItem(jobs.result.jobList.find((j: any) => j.jobId === jobId), { jobId, name: "py_routes_job", description: "d", model: baseModel, trainMode: "SFT" });

      const task = okBody(await py.helper("FineTune.V2.create_task", {
        job_id: jobId, params_scale: pyEnum("TrainParameterScale.LoRA"), hyper_params: { epoch: 1, learningRate: 0.0003 },
        dataset_config: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 20 },
      }));
      expectRequestId(task);
      assert.equal(task.result.jobId, jobId);
      const taskId: string = task.result.taskId;
      assert.match(taskId, ID.task);
      const detail = okBody(await py.helper("FineTune.V2.task_detail", { task_id: taskId }));
      expectRequestId(detail);
      expectTask(detail.result, { taskId, jobId, runStatus: "Waiting", trainMode: "SFT", parameterScale: "LoRA" });
      expectTaskShape(detail.result);
      assert.deepEqual(detail.result.datasetConfig.versions.map((v: any) => v.versionId), [datasetVersionId]);
      assert.equal(detail.result.hyperParameterConfig.epoch, 1);
      assert.equal(detail.result.finishDate, "0000-00-00T00:00:00Z", "unset times keep the V2 form");

      const tasks = okBody(await py.helper("FineTune.V2.task_list", { job_id: jobId, max_keys: 5 }));
      expectRequestId(tasks);
      assert.deepEqual(tasks.result.taskList.map((t: any) => t.taskId), [taskId]);
      for (const t of tasks.result.taskList) expectTaskShape(t);
      expectPageShape(tasks.result.pageInfo, ID.task);
      assert.equal(tasks.result.pageInfo.maxKeys, 5);

      assert.equal(okBody(await py.helper("FineTune.V2.stop_task", { task_id: taskId })).result, true);
      const stopped = okBody(await py.helper("FineTune.V2.task_detail", { task_id: taskId })).result;
      expectTask(stopped, { taskId, jobId, runStatus: "Stopped", trainMode: "SFT", parameterScale: "LoRA" });
      expectTaskShape(stopped);

      const deletedTask = okBody(await py.helper("FineTune.V2.delete_task", { task_id: taskId }));
      expectRequestId(deletedTask);
      assert.equal(deletedTask.result, true);
      const goneTask = await py.helper("FineTune.V2.task_detail", { task_id: taskId });
      assert.equal(goneTask.status, 400);
      assert.match(goneTask.error!, /param\[taskId\]/);
      assert.equal(okBody(await py.helper("FineTune.V2.delete_job", { job_id: jobId })).result, true);
      const after = okBody(await py.helper("FineTune.V2.job_list", { max_keys: 100 })).result.jobList;
      assert.ok(!after.some((j: any) => j.jobId === jobId), "the deleted job is not listed");

      const support = okBody(await py.helper("FineTune.V2.supported_models"));
      expectRequestId(support);
      assert.ok(support.result.some((m: any) => m.model === baseModel));
      for (const entry of support.result) expectSupportModel(entry);
    });

    test("FineTune V1: create_task, create_job, get_job, stop_job, every field", async () => {
      const { baseModel, datasetVersionNum } = inputs;
      const createdTask = okBody(await py.helper("FineTune.create_task", { name: "py_routes_v1", base_train_type: baseModel, train_type: baseModel, description: "v1" }));
      expectV1Envelope(createdTask);
      expectV1TaskCreated(createdTask.result, { name: "py_routes_v1", description: "v1" });
      const taskId: number = createdTask.result.id;
      const createdJob = okBody(await py.helper("FineTune.create_job", {
        job: {
          taskId, jobRunType: 0, baseTrainType: baseModel, trainType: baseModel, trainMode: "SFT", peftType: "LoRA",
          trainConfig: { epoch: 1, learningRate: 0.0003 }, trainset: [{ type: 1, id: datasetVersionNum }], trainsetRate: 20,
        },
      }));
      expectV1Envelope(createdJob);
      expectV1JobCreated(createdJob.result);
      const jobId: number = createdJob.result.id;
      const detail = okBody(await py.helper("FineTune.get_job", { task_id: taskId, job_id: jobId }));
      expectV1Envelope(detail);
      expectV1JobShape(detail.result);
      assert.equal(detail.result.startTime, "0000-00-00 00:00:00", "queued: not started");
      assert.equal(detail.result.version, 1);
      assert.equal(detail.result.peftType, "LoRA");
      const stop = okBody(await py.helper("FineTune.stop_job", { task_id: taskId, job_id: jobId }));
      expectV1Envelope(stop);
      assert.equal(stop.result, true);
      const stopped = okBody(await py.helper("FineTune.get_job", { task_id: createdTask.result.uuid, job_id: createdJob.result.uuid })).result;
      expectV1JobDetail(stopped, { id: jobId, taskId, trainStatus: "STOP" });
      expectV1JobShape(stopped);
    });

    test("Model.V2: create_custom_model_set, create_custom_model (Import), describe_model, describe_model_set, describe_custom_model_sets, describe_system_model_sets, delete_model, delete_model_set", async () => {
      const setId = okBody(await py.helper("Model.V2.create_custom_model_set", {
        model_set_name: "py_routes_set", model_type: pyEnum("CustomModelSetModelType.Text2Text"), labels: ["tiny", "sdk"],
      }));
      expectRequestId(setId);
      assert.match(setId.result, ID.modelSet);
      const modelSetId: string = setId.result;

      const created = okBody(await py.helper("Model.V2.create_custom_model", {
        model_set_id: modelSetId, source_type: pyEnum("CreateCustomModelSourceType.Import"), description: "imported through the SDK",
        import_meta: { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` },
      }));
      expectRequestId(created);
      assert.deepEqual(Object.keys(created.result).sort(), ["modelId", "modelName", "modelSetId", "status"]);
      assert.equal(created.result.modelSetId, modelSetId);
      assert.match(created.result.modelId, ID.modelVersion);
      assert.equal(created.result.modelName, "py_routes_set-V1");
      assert.equal(created.result.status, "Creating");
      const modelId: string = created.result.modelId;
      const ready = await pollPython(() => py.helper("Model.V2.describe_model", { model_id: modelId }), (b) => b.result.status !== "Creating", "import");
      expectRequestId(ready);
      expectV2ModelVersion(ready.result, { modelId, modelSetId, status: "Ready", sourceType: "Import" });
      assert.equal(ready.result.description, "imported through the SDK");
      assert.equal(ready.result.sourceInfo.importBosUri, `bos:/sdk-models/sdk-base-${tag}/`);

      const set = okBody(await py.helper("Model.V2.describe_model_set", { model_set_id: modelSetId }));
      expectRequestId(set);
      expectV2ModelSet(set.result, { modelSetId, modelSetName: "py_routes_set", modelType: "Text2Text", modelIds: [modelId] });
      assert.deepEqual(set.result.labels, ["tiny", "sdk"]);
      const firstPage = okBody(await py.helper("Model.V2.describe_custom_model_sets", { max_keys: 1 }));
      expectRequestId(firstPage);
      expectPageShape(firstPage.result.pageInfo, ID.modelSet);
      assert.equal(firstPage.result.pageInfo.isTruncated, true, "the base model's set is on the next page");
      expectV2ModelSet(firstPage.result.customModelSetList[0], { modelSetId, modelSetName: "py_routes_set", modelType: "Text2Text", modelIds: [modelId], listItem: true });
      const next = okBody(await py.helper("Model.V2.describe_custom_model_sets", { max_keys: 100, marker: firstPage.result.pageInfo.nextMarker })).result;
      assert.equal(next.customModelSetList[0].modelSetId, inputs.baseModelSetId);
      for (const item of next.customModelSetList) expectV2ModelSet(item, { modelSetId: item.modelSetId, modelSetName: item.modelSetName, modelType: "Text2Text", listItem: true });
      const system = okBody(await py.helper("Model.V2.describe_system_model_sets", { max_keys: 20 }));
      expectRequestId(system);
      assert.deepEqual(system.result, { systemModelSetList: [], pageInfo: { marker: "", maxKeys: 20, isTruncated: false } }, "Sailfin has no platform presets");

      assert.equal(okBody(await py.helper("Model.V2.delete_model", { model_id: modelId })).result, true);
      const goneModel = await py.helper("Model.V2.describe_model", { model_id: modelId });
      assert.equal(goneModel.status, 400);
      assert.match(goneModel.error!, /param\[modelId\]/);
      assert.deepEqual(okBody(await py.helper("Model.V2.describe_model_set", { model_set_id: modelSetId })).result.modelIds, []);
      assert.equal(okBody(await py.helper("Model.V2.delete_model_set", { model_set_id: modelSetId })).result, true);
      const goneSet = await py.helper("Model.V2.describe_model_set", { model_set_id: modelSetId });
      assert.equal(goneSet.status, 400);
      assert.match(goneSet.error!, /param\[modelSetId\]/);
    });

    test("Model V1: list (modelDetail), detail (modelVersionDetail), user_list, preset_list, batch_delete_model_version, batch_delete_model", async () => {
      const { baseModel, baseModelSetId, baseModelSetNum, baseModelVersionId } = inputs;
      const detail = okBody(await py.helper("Model.list", { model_id: baseModelSetNum }));
      expectV1Envelope(detail);
      expectV1ModelDetail(detail.result, { modelId: baseModelSetNum, modelIdStr: baseModelSetId, modelName: baseModel, versionIds: [baseModelVersionId] });
      for (const v of detail.result.modelVersionList) expectV1ModelVersion(v, { modelId: baseModelSetNum, modelIdStr: baseModelSetId, modelVersionIdStr: v.modelVersionIdStr, sourceType: "Import" });
      const version = okBody(await py.helper("Model.detail", { model_version_id: baseModelVersionId }));
      expectV1Envelope(version);
      expectV1ModelVersion(version.result, { modelId: baseModelSetNum, modelIdStr: baseModelSetId, modelVersionIdStr: baseModelVersionId, state: "Ready", sourceType: "Import", detail: true });
      assert.equal(version.result.algorithm, "LlamaForCausalLM");
      assert.equal(version.result.modelNet, "pytorch-LlamaForCausalLM");

      // Two more sets to delete: one version by version id, one set by set id.
      const doomed = await importModel(server, "py_v1_doomed", { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` });
      const second = await importModel(server, "py_v1_doomed", { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` }, { modelSetId: doomed.setId });
      const users = okBody(await py.helper("Model.user_list", { model_type: [pyEnum("ModelTypeUser.LargeLanguageModel")], page_no: 1, page_size: 1 }));
      expectV1Envelope(users);
      assert.equal(users.result.total, 2);
      assert.equal(users.result.items.length, 1, "page_size");
      expectV1UserListItem(users.result.items[0], { modelIdStr: doomed.setId, modelName: "py_v1_doomed", versionCount: 2, latestVersionIdStr: second.versionId });
      const named = okBody(await py.helper("Model.user_list", { name_filter: baseModel, order_by: "create_time", order: "asc" })).result;
      assert.deepEqual(named.items.map((i: any) => i.modelIdStr), [baseModelSetId]);
      expectV1UserListItem(named.items[0], { modelIdStr: baseModelSetId, modelName: baseModel, versionCount: 1, latestVersionIdStr: baseModelVersionId });
      const presets = okBody(await py.helper("Model.preset_list", { model_type: [pyEnum("ModelTypePreset.TextGC")] }));
      expectV1Envelope(presets);
      assert.deepEqual(presets.result, { total: 0, items: [] }, "Sailfin has no platform presets");

      const versionDeleted = okBody(await py.helper("Model.batch_delete_model_version", { model_version_ids: [second.versionNum] }));
      expectV1Envelope(versionDeleted);
      assert.equal(versionDeleted.result, true);
      const left = okBody(await py.helper("Model.list", { model_id: doomed.setId })).result;
      assert.deepEqual(left.modelVersionList.map((v: any) => v.modelVersionIdStr), [doomed.versionId]);
      const setDeleted = okBody(await py.helper("Model.batch_delete_model", { model_ids: [doomed.setId] }));
      expectV1Envelope(setDeleted);
      assert.equal(setDeleted.result, true);
      const gone = await py.helper("Model.list", { model_id: doomed.setId });
      assert.equal(gone.type, "APIError");
    });

    test("compression without a worker: create (positional config), describe, list, cancel_model_comp_task, StopModelCompTask (call_action), delete", async () => {
      const { baseModelVersionId } = inputs;
      const setId = okBody(await py.helper("Model.V2.create_custom_model_set", { model_set_name: "py_routes_int8", model_type: "Text2Text" })).result;
      const create = (name: string) => py.helper("Model.V2.create_model_comp_task", {}, [name, baseModelVersionId, { strategy: "Quantization", weight: "INT8-PTQ" }, setId, "queued only"]);
      const created = okBody(await create("mco_cancel"));
      expectRequestId(created);
      const cancelId: string = created.result;
      assert.match(cancelId, ID.compTask);
      const stopId: string = okBody(await create("mco_stop")).result;

      const described = okBody(await py.helper("Model.V2.describe_model_comp_task", { model_comp_task_id: cancelId }));
      expectRequestId(described);
      expectCompTask(described.result, { id: cancelId, name: "mco_cancel", sourceModelId: baseModelVersionId, status: "creating" });
      assert.equal(described.result.config.strategy, "Quantization");
      assert.equal(described.result.config.weight, "INT8-PTQ");
      assert.equal(described.result.description, "queued only");
      const list = okBody(await py.helper("Model.V2.describe_model_comp_tasks", { source_model_id: baseModelVersionId, max_keys: 1 }));
      expectRequestId(list);
      assert.deepEqual(list.result.modelCompTaskList.map((t: any) => t.id), [stopId], "newest first");
      expectPageShape(list.result.pageInfo, ID.compTask);
      assert.equal(list.result.pageInfo.nextMarker, cancelId);
      for (const t of list.result.modelCompTaskList) expectCompTask(t, { id: t.id, name: t.name, sourceModelId: baseModelVersionId });

      const cancelled = okBody(await py.helper("Model.V2.cancel_model_comp_task", { model_comp_task_id: cancelId }));
      expectRequestId(cancelled);
      assert.equal(cancelled.result, undefined, "Cancel answers only requestId");
      const stopped = okBody(await py.action("/v2/model", "StopModelCompTask", { modelCompTaskId: stopId }));
      expectRequestId(stopped);
      assert.equal(stopped.result, undefined, "Stop is Cancel's alias");
      for (const [id, name] of [[cancelId, "mco_cancel"], [stopId, "mco_stop"]] as const) {
        const task = okBody(await py.helper("Model.V2.describe_model_comp_task", { model_comp_task_id: id })).result;
        expectCompTask(task, { id, name, sourceModelId: baseModelVersionId, status: "stopped" });
        assert.equal(okBody(await py.helper("Model.V2.delete_model_comp_task", { model_comp_task_id: id })).result, true);
      }
      const gone = await py.helper("Model.V2.describe_model_comp_task", { model_comp_task_id: cancelId });
      assert.equal(gone.status, 400);
    });

    test("V1 evaluation without a worker: create_evaluation_task, get_evaluation_info, get_evaluation_result_list, evaluable_model_list, stop_evaluation_task, batch_delete_evaluation_result", async () => {
      const { baseModelSetId, baseModelVersionId, datasetVersionId } = inputs;
      const created = okBody(await py.helper("Model.create_evaluation_task", {
        name: "py_routes_v1_eval", dataset_id: datasetVersionId, description: "pending",
        version_info: [{ modelId: baseModelSetId, modelVersionId: baseModelVersionId, params: { temperature: 0.5 } }],
        eval_config: { evalMode: "rule" },
      }));
      expectV1Envelope(created);
      expectV1EvalCreated(created.result);
      const evalId: string = created.result.evalIdStr;
      const info = okBody(await py.helper("Model.get_evaluation_info", { eval_id: created.result.evalId }));
      expectV1Envelope(info);
      expectV1EvalDetail(info.result, { evaluationIdStr: evalId, name: "py_routes_v1_eval", state: "Pending", datasetIdStr: datasetVersionId, modelVersionIdStrs: [baseModelVersionId] });
      assert.deepEqual(info.result.computeResourceConf, { vmType: 1, vmNumber: 8 }, "the SDK's fixed resource request is echoed");
      assert.deepEqual(info.result.evalStandardConf, { evalMode: "rule" });
      assert.equal(info.result.progress, 0);
      const results = okBody(await py.helper("Model.get_evaluation_result_list", { id: evalId }));
      expectV1Envelope(results);
      expectV1EvalResultPage(results.result, { total: 0, pageNo: 1, pageSize: 20 });
      const evaluable = okBody(await py.helper("Model.evaluable_model_list"));
      expectV1Envelope(evaluable);
      for (const entry of evaluable.result) expectV1EvaluableModel(entry);
      assert.ok(evaluable.result.some((e: any) => e.modelIdStr === baseModelSetId));

      const stop = okBody(await py.helper("Model.stop_evaluation_task", { eval_id: evalId }));
      expectV1Envelope(stop);
      assert.deepEqual(stop.result, { result: true, errorMessage: "" });
      const stopped = okBody(await py.helper("Model.get_evaluation_info", { eval_id: evalId })).result;
      expectV1EvalDetail(stopped, { evaluationIdStr: evalId, name: "py_routes_v1_eval", state: "Stopped", datasetIdStr: datasetVersionId, modelVersionIdStrs: [baseModelVersionId] });
      const deleted = okBody(await py.helper("Model.batch_delete_evaluation_result", { eval_ids: [evalId] }));
      expectV1Envelope(deleted);
      assert.equal(deleted.result, true);
      assert.equal((await py.helper("Model.get_evaluation_info", { eval_id: evalId })).type, "APIError");
    });

    test("Eval.V2 without a worker: create_eval_task, describe_eval_task, describe_eval_tasks, StopEvalTask (call_action), delete_eval_task", async () => {
      const { baseModelVersionId, datasetVersionId } = inputs;
      // Hyphens, not underscores: keyFilter is a LIKE pattern, and on SQLite its `\_` escape
      // matches nothing (LIKE there has no default ESCAPE), so `py_routes` would not be found.
      const created = okBody(await py.helper("Eval.V2.create_eval_task", {
        task_name: "py-routes-v2-eval", eval_object_type: "model", description: "queued",
        eval_object_config: { evalModelConfig: { versionId: datasetVersionId, evalModelConfigList: [{ modelId: baseModelVersionId, promptTemplate: "Q: {input}", inferenceParams: { temperature: 0.5 } }] } },
        eval_config: { evalMode: "rule" },
      }));
      expectRequestId(created);
      assert.match(created.result, ID.eval);
      const taskId: string = created.result;
      const task = okBody(await py.helper("Eval.V2.describe_eval_task", { task_id: taskId }));
      expectRequestId(task);
      expectV2EvalTask(task.result, { taskId, taskName: "py-routes-v2-eval", state: "Queued", datasetVersionId, modelIds: [baseModelVersionId] });
      assert.equal(task.result.description, "queued");
      assert.equal(task.result.evalMode, "rule");
      const listed = okBody(await py.helper("Eval.V2.describe_eval_tasks", { eval_type: "auto", key_filter: "py-routes-v2-eval", max_keys: 5 }));
      expectRequestId(listed);
      assert.deepEqual(listed.result.taskList.map((t: any) => t.taskId), [taskId]);
      expectV2EvalTask(listed.result.taskList[0], { taskId, taskName: "py-routes-v2-eval", datasetVersionId, modelIds: [baseModelVersionId] });
      expectPageShape(listed.result.pageInfo, ID.eval);
      assert.equal(listed.result.pageInfo.maxKeys, 5);
      assert.deepEqual(okBody(await py.helper("Eval.V2.describe_eval_tasks", { eval_type: "manual" })).result.taskList, [], "no manual evaluation was created here");
      const early = await py.helper("Eval.V2.describe_eval_task_report", { task_id: taskId });
      assert.equal(early.status, 400, "no report before it has finished");
      assert.match(early.error!, /has not finished/);

      // Eval.V2 has no stop helper in 0.4.12.3.
      const stop = okBody(await py.action("/v2/eval", "StopEvalTask", { taskId }));
      expectRequestId(stop);
      assert.deepEqual(stop.result, {});
      const stopped = okBody(await py.helper("Eval.V2.describe_eval_task", { task_id: taskId })).result;
      expectV2EvalTask(stopped, { taskId, taskName: "py-routes-v2-eval", state: "Stopped", datasetVersionId, modelIds: [baseModelVersionId] });
      assert.equal(okBody(await py.helper("Eval.V2.delete_eval_task", { task_id: taskId })).result, true);
      assert.equal((await py.helper("Eval.V2.describe_eval_task", { task_id: taskId })).status, 400);
    });

    test("every route this file declares was reached through the SDK", () => {
      expectReachedRoutes(py, "sdk-python-routes.test.ts");
    });
  });
}
