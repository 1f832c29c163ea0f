import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { rawCall, startTestServer, testDialects, v1Raw, v2Raw, type RawResponse, type TestServer } from "./harness.js";

/**
 * Input no store or header can carry (NUL, lone surrogates, overflowing integers, huge ids, bad
 * URLs) is refused in the dialect's envelope naming the field: never a 5xx, on either database.
 * The fuzz test (fuzz.test.ts) sweeps every route; these pin each defect of issue 11 it found.
 */
for (const dialect of testDialects()) {
  describe(`hostile input (${dialect})`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(dialect); });
    after(async () => { await server.close(); });

    const assertV2Refusal = (r: RawResponse, field: string) => {
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, "InappropriateJSON");
      assert.match(r.body.message, new RegExp(`param\\[${field.replace(/[[\].\\]/g, "\\$&")}\\] invalid`));
      assert.equal(typeof r.body.requestId, "string");
    };

    /** A raw body (JSON.stringify would not let us write a lone surrogate escape). */
    const v2Text = (resource: string, action: string, body: string) =>
      rawCall(server.url, { path: `/v2/${resource}`, query: { Action: action }, body });

    test("#2 a NUL byte in a V2 body field is InvalidParameter naming the field, not a 500", async () => {
      const r = await v2Raw(server, "dataset", "CreateDataset", { datasetName: "a\u0000b", dataFormat: "PromptResponse", storageType: "sysStorage" });
      assertV2Refusal(r, "datasetName");
      assert.match(r.body.message, /NUL/);
      // Nested, in an array, and in a key.
      assertV2Refusal(await v2Raw(server, "finetuning", "DescribeFineTuningTasks", { jobId: "job-x", filter: ["ok", "\u0000"] }), "filter[1]");
      assertV2Refusal(await v2Raw(server, "iam", "DeleteAccessKey", { accessKey: "k", ["x\u0000"]: 1 }), "x\\u0000");
    });

    test("#2 a NUL byte in a V1 body is 500001 naming the field (dataset family with status 400)", async () => {
      const r = await v1Raw(server, "/wenxinworkshop/dataset/info", { datasetId: "ds-\u0000" });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.error_code, 500001);
      assert.match(r.body.error_msg, /param\[datasetId\] invalid/);
      assert.equal(r.body.status, 400);
      assert.equal(r.body.success, false);
      const job = await v1Raw(server, "/wenxinworkshop/finetune/jobDetail", { taskId: "task-\u0000", jobId: 1 });
      assert.equal(job.body.error_code, 500001);
      assert.match(job.body.error_msg, /param\[taskId\] invalid/);
    });

    test("#2 unauthenticated sign-in with a NUL byte is a 400 naming accessKey", async () => {
      const r = await rawCall(server.url, { path: "/sailfin/v1/session", credentials: null, body: JSON.stringify({ accessKey: "ak\u0000", secretKey: "x" }) });
      assertV2Refusal(r, "accessKey");
    });

    test("#2 a NUL byte in a path or query parameter is a 400 in the route's envelope", async () => {
      const r = await rawCall(server.url, { method: "GET", path: "/sailfin/v1/events/%00" });
      assertV2Refusal(r, "objectId");
      const token = await rawCall(server.url, { method: "GET", path: "/sailfin/v1/events/task-x", query: { lastEventId: "1\u0000" } });
      assertV2Refusal(token, "lastEventId");
      assertV2Refusal(await rawCall(server.url, { method: "PUT", path: "/sailfin/v1/objects/bucket/a%00b", body: "x" }), "objectPath");
    });

    test("#6 a lone surrogate in a V2 field is refused in the envelope (no 'URI malformed' 500)", async () => {
      const r = await v2Text("model", "DescribeModelCompTask", '{"modelCompTaskId":"amva-\\ud800"}');
      assertV2Refusal(r, "modelCompTaskId");
      assert.match(r.body.message, /unpaired surrogate/);
      assert.ok(r.headers.get("x-bce-error-message"));
      const v1 = await rawCall(server.url, { path: "/wenxinworkshop/finetune/jobDetail", body: '{"taskId":"\\udc00","jobId":1}' });
      assert.equal(v1.status, 200, v1.text);
      assert.equal(v1.body.error_code, 500001);
      assert.match(v1.body.error_msg, /param\[taskId\] invalid/);
    });

    test("#7 a refused 900 kB id leaves a bounded error header and a bounded message", async () => {
      const huge = `amva-${"x".repeat(900_000)}`;
      const r = await v2Raw(server, "model", "DescribeModelCompTask", { modelCompTaskId: huge });
      assert.ok(r.status >= 400 && r.status < 500, r.text.slice(0, 200));
      const header = r.headers.get("x-bce-error-message") ?? "";
      assert.ok(header.length > 0 && header.length <= 2_000, `header of ${header.length} chars`);
      assert.ok(r.body.message.length <= 1_500, `message of ${r.body.message.length} chars`);
      assert.match(r.body.message, /…/);
      // Non-ASCII echoes are percent-encoded within the same bound.
      const cjk = await v2Raw(server, "model", "DescribeModelCompTask", { modelCompTaskId: `amva-${"中".repeat(200_000)}` });
      const cjkHeader = cjk.headers.get("x-bce-error-message") ?? "";
      assert.ok(cjkHeader.length > 0 && cjkHeader.length <= 6_000, `header of ${cjkHeader.length} chars`);
    });

    test("#11 an integer past int32 is InvalidParameter naming the field, not a 500", async () => {
      assertV2Refusal(await v2Raw(server, "finetuning", "DescribeFineTuningTaskMetrics", { taskId: "task-x", sinceStep: 2147483648 }), "sinceStep");
      assertV2Refusal(await v2Raw(server, "finetuning", "DescribeFineTuningJobs", { maxKeys: 2147483648 }), "maxKeys");
      const v1 = await v1Raw(server, "/wenxinworkshop/modelrepo/model/user/list", { pageNo: 1, pageSize: 4294967296 });
      assert.equal(v1.body.error_code, 500001);
      assert.match(v1.body.error_msg, /param\[pageSize\] invalid: must be an integer in \[0, 2147483647\]/);
      const id = await v1Raw(server, "/wenxinworkshop/finetune/jobDetail", { taskId: 9007199254740993, jobId: 1 });
      assert.equal(id.body.error_code, 500001);
      assert.match(id.body.error_msg, /param\[taskId\] invalid/);
    });

    test("#16 Fastify's own URL errors answer in each family's envelope", async () => {
      const raw = (path: string, method = "GET") => new Promise<RawResponse>((resolve, reject) => {
        const url = new URL(server.url);
        const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers: { "content-type": "application/json" } }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => { text += c.toString(); });
          res.on("end", () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
            resolve({ status: res.statusCode ?? 0, headers, text, body: JSON.parse(text) });
          });
        });
        req.on("error", reject);
        req.end(method === "POST" ? "{}" : undefined);
      });
      const events = await raw("/sailfin/v1/events/%zz");
      assert.equal(events.status, 400);
      assert.equal(events.body.code, "InvalidURI");
      assert.equal(typeof events.body.requestId, "string");
      assert.equal(events.headers.get("x-bce-error-code"), "InvalidURI");
      const tooLong = await raw(`/sailfin/v1/events/task-${"a".repeat(200)}`);
      assert.equal(tooLong.status, 414);
      assert.equal(tooLong.body.code, "InvalidURI");
      const v1 = await raw("/wenxinworkshop/%E0%A4%A", "POST");
      assert.equal(v1.status, 400);
      assert.equal(v1.body.error_code, 500001);
      assert.equal(v1.body.code, "InvalidURI");
      const v2 = await raw("/v2/%ED%A0%80?Action=X", "POST");
      assert.equal(v2.status, 400);
      assert.equal(v2.body.code, "InvalidURI");
    });

    test("#16 the OAuth token route answers its own {error, error_description} shape, whatever the input", async () => {
      const numeric = await rawCall(server.url, { path: "/oauth/2.0/token", credentials: null, body: JSON.stringify({ grant_type: "client_credentials", client_id: 12, client_secret: ["x"] }) });
      assert.equal(numeric.status, 200, numeric.text);
      assert.equal(numeric.body.error, "invalid_client");
      const nul = await rawCall(server.url, { path: "/oauth/2.0/token", credentials: null, query: { grant_type: "client_credentials", client_id: "a\u0000" } });
      assert.equal(nul.status, 200, nul.text);
      assert.equal(nul.body.error, "invalid_request");
      assert.match(nul.body.error_description, /client_id/);
      const broken = await rawCall(server.url, { path: "/oauth/2.0/token", credentials: null, body: "{" });
      assert.equal(broken.body.error, "invalid_request");
    });
  });
}
