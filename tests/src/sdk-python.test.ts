import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { PythonSdk, okBody, pythonSdkMissing } from "./python-sdk.js";
import { seedTrainingInputs, skipUnless, type TrainingInputs } from "./sdk-fixtures.js";
import { expectJobItem, expectPageInfo, expectRequestId, expectTask, expectV1JobDetail } from "./sdk-expect.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";

/**
 * The server driven through the official Python SDK (`qianfan==0.4.12.3`) via
 * tests/python/sdk_driver.py: `call_action` and the typed FineTune / Model helpers, signed by the
 * SDK itself (300 s expiry, signedHeaders in set order, `?Action=` on V1 routes through
 * call_action, host with port, signed `request-source`).
 */

const missing = pythonSdkMissing();

for (const dialect of testDialects()) {
  describe(`official Python SDK (${dialect})`, { skip: missing ?? false }, () => {
    let server: TestServer;
    let py: PythonSdk;
    let inputs: TrainingInputs | undefined;
    before(async () => {
      server = await startTestServer(dialect);
      py = new PythonSdk({ ...ADMIN, baseUrl: server.url });
    });
    after(async () => {
      await py?.close();
      await server?.close();
    });
    const training = async (): Promise<TrainingInputs> => (inputs ??= await seedTrainingInputs(server, `py${dialect}`));

    test("call_action iam: the SDK's own signature (300 s, unsorted signedHeaders, request-source, host:port) verifies", async () => {
      const created = okBody(await py.action("/v2/iam", "CreateAccessKey", { policies: ["QianfanReadAccessPolicy"] }));
      const r = await py.action("/v2/iam", "DescribeAccessKeys", {});
      const body = okBody(r);
      expectRequestId(body);
      assert.ok(body.result.accessKeyList.some((k: any) => k.accessKey === created.result.accessKey));

      const headers = r.request!.headers;
      const [version, ak, , expiration, signedHeaders, signature] = headers.Authorization!.split("/");
      assert.equal(version, "bce-auth-v1");
      assert.equal(ak, ADMIN.accessKey);
      assert.equal(expiration, "300");
      assert.match(signature!, /^[0-9a-f]{64}$/);
      const names = signedHeaders!.split(";");
      assert.deepEqual([...names].sort(), ["content-type", "host", "request-source", "x-bce-date"]);
      assert.notDeepEqual(names, [...names].sort(), "the Python SDK's signedHeaders are not sorted");
      assert.equal(headers["request-source"], "qianfan_py_sdk_v0.4.12.3");
      assert.equal(headers.Host, new URL(server.url).host, "host is signed with its port");
    });

    test("wrong secret key: RequestError with HTTP 400 SignatureDoesNotMatch", async () => {
      const r = await py.action("/v2/iam", "DescribeAccessKeys", {}, { accessKey: ADMIN.accessKey, secretKey: "not-the-secret" });
      assert.equal(r.ok, false);
      assert.equal(r.type, "RequestError");
      assert.equal(r.status, 400);
      assert.match(r.error!, /error code from baidu: SignatureDoesNotMatch/, "the X-Bce-Error-Code header is there");
      assert.match(r.error!, /"code":"SignatureDoesNotMatch"/, "and the V2 error body");
      assert.match(r.error!, /可能的原因：Secret Key\(`.*`\) 错误/, "the SDK recognises the gateway text and hints at the secret");
    });

    test("unknown access key: RequestError with HTTP 403 InvalidAccessKeyId", async () => {
      const r = await py.action("/v2/iam", "DescribeAccessKeys", {}, { accessKey: "nosuchkey0000000", secretKey: "x" });
      assert.equal(r.status, 403);
      assert.match(r.error!, /InvalidAccessKeyId/);
      assert.match(r.error!, /可能的原因：Access Key\(`.*`\) 错误/, "the SDK recognises the gateway text and hints at the key");
    });

    test("V1 unknown path through call_action (sent as `?Action=`): 404 with error_code 3", async () => {
      const r = await py.action("/wenxinworkshop/finetune/noSuchRoute", "", {});
      assert.equal(r.ok, false);
      assert.equal(r.status, 404);
      assert.match(r.error!, /noSuchRoute\?Action= failed/);
      assert.match(r.error!, /"error_code":3/);
    });

    test("call_action V2 fine-tuning: job -> list -> task -> detail -> stop", {
      skip: skipUnless(["finetuning", "CreateFineTuningJob"], ["finetuning", "DescribeFineTuningJobs"], ["finetuning", "CreateFineTuningTask"],
        ["finetuning", "DescribeFineTuningTask"], ["finetuning", "StopFineTuningTask"]),
    }, async () => {
      const { baseModel, datasetVersionId } = await training();
      const job = { name: "sdk_py_action", description: "call_action", model: baseModel, trainMode: "SFT" };
      const jobId: string = okBody(await py.action("/v2/finetuning", "CreateFineTuningJob", job)).result.jobId;
      assert.match(jobId, /^job-[a-z0-9]{12}$/);
      const list = okBody(await py.action("/v2/finetuning", "DescribeFineTuningJobs", { maxKeys: 1 }));
      expectJobItem(list.result.jobList[0], { jobId, ...job });
      assert.equal(list.result.jobList.length, 1);
      const taskId: string = okBody(await py.action("/v2/finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA", hyperParameterConfig: { epoch: 1, learningRate: 0.0003 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 20 },
      })).result.taskId;
      const detail = okBody(await py.action("/v2/finetuning", "DescribeFineTuningTask", { taskId }));
      expectTask(detail.result, { taskId, jobId, runStatus: "Waiting", trainMode: "SFT", parameterScale: "LoRA" });
      assert.equal(okBody(await py.action("/v2/finetuning", "StopFineTuningTask", { taskId })).result, true);
      assert.equal(okBody(await py.action("/v2/finetuning", "DescribeFineTuningTask", { taskId })).result.runStatus, "Stopped");
      const bad = await py.action("/v2/finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA", hyperParameterConfig: { epoch: 1 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 101 },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.error!, /splitRatio/);
    });

    test("FineTune.V2 helpers: create_job, job_list (sends `trainModel`), create_task, task_detail, task_list, stop_task", {
      skip: skipUnless(["finetuning", "CreateFineTuningJob"], ["finetuning", "DescribeFineTuningJobs"], ["finetuning", "CreateFineTuningTask"],
        ["finetuning", "DescribeFineTuningTask"], ["finetuning", "DescribeFineTuningTasks"], ["finetuning", "StopFineTuningTask"]),
    }, async () => {
      const { baseModel, datasetVersionId } = await training();
      const created = okBody(await py.helper("FineTune.V2.create_job", { name: "sdk_py_helper", model: baseModel, train_mode: "SFT", description: "helpers" }));
      const jobId: string = created.result.jobId;

      const sft = okBody(await py.helper("FineTune.V2.job_list", { train_model: "SFT", max_keys: 100 }));
      expectJobItem(sft.result.jobList.find((j: any) => j.jobId === jobId), {
        jobId, name: "sdk_py_helper", description: "helpers", model: baseModel, trainMode: "SFT",
      });
      expectPageInfo(sft.result.pageInfo, { marker: "", maxKeys: 100, isTruncated: false });
      const dpo = okBody(await py.helper("FineTune.V2.job_list", { train_model: "DPO" }));
      assert.ok(!dpo.result.jobList.some((j: any) => j.jobId === jobId), "the SDK's `trainModel` spelling filters too");
      // Marker pagination through the helper's marker / max_keys arguments.
      const first = okBody(await py.helper("FineTune.V2.job_list", { max_keys: 1 })).result;
      assert.equal(first.jobList[0].jobId, jobId, "newest first");
      expectPageInfo(first.pageInfo, { marker: "", maxKeys: 1, isTruncated: true });
      const second = okBody(await py.helper("FineTune.V2.job_list", { max_keys: 1, marker: first.pageInfo.nextMarker })).result;
      assert.equal(second.jobList[0].jobId, first.pageInfo.nextMarker, "a page starts at its marker");
      assert.equal(second.pageInfo.marker, first.pageInfo.nextMarker);

      const task = okBody(await py.helper("FineTune.V2.create_task", {
        job_id: jobId, params_scale: "LoRA", hyper_params: { epoch: 1, learningRate: 0.0003 },
        dataset_config: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 20 },
      }));
      const taskId: string = task.result.taskId;
      const detail = okBody(await py.helper("FineTune.V2.task_detail", { task_id: taskId }));
      expectTask(detail.result, { taskId, jobId, runStatus: "Waiting", trainMode: "SFT", parameterScale: "LoRA" });
      const tasks = okBody(await py.helper("FineTune.V2.task_list", { job_id: jobId }));
      assert.deepEqual(tasks.result.taskList.map((t: any) => t.taskId), [taskId]);
      assert.equal(okBody(await py.helper("FineTune.V2.stop_task", { task_id: taskId })).result, true);
      assert.equal(okBody(await py.helper("FineTune.V2.task_detail", { task_id: taskId })).result.runStatus, "Stopped");
    });

    test("FineTune.V2.supported_models lists the registered base model", {
      skip: skipUnless(["finetuning", "DescribeFineTuningSupportModels"]),
    }, async () => {
      const { baseModel } = await training();
      const models = okBody(await py.helper("FineTune.V2.supported_models")).result;
      const entry = models.find((m: any) => m.model === baseModel);
      assert.ok(entry, "the base model is offered");
      const sft = entry.supportTrainMode.find((m: any) => m.trainMode === "SFT");
      const scale = sft.supportParameterScale.find((s: any) => s.parameterScale === "LoRA");
      for (const def of scale.supportHyperParameterConfig) {
        for (const key of ["key", "type", "checkType", "checkValue", "default"]) assert.ok(key in def, `${def.key} has ${key}`);
      }
    });

    test("FineTune V1 helpers: create_task, create_job, get_job, stop_job (and jobDetail via call_action's `?Action=`)", {
      skip: skipUnless("/wenxinworkshop/finetune/createTask", "/wenxinworkshop/finetune/createJob",
        "/wenxinworkshop/finetune/jobDetail", "/wenxinworkshop/finetune/stopJob"),
    }, async () => {
      const { baseModel, datasetVersionNum } = await training();
      const createdTask = okBody(await py.helper("FineTune.create_task", { name: "sdk_py_v1", base_train_type: baseModel, train_type: baseModel, description: "v1" }));
      const taskId: number = createdTask.result.id;
      assert.match(createdTask.result.uuid, /^job-[a-z0-9]{12}$/);
      const createdJob = okBody(await py.helper("FineTune.create_job", {
        job: {
          taskId, jobRunType: 0, baseTrainType: baseModel, trainType: baseModel, trainMode: "SFT", peftType: "LoRA",
          trainConfig: { epoch: 1, learningRate: 0.0003 }, trainset: [{ type: 1, id: datasetVersionNum }], trainsetRate: 20,
        },
      }));
      const jobId: number = createdJob.result.id;
      assert.match(createdJob.result.uuid, /^task-[a-z0-9]{12}$/);

      const detail = okBody(await py.helper("FineTune.get_job", { task_id: taskId, job_id: jobId }));
      expectV1JobDetail(detail.result, { id: jobId, taskId, trainStatus: "RUNNING" });
      const viaAction = okBody(await py.action("/wenxinworkshop/finetune/jobDetail", "", { taskId, jobId }));
      assert.equal(viaAction.result.id, jobId, "an empty Action= on a V1 route is ignored");

      assert.equal(okBody(await py.helper("FineTune.stop_job", { task_id: taskId, job_id: jobId })).result, true);
      assert.equal(okBody(await py.helper("FineTune.get_job", { task_id: taskId, job_id: jobId })).result.trainStatus, "STOP");

      // V1 business errors are HTTP 200 + error_code: the SDK raises APIError with that code.
      const missing = await py.helper("FineTune.get_job", { task_id: taskId, job_id: 987654321 });
      assert.equal(missing.type, "APIError");
      assert.equal(typeof missing.errorCode, "number");
      const invalid = await py.helper("FineTune.create_task", { name: "x", base_train_type: baseModel, train_type: baseModel });
      assert.equal(invalid.type, "APIError");
      assert.equal(invalid.errorCode, 500001);
    });

    test("Model.V2 helpers: create_custom_model_set, describe_custom_model_sets, describe_model_set, describe_model", {
      skip: skipUnless(["model", "CreateCustomModelSet"], ["model", "DescribeCustomModelSets"], ["model", "DescribeModelSet"], ["model", "DescribeModel"]),
    }, async () => {
      const { baseModelSetId, baseModelVersionId } = await training();
      const modelSetId: string = okBody(await py.helper("Model.V2.create_custom_model_set", { model_set_name: "sdk_py_set", model_type: "Text2Text" })).result;
      assert.match(modelSetId, /^am-[a-z0-9]{12}$/);
      const sets = okBody(await py.helper("Model.V2.describe_custom_model_sets", { max_keys: 100 }));
      assert.ok(sets.result.customModelSetList.some((s: any) => s.modelSetId === modelSetId));
      const set = okBody(await py.helper("Model.V2.describe_model_set", { model_set_id: modelSetId }));
      assert.equal(set.result.modelSetName, "sdk_py_set");
      const byName = okBody(await py.helper("Model.V2.describe_model_set", { model_set_name: "sdk_py_set" }));
      assert.equal(byName.result.modelSetId, modelSetId);
      const model = okBody(await py.helper("Model.V2.describe_model", { model_id: baseModelVersionId }));
      assert.equal(model.result.modelSetId, baseModelSetId);
      assert.equal(model.result.status, "Ready");
      const missing = await py.helper("Model.V2.describe_model", { model_id: "amv-doesnotexist" });
      assert.equal(missing.ok, false);
      assert.ok(missing.status !== undefined && missing.status >= 400 && missing.status < 500, `4xx, got ${missing.status}`);
    });

    test("Model V1 helpers: list (modelDetail), detail (modelVersionDetail), user_list", {
      skip: skipUnless("/wenxinworkshop/modelrepo/modelDetail", "/wenxinworkshop/modelrepo/modelVersionDetail", "/wenxinworkshop/modelrepo/model/user/list"),
    }, async () => {
      const { baseModelSetId, baseModelSetNum, baseModelVersionId } = await training();
      const detail = okBody(await py.helper("Model.list", { model_id: baseModelSetId }));
      assert.equal(detail.result.modelId, baseModelSetNum);
      assert.ok(detail.result.modelVersionList.some((v: any) => v.modelVersionIdStr === baseModelVersionId));
      const version = okBody(await py.helper("Model.detail", { model_version_id: baseModelVersionId }));
      assert.equal(version.result.modelVersionIdStr, baseModelVersionId);
      assert.equal(version.result.state, "Ready");
      const users = okBody(await py.helper("Model.user_list", { page_no: 1, page_size: 20 }));
      assert.ok(users.result.items.some((m: any) => m.modelIdStr === baseModelSetId));
      const missing = await py.helper("Model.detail", { model_version_id: "amv-doesnotexist" });
      assert.equal(missing.type, "APIError");
      assert.equal(missing.errorCode, 70102);
    });

    test("every route this file declares was reached through the SDK", () => {
      expectReachedRoutes(py, "sdk-python.test.ts");
    });
  });
}
