import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { signRequest } from "@sailfin/contract";
import { ADMIN, startTestServer, testDialects, v1Raw, v2Raw, type RawResponse, type TestServer } from "./harness.js";
import { GO_SDK_VERSION, GoSdk, goBody, goDriver, type GoResult } from "./go-sdk.js";
import { startRecordingProxy } from "./recording-proxy.js";
import { seedTrainingInputs, type TrainingInputs } from "./sdk-fixtures.js";
import { expectJobItem, expectRequestId, expectTask, expectV1JobDetail } from "./sdk-expect.js";

/**
 * The server driven through the official Go SDK (`bce-qianfan-sdk/go/qianfan` v0.0.15,
 * `NewConsoleAction().Call`) by the tests/go driver. Its quirks (reference §3.2, §3.5, §5.2) are
 * exercised for real: the host is signed without its port while net/http sends `host:port`; the
 * base URL comes from QIANFAN_CONSOLE_BASE_URL; the HTTP status of a console call is never
 * checked, so only a body with a non-zero `error_code` (V1) becomes an error; `log_id` must be a
 * JSON string to decode; QIANFAN_AK/QIANFAN_SK switch it to `?access_token=`.
 * Each answer is compared with what the raw client gets for the same call.
 */

const V1_FINETUNE = "/wenxinworkshop/finetune";
const V1_MODELREPO = "/wenxinworkshop/modelrepo";

/** The Go SDK saw the same envelope as the raw client (request ids aside) and returned no error. */
function expectSameEnvelope(go: GoResult, raw: RawResponse): any {
  const body = goBody(go);
  assert.equal(go.status, raw.status, "HTTP status");
  assert.deepEqual(Object.keys(body).sort(), Object.keys(raw.body).sort(), "envelope keys");
  if ("requestId" in raw.body) {
    expectRequestId(body);
    assert.notEqual(body.requestId, raw.body.requestId, "each request has its own id");
  } else {
    assert.match(go.logId!, /^\d+$/, "the SDK decoded log_id (a JSON string of digits)");
    assert.equal(go.logId, body.log_id);
  }
  assert.deepEqual(body.result, raw.body.result, "result");
  return body.result;
}

