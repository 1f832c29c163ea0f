import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { consoleAction } from "@baiducloud/qianfan";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { seedTrainingInputs, skipUnless, type TrainingInputs } from "./sdk-fixtures.js";
import { expectJobItem, expectPageInfo, expectRequestId, expectTask, expectV1JobDetail } from "./sdk-expect.js";

/**
 * The server driven through the official Node SDK, `@baiducloud/qianfan`'s `consoleAction`: its
 * own signer (1800 s expiry, `content-length;content-type;host;x-bce-date`, host with port) and
 * its own response handling (response headers merged into the result, any non-2xx rejects).
 * consoleAction reads QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY / QIANFAN_CONSOLE_API_BASE_URL
 * from process.env at call time, so every call sets them first.
 */

type Credentials = { accessKey: string; secretKey: string };

for (const dialect of testDialects()) {
  describe(`official Node SDK consoleAction (${dialect})`, () => {
    let server: TestServer;
    let inputs: TrainingInputs | undefined;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(async () => { await server?.close(); });

    const sdk = async (route: string, action: string | undefined, data: unknown, creds: Credentials = ADMIN): Promise<any> => {
      process.env.QIANFAN_ACCESS_KEY = creds.accessKey;
      process.env.QIANFAN_SECRET_KEY = creds.secretKey;
      process.env.QIANFAN_CONSOLE_API_BASE_URL = server.url;
      return await consoleAction({ base_api_route: route, data, ...(action === undefined ? {} : { action }) });
    };
    /** The SDK's rejection message (it carries the HTTP status and the response body as text). */
    const rejection = async (promise: Promise<unknown>): Promise<string> => {
      try {
        await promise;
      } catch (error) {
        return (error as Error).message;
      }
      assert.fail("the SDK call was expected to reject");
    };
    const training = async (): Promise<TrainingInputs> => (inputs ??= await seedTrainingInputs(server, `node${dialect}`));

    test("iam DescribeAccessKeys: resolves with the body and the merged response headers", async () => {
      const created = await sdk("/v2/iam", "CreateAccessKey", { policies: ["QianfanReadAccessPolicy"], description: "made by the node sdk" });
      expectRequestId(created);
      assert.match(created.result.accessKey, /^[0-9a-f]{32}$/);
      const r = await sdk("/v2/iam", "DescribeAccessKeys", {});
      expectRequestId(r);
      const listed = r.result.accessKeyList.find((k: any) => k.accessKey === created.result.accessKey);
      assert.deepEqual(listed?.policies, ["QianfanReadAccessPolicy"]);
      assert.ok(r.result.accessKeyList.some((k: any) => k.accessKey === ADMIN.accessKey), "the bootstrapped admin is listed");
      assert.equal(r.headers["x-bce-request-id"], r.requestId, "the SDK merges response headers into the result");
    });

    test("wrong secret key: the SDK rejects with HTTP 400 SignatureDoesNotMatch", async () => {
      const message = await rejection(sdk("/v2/iam", "DescribeAccessKeys", {}, { accessKey: ADMIN.accessKey, secretKey: "not-the-secret" }));
      assert.match(message, /status = 400/);
      assert.match(message, /SignatureDoesNotMatch/);
    });

    test("unknown access key: the SDK rejects with HTTP 403 InvalidAccessKeyId", async () => {
      const message = await rejection(sdk("/v2/iam", "DescribeAccessKeys", {}, { accessKey: "nosuchkey0000000", secretKey: "x" }));
      assert.match(message, /status = 403/);
      assert.match(message, /InvalidAccessKeyId/);
    });

    test("a key without IAM rights gets AccessDenied through the SDK", async () => {
      const created = await server.admin.v2<Credentials>("iam", "CreateAccessKey", { policies: ["QianfanReadAccessPolicy"] });
      const message = await rejection(sdk("/v2/iam", "DescribeAccessKeys", {}, created));
      assert.match(message, /status = 403/);
      assert.match(message, /AccessDenied/);
    });

    test("unknown V2 action and unknown V1 path are refused, never a 500", async () => {
      const v2 = await rejection(sdk("/v2/iam", "NoSuchAction", {}));
      assert.match(v2, /status = (400|404)/);
      const v1 = await rejection(sdk("/wenxinworkshop/finetune/noSuchRoute", undefined, {}));
      assert.match(v1, /status = 404/);
      assert.match(v1, /"error_code":3/);
    });

    test("V2 fine-tuning: CreateFineTuningJob -> DescribeFineTuningJobs -> CreateFineTuningTask -> DescribeFineTuningTask -> StopFineTuningTask", {
      skip: skipUnless(["finetuning", "CreateFineTuningJob"], ["finetuning", "DescribeFineTuningJobs"], ["finetuning", "CreateFineTuningTask"],
        ["finetuning", "DescribeFineTuningTask"], ["finetuning", "StopFineTuningTask"], ["finetuning", "DescribeFineTuningTasks"]),
    }, async () => {
      const { baseModel, datasetVersionId } = await training();
      const job = { name: "sdk_node_job", description: "made by @baiducloud/qianfan", model: baseModel, trainMode: "SFT" };
      const created = await sdk("/v2/finetuning", "CreateFineTuningJob", job);
      expectRequestId(created);
      const jobId: string = created.result.jobId;
      assert.match(jobId, /^job-[a-z0-9]{12}$/);

      const list = await sdk("/v2/finetuning", "DescribeFineTuningJobs", { maxKeys: 10 });
      expectRequestId(list);
      const item = list.result.jobList.find((j: any) => j.jobId === jobId);
      assert.ok(item, "the new job is listed");
      assert.equal(list.result.jobList[0].jobId, jobId, "newest first");
      expectJobItem(item, { jobId, ...job });
      expectPageInfo(list.result.pageInfo, { marker: "", maxKeys: 10, isTruncated: false });
      const filtered = await sdk("/v2/finetuning", "DescribeFineTuningJobs", { trainMode: "DPO" });
      assert.ok(!filtered.result.jobList.some((j: any) => j.jobId === jobId), "the trainMode filter applies");

      const task = await sdk("/v2/finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA",
        hyperParameterConfig: { epoch: 1, learningRate: 0.0003 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 20 },
      });
      expectRequestId(task);
      assert.equal(task.result.jobId, jobId);
      const taskId: string = task.result.taskId;
      assert.match(taskId, /^task-[a-z0-9]{12}$/);

      const detail = await sdk("/v2/finetuning", "DescribeFineTuningTask", { taskId });
      expectTask(detail.result, { taskId, jobId, runStatus: "Waiting", trainMode: "SFT", parameterScale: "LoRA" });

      const tasks = await sdk("/v2/finetuning", "DescribeFineTuningTasks", { jobId });
      assert.deepEqual(tasks.result.taskList.map((t: any) => t.taskId), [taskId]);

      const stopped = await sdk("/v2/finetuning", "StopFineTuningTask", { taskId });
      assert.equal(stopped.result, true);
      const after = await sdk("/v2/finetuning", "DescribeFineTuningTask", { taskId });
      assert.equal(after.result.runStatus, "Stopped");
    });

    test("V2 fine-tuning errors reach the SDK as V2 error bodies", {
      skip: skipUnless(["finetuning", "CreateFineTuningJob"], ["finetuning", "DescribeFineTuningJobs"], ["finetuning", "DescribeFineTuningTask"]),
    }, async () => {
      const { baseModel } = await training();
      const shortName = await rejection(sdk("/v2/finetuning", "CreateFineTuningJob", { name: "x", model: baseModel, trainMode: "SFT" }));
      assert.match(shortName, /status = 400/);
      assert.match(shortName, /name/);
      const badMarker = await rejection(sdk("/v2/finetuning", "DescribeFineTuningJobs", { marker: "job-doesnotexist" }));
      assert.match(badMarker, /InvalidMarker/);
      const noTask = await rejection(sdk("/v2/finetuning", "DescribeFineTuningTask", { taskId: "task-doesnotexist" }));
      assert.match(noTask, /status = 4\d\d/);
    });

    test("V1 fine-tuning: createTask -> createJob -> jobDetail -> stopJob", {
      skip: skipUnless("/wenxinworkshop/finetune/createTask", "/wenxinworkshop/finetune/createJob",
        "/wenxinworkshop/finetune/jobDetail", "/wenxinworkshop/finetune/stopJob"),
    }, async () => {
      const { baseModel, datasetVersionNum } = await training();
      const createdTask = await sdk("/wenxinworkshop/finetune/createTask", undefined, { name: "sdk_node_v1", baseTrainType: baseModel, trainType: baseModel });
      assert.match(createdTask.log_id, /^\d+$/);
      assert.equal(typeof createdTask.result.id, "number");
      assert.match(createdTask.result.uuid, /^job-[a-z0-9]{12}$/);
      const taskId: number = createdTask.result.id;

      const createdJob = await sdk("/wenxinworkshop/finetune/createJob", undefined, {
        taskId, jobRunType: 0, baseTrainType: baseModel, trainType: baseModel, trainMode: "SFT", peftType: "LoRA",
        trainConfig: { epoch: 1, learningRate: 0.0003 }, trainset: [{ type: 1, id: datasetVersionNum }], trainsetRate: 20,
      });
      assert.equal(typeof createdJob.result.id, "number");
      assert.match(createdJob.result.uuid, /^task-[a-z0-9]{12}$/);
      const jobId: number = createdJob.result.id;

      const detail = await sdk("/wenxinworkshop/finetune/jobDetail", undefined, { taskId, jobId });
      expectV1JobDetail(detail.result, { id: jobId, taskId, trainStatus: "RUNNING" });
      // V1 ids also arrive as strings (the Python helpers pass them so).
      const byString = await sdk("/wenxinworkshop/finetune/jobDetail", undefined, { taskId: String(taskId), jobId: String(jobId) });
      assert.equal(byString.result.id, jobId);

      const stopped = await sdk("/wenxinworkshop/finetune/stopJob", undefined, { taskId, jobId });
      assert.equal(stopped.result, true);
      const after = await sdk("/wenxinworkshop/finetune/jobDetail", undefined, { taskId, jobId });
      assert.equal(after.result.trainStatus, "STOP");

      // A V1 business error is HTTP 200 with error_code: the SDK rejects with the JSON body.
      const missing = await rejection(sdk("/wenxinworkshop/finetune/jobDetail", undefined, { taskId, jobId: 987654321 }));
      assert.match(missing, /"error_code":\d+/);
      const invalid = await rejection(sdk("/wenxinworkshop/finetune/createTask", undefined, { name: "x", baseTrainType: baseModel, trainType: baseModel }));
      assert.match(invalid, /"error_code":500001/);
    });

    test("V2 model repository: CreateCustomModelSet -> DescribeCustomModelSets -> DescribeModelSet -> DescribeModel", {
      skip: skipUnless(["model", "CreateCustomModelSet"], ["model", "DescribeCustomModelSets"], ["model", "DescribeModelSet"], ["model", "DescribeModel"]),
    }, async () => {
      const { baseModelVersionId, baseModelSetId } = await training();
      const created = await sdk("/v2/model", "CreateCustomModelSet", { modelSetName: "sdk_node_set", modelType: "Text2Text", labels: ["sdk"] });
      expectRequestId(created);
      const modelSetId: string = created.result;
      assert.match(modelSetId, /^am-[a-z0-9]{12}$/);

      const sets = await sdk("/v2/model", "DescribeCustomModelSets", { maxKeys: 100 });
      const listed = sets.result.customModelSetList.find((s: any) => s.modelSetId === modelSetId);
      assert.ok(listed, "the new set is listed");
      assert.equal(listed.modelSetName, "sdk_node_set");
      assert.ok(Array.isArray(listed.modelIds));
      assert.equal(typeof sets.result.pageInfo.isTruncated, "boolean");

      const set = await sdk("/v2/model", "DescribeModelSet", { modelSetId });
      assert.equal(set.result.modelSetId, modelSetId);
      assert.deepEqual(set.result.modelIds, []);
      const byName = await sdk("/v2/model", "DescribeModelSet", { modelSetName: "sdk_node_set" });
      assert.equal(byName.result.modelSetId, modelSetId);

      const model = await sdk("/v2/model", "DescribeModel", { modelId: baseModelVersionId });
      assert.equal(model.result.modelId, baseModelVersionId);
      assert.equal(model.result.modelSetId, baseModelSetId);
      assert.equal(model.result.status, "Ready");

      const duplicate = await rejection(sdk("/v2/model", "CreateCustomModelSet", { modelSetName: "sdk_node_set", modelType: "Text2Text" }));
      assert.match(duplicate, /status = (400|409)/);
      const missing = await rejection(sdk("/v2/model", "DescribeModel", { modelId: "amv-doesnotexist" }));
      assert.match(missing, /status = 4\d\d/);
    });

    test("V1 model repository: modelDetail, modelVersionDetail, model/user/list", {
      skip: skipUnless("/wenxinworkshop/modelrepo/modelDetail", "/wenxinworkshop/modelrepo/modelVersionDetail", "/wenxinworkshop/modelrepo/model/user/list"),
    }, async () => {
      const { baseModel, baseModelSetId, baseModelSetNum, baseModelVersionId, baseModelVersionNum } = await training();
      const detail = await sdk("/wenxinworkshop/modelrepo/modelDetail", undefined, { modelId: baseModelSetId });
      assert.equal(detail.result.modelId, baseModelSetNum);
      assert.equal(detail.result.modelIdStr, baseModelSetId);
      assert.equal(detail.result.modelName, baseModel);
      assert.ok(detail.result.modelVersionList.some((v: any) => v.modelVersionIdStr === baseModelVersionId));
      const byNum = await sdk("/wenxinworkshop/modelrepo/modelDetail", undefined, { modelId: baseModelSetNum });
      assert.equal(byNum.result.modelIdStr, baseModelSetId);

      const version = await sdk("/wenxinworkshop/modelrepo/modelVersionDetail", undefined, { modelVersionId: baseModelVersionId });
      assert.equal(version.result.modelVersionId, baseModelVersionNum);
      assert.equal(version.result.modelVersionIdStr, baseModelVersionId);
      assert.equal(version.result.state, "Ready");
      assert.equal(version.result.sourceType, "Import");

      const users = await sdk("/wenxinworkshop/modelrepo/model/user/list", undefined, { pageNo: 1, pageSize: 20 });
      assert.equal(typeof users.result.total, "number");
      assert.ok(users.result.items.some((m: any) => m.modelIdStr === baseModelSetId));

      const missing = await rejection(sdk("/wenxinworkshop/modelrepo/modelVersionDetail", undefined, { modelVersionId: "amv-doesnotexist" }));
      assert.match(missing, /"error_code":70102/);
    });
  });
}