for (const dialect of testDialects()) {
  describe(`official Go SDK NewConsoleAction().Call (${dialect})`, () => {
    let server: TestServer;
    let go: GoSdk;
    let inputs: TrainingInputs | undefined;
    before(async () => {
      const binary = await goDriver();
      server = await startTestServer(dialect);
      go = new GoSdk(binary, { baseUrl: server.url, credentials: ADMIN });
    });
    after(async () => {
      await go?.close();
      await server?.close();
    });
    const training = async (): Promise<TrainingInputs> => (inputs ??= await seedTrainingInputs(server, `go${dialect}`));
    /** A second driver process: the SDK reads its configuration once per process. */
    const withDriver = async <T>(options: ConstructorParameters<typeof GoSdk>[1], use: (sdk: GoSdk) => Promise<T>): Promise<T> => {
      const sdk = new GoSdk(await goDriver(), options);
      try {
        return await use(sdk);
      } finally {
        await sdk.close();
      }
    };

    test("signing: the host is signed without its port, sent with it, and the server accepts it", async () => {
      const proxy = await startRecordingProxy(server.url);
      try {
        await withDriver({ baseUrl: proxy.url, credentials: ADMIN }, async (sdk) => {
          expectRequestId(goBody(await sdk.call("/v2/finetuning", "DescribeFineTuningJobs", {})));
          assert.equal(goBody(await sdk.call(`${V1_MODELREPO}/model/preset/list`, "", {})).result.total, 0);
        });
      } finally {
        await proxy.close();
      }
      const [v2, v1] = proxy.requests;
      assert.equal(v2!.url, "/v2/finetuning?Action=DescribeFineTuningJobs");
      assert.equal(v1!.url, `${V1_MODELREPO}/model/preset/list`, "no ?Action= on V1 routes (unlike Python's call_action)");
      const headers = v2!.headers;
      const wireHost = new URL(proxy.url).host;
      assert.equal(headers.host, wireHost, "net/http sends host:port");
      assert.equal(headers["request-source"], `qianfan_go_sdk_${GO_SDK_VERSION}`);
      const [version, ak, timestamp, expiration, signedHeaders, signature] = headers.authorization!.split("/");
      assert.equal(version, "bce-auth-v1");
      assert.equal(ak, ADMIN.accessKey);
      assert.equal(timestamp, headers["x-bce-date"], "one timestamp for the header and the signature");
      assert.equal(expiration, "300");
      assert.equal(signedHeaders, "content-type;host;request-source;x-bce-date", "sorted");
      const sign = (host: string) => signRequest({
        ...ADMIN, method: "POST", path: "/v2/finetuning", query: { Action: "DescribeFineTuningJobs" },
        headers: { "content-type": String(headers["content-type"]), host, "request-source": String(headers["request-source"]), "x-bce-date": timestamp! },
        timestamp, expirationSeconds: 300,
      }).split("/").pop();
      assert.equal(sign("127.0.0.1"), signature, "the signature is over the bare hostname");
      assert.notEqual(sign(wireHost), signature, "and not over the Host header as sent");
    });

    test("V2 fine-tuning: CreateFineTuningJob -> DescribeFineTuningJobs -> CreateFineTuningTask -> DescribeFineTuningTask -> StopFineTuningTask", async () => {
      const { baseModel, datasetVersionId } = await training();
      const job = { name: "sdk_go_job", description: "made by the Go SDK", model: baseModel, trainMode: "SFT" };
      const created = goBody(await go.call("/v2/finetuning", "CreateFineTuningJob", job));
      expectRequestId(created);
      const jobId: string = created.result.jobId;
      assert.match(jobId, /^job-[a-z0-9]{12}$/);

      const list = { maxKeys: 10 };
      const jobs = expectSameEnvelope(await go.call("/v2/finetuning", "DescribeFineTuningJobs", list), await v2Raw(server, "finetuning", "DescribeFineTuningJobs", list));
      expectJobItem(jobs.jobList.find((j: any) => j.jobId === jobId), { jobId, ...job });

      const created2 = goBody(await go.call("/v2/finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "LoRA",
        hyperParameterConfig: { epoch: 1, learningRate: 0.0003 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: datasetVersionId }], splitRatio: 20 },
      }));
      assert.equal(created2.result.jobId, jobId);
      const taskId: string = created2.result.taskId;
      assert.match(taskId, /^task-[a-z0-9]{12}$/);

      const task = expectSameEnvelope(await go.call("/v2/finetuning", "DescribeFineTuningTask", { taskId }), await v2Raw(server, "finetuning", "DescribeFineTuningTask", { taskId }));
      expectTask(task, { taskId, jobId, runStatus: "Waiting", trainMode: "SFT", parameterScale: "LoRA" });
      assert.equal(task.hyperParameterConfig.epoch, 1, "numbers survive Go's float64 round trip");
      assert.equal(task.hyperParameterConfig.learningRate, 0.0003);

      const stopped = goBody(await go.call("/v2/finetuning", "StopFineTuningTask", { taskId }));
      assert.equal(stopped.result, true);
      assert.equal(goBody(await go.call("/v2/finetuning", "DescribeFineTuningTask", { taskId })).result.runStatus, "Stopped");
    });

    test("V2 errors: the SDK returns no error; the server's code is in the body and X-Bce-Error-Code", async () => {
      const params = { taskId: "task-doesnotexist" };
      const r = await go.call("/v2/finetuning", "DescribeFineTuningTask", params);
      const raw = await v2Raw(server, "finetuning", "DescribeFineTuningTask", params);
      assert.equal(r.error, undefined, "the Go SDK does not look at the HTTP status of console calls");
      assert.ok(raw.status >= 400);
      assert.equal(r.status, raw.status);
      assert.equal(r.body.code, raw.body.code);
      assert.equal(r.body.message, raw.body.message);
      assert.equal(r.bceErrorCode, raw.body.code);
    });

    test("V1 fine-tuning: createTask -> createJob -> jobDetail; a V1 error_code is the SDK's APIError", async () => {
      const { baseModel, datasetVersionNum } = await training();
      const createdTask = await go.call(`${V1_FINETUNE}/createTask`, "", { name: "sdk_go_v1", baseTrainType: baseModel, trainType: baseModel });
      assert.match(createdTask.logId!, /^\d+$/);
      const taskId: number = goBody(createdTask).result.id;
      assert.equal(typeof taskId, "number");
      assert.match(goBody(createdTask).result.uuid, /^job-[a-z0-9]{12}$/);

      const createdJob = goBody(await go.call(`${V1_FINETUNE}/createJob`, "", {
        taskId, jobRunType: 0, baseTrainType: baseModel, trainType: baseModel, trainMode: "SFT", peftType: "LoRA",
        trainConfig: { epoch: 1, learningRate: 0.0003 }, trainset: [{ type: 1, id: datasetVersionNum }], trainsetRate: 20,
      }));
      const jobId: number = createdJob.result.id;
      assert.match(createdJob.result.uuid, /^task-[a-z0-9]{12}$/);

      const ids = { taskId, jobId };
      const detail = expectSameEnvelope(await go.call(`${V1_FINETUNE}/jobDetail`, "", ids), await v1Raw(server, `${V1_FINETUNE}/jobDetail`, ids));
      expectV1JobDetail(detail, { id: jobId, taskId, trainStatus: "RUNNING" });

      const missing = { taskId, jobId: 987654321 };
      const r = await go.call(`${V1_FINETUNE}/jobDetail`, "", missing);
      const raw = await v1Raw(server, `${V1_FINETUNE}/jobDetail`, missing);
      assert.equal(raw.status, 200, "V1 business errors are HTTP 200");
      assert.deepEqual(r.error, { type: "APIError", code: String(raw.body.error_code), message: raw.body.error_msg });
      const invalid = await go.call(`${V1_FINETUNE}/createTask`, "", { name: "x", baseTrainType: baseModel, trainType: baseModel });
      assert.equal(invalid.error?.type, "APIError");
      assert.equal(invalid.error?.code, "500001");
    });

    test("V2 model repository: CreateCustomModelSet -> DescribeCustomModelSets -> DescribeModelSet -> DescribeModel", async () => {
      const { baseModelSetId, baseModelVersionId } = await training();
      const created = goBody(await go.call("/v2/model", "CreateCustomModelSet", { modelSetName: "sdk_go_set", modelType: "Text2Text", labels: ["go"] }));
      expectRequestId(created);
      const modelSetId: string = created.result;
      assert.match(modelSetId, /^am-[a-z0-9]{12}$/, "a plain string result");

      const page = { maxKeys: 100 };
      const sets = expectSameEnvelope(await go.call("/v2/model", "DescribeCustomModelSets", page), await v2Raw(server, "model", "DescribeCustomModelSets", page));
      const listed = sets.customModelSetList.find((s: any) => s.modelSetId === modelSetId);
      assert.deepEqual(listed?.labels, ["go"]);

      const set = expectSameEnvelope(await go.call("/v2/model", "DescribeModelSet", { modelSetId }), await v2Raw(server, "model", "DescribeModelSet", { modelSetId }));
      assert.deepEqual(set.modelIds, []);

      const model = expectSameEnvelope(
        await go.call("/v2/model", "DescribeModel", { modelId: baseModelVersionId }),
        await v2Raw(server, "model", "DescribeModel", { modelId: baseModelVersionId }),
      );
      assert.equal(model.modelSetId, baseModelSetId);
      assert.equal(model.status, "Ready");
    });

    test("V1 model repository: modelDetail, modelVersionDetail, model/user/list; 70102 for an unknown version", async () => {
      const { baseModelSetId, baseModelSetNum, baseModelVersionId, baseModelVersionNum } = await training();
      const byNum = { modelId: baseModelSetNum };
      const detail = expectSameEnvelope(await go.call(`${V1_MODELREPO}/modelDetail`, "", byNum), await v1Raw(server, `${V1_MODELREPO}/modelDetail`, byNum));
      assert.equal(detail.modelIdStr, baseModelSetId);
      const byStr = { modelVersionId: baseModelVersionId };
      const version = expectSameEnvelope(
        await go.call(`${V1_MODELREPO}/modelVersionDetail`, "", byStr),
        await v1Raw(server, `${V1_MODELREPO}/modelVersionDetail`, byStr),
      );
      assert.equal(version.modelVersionId, baseModelVersionNum);
      assert.equal(version.state, "Ready");
      const page = { pageNo: 1, pageSize: 20 };
      const users = expectSameEnvelope(await go.call(`${V1_MODELREPO}/model/user/list`, "", page), await v1Raw(server, `${V1_MODELREPO}/model/user/list`, page));
      assert.ok(users.items.some((m: any) => m.modelIdStr === baseModelSetId));

      const missing = await go.call(`${V1_MODELREPO}/modelVersionDetail`, "", { modelVersionId: "amv-doesnotexist" });
      assert.equal(missing.error?.type, "APIError");
      assert.equal(missing.error?.code, "70102");
    });

    test("wrong secret key: APIError 500002 on a V1 route; on a V2 route no error, SignatureDoesNotMatch in body and header", async () => {
      const wrong = { accessKey: ADMIN.accessKey, secretKey: "not-the-secret" };
      await withDriver({ baseUrl: server.url, credentials: wrong }, async (sdk) => {
        const v1 = await sdk.call(`${V1_MODELREPO}/model/user/list`, "", {});
        const rawV1 = await v1Raw(server, `${V1_MODELREPO}/model/user/list`, {}, wrong);
        assert.deepEqual(v1.error, { type: "APIError", code: String(rawV1.body.error_code), message: rawV1.body.error_msg });
        assert.equal(v1.error?.code, "500002");

        const v2 = await sdk.call("/v2/model", "DescribeCustomModelSets", {});
        assert.equal(v2.error, undefined, sdk.log);
        assert.equal(v2.status, 400);
        assert.equal(v2.body.code, "SignatureDoesNotMatch");
        assert.equal(v2.bceErrorCode, "SignatureDoesNotMatch");
      });
    });

    test("QIANFAN_AK/QIANFAN_SK: the SDK fetches an access_token and signs nothing", async () => {
      const proxy = await startRecordingProxy(server.url);
      try {
        await withDriver({ baseUrl: proxy.url, credentials: { ak: ADMIN.accessKey, sk: ADMIN.secretKey } }, async (sdk) => {
          expectRequestId(goBody(await sdk.call("/v2/model", "DescribeCustomModelSets", {})));
        });
        await withDriver({ baseUrl: proxy.url, credentials: { ak: ADMIN.accessKey, sk: "not-the-secret" } }, async (sdk) => {
          // A refused token is only logged: Call returns a nil error and an empty response.
          const r = await sdk.call("/v2/model", "DescribeCustomModelSets", {});
          assert.equal(r.error?.type, "NoResponse");
          assert.match(sdk.log, /refresh access token of ak .* failed with error: Client authentication failed/);
        });
      } finally {
        await proxy.close();
      }
      const [token, call, badToken] = proxy.requests;
      assert.match(token!.url, /^\/oauth\/2\.0\/token\?/);
      assert.equal(new URL(token!.url, proxy.url).searchParams.get("grant_type"), "client_credentials");
      assert.equal(token!.body, "null", "the SDK posts a JSON null body to the token endpoint");
      assert.match(call!.url, /^\/v2\/model\?/);
      assert.equal(call!.headers.authorization, undefined);
      assert.ok(new URL(call!.url, proxy.url).searchParams.get("access_token"));
      assert.match(badToken!.url, /^\/oauth\/2\.0\/token\?/);
      assert.equal(proxy.requests.length, 3, "no console call without a token");
    });
  });
}
