import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { signRequest } from "@sailfin/contract";
import { buildApp, v1 as v1Route, v2 as v2Route } from "@sailfin/server";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { NodeSdk, callConsoleAction, rejectionOf } from "./node-sdk.js";
import { startRecordingProxy, type RecordedRequest, type RecordingProxy } from "./recording-proxy.js";

/**
 * What the official Node SDK's `consoleAction` (`@baiducloud/qianfan` 0.2.4) does on the wire
 * and with the answers, observed against the real server (reference §2, §3.2): its signer
 * (expiry 1800 s, `content-length;content-type;host;x-bce-date`, host with its port, the date
 * header and the authorization timestamp read from two clocks), and its response handling
 * (headers merged into the result, every non-2xx a rejection and never retried, V1 business
 * errors rejected with their JSON, except 500000, which it retries and then resolves).
 */

const AUTH = /^bce-auth-v1\/([^/]+)\/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\/(\d+)\/([^/]*)\/([0-9a-f]{64})$/;

/** Runs `call` with `new Date()` shifted by `offsetMs(n)` for the n-th construction; consoleAction signs synchronously, inside the call. */
function withClock<T>(offsetMs: (n: number) => number, call: () => T): T {
  const RealDate = Date;
  let n = 0;
  const Shifted = class extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs(n++));
      else super(args[0] as string | number | Date);
    }
  };
  globalThis.Date = Shifted as unknown as DateConstructor;
  try {
    return call();
  } finally {
    globalThis.Date = RealDate;
  }
}

function authorizationOf(request: RecordedRequest) {
  const match = AUTH.exec(String(request.headers.authorization));
  assert.ok(match, `a bce-auth-v1 authorization: ${request.headers.authorization}`);
  const [, accessKey, timestamp, expiration, signedHeaders, signature] = match;
  return { accessKey, timestamp: timestamp!, expiration, signedHeaders, signature };
}

for (const dialect of testDialects()) {
  describe(`official Node SDK consoleAction on the wire (${dialect})`, () => {
    let server: TestServer;
    let proxy: RecordingProxy;
    let via: NodeSdk;
    before(async () => {
      server = await startTestServer(dialect);
      proxy = await startRecordingProxy(server.url);
      via = new NodeSdk(proxy.url, ADMIN);
    });
    after(async () => {
      await proxy?.close();
      await server?.close();
    });
    /** The requests recorded while `run` ran. */
    const recorded = async (run: () => Promise<unknown>): Promise<RecordedRequest[]> => {
      const from = proxy.requests.length;
      await run();
      return proxy.requests.slice(from);
    };

    test("what it signs and sends: 1800 s, content-length;content-type;host;x-bce-date, the host with its port, Action in the query only for V2", async () => {
      const data = { model: "千帆-tiny", maxKeys: 5 };
      let answer: any;
      const [v2, bare, v1] = await recorded(async () => {
        answer = await via.v2("finetuning", "DescribeFineTuningJobs", data);
        await via.v2("finetuning", "DescribeFineTuningSupportModels");
        await via.v1("/wenxinworkshop/modelrepo/model/preset/list", {});
      });
      const proxyHost = new URL(proxy.url).host;
      for (const request of [v2!, bare!, v1!]) {
        const { headers } = request;
        assert.equal(request.method, "POST");
        assert.equal(headers.host, proxyHost, "the Host header carries the port");
        assert.equal(headers["content-type"], "application/json");
        assert.equal(headers.accept, "application/json");
        assert.match(String(headers["user-agent"]), /^bce-sdk-nodejs\/0\.2\.4\/unknown\/unknown$/);
        const auth = authorizationOf(request);
        assert.equal(auth.accessKey, ADMIN.accessKey);
        assert.equal(auth.expiration, "1800", "the Node signer's hard-coded expiry");
        assert.equal(auth.signedHeaders, "content-length;content-type;host;x-bce-date");
        // Two clock reads: the date header at client construction, the timestamp at signing.
        assert.ok(Math.abs(Date.parse(auth.timestamp) - Date.parse(String(headers["x-bce-date"]))) <= 1000);
        assert.equal(headers["content-length"], String(Buffer.byteLength(request.body)), "the UTF-8 byte length");
        const url = new URL(request.url, proxy.url);
        const expected = signRequest({
          ...ADMIN, method: "POST", path: url.pathname, query: Object.fromEntries(url.searchParams),
          headers: { host: proxyHost, "content-type": "application/json", "content-length": String(headers["content-length"]), "x-bce-date": String(headers["x-bce-date"]) },
          timestamp: auth.timestamp, expirationSeconds: 1800,
        });
        assert.equal(headers.authorization, expected, "exactly the canonical request Sailfin's signer builds (host with port)");
      }
      assert.equal(v2!.url, "/v2/finetuning?Action=DescribeFineTuningJobs");
      assert.equal(v2!.body, JSON.stringify(data));
      assert.equal(v2!.headers["content-length"], String(Buffer.byteLength(JSON.stringify(data))));
      assert.notEqual(Buffer.byteLength(v2!.body), v2!.body.length, "multi-byte characters are counted as bytes");
      assert.equal(bare!.body, "", "no data: no body at all");
      assert.equal(bare!.headers["content-length"], "0");
      assert.equal(v1!.url, "/wenxinworkshop/modelrepo/model/preset/list", "no ?Action= on V1 (unlike Python's call_action)");

      // The answer: the body with the response headers merged in.
      assert.equal(answer.headers["x-bce-request-id"], answer.requestId);
      assert.equal(answer.headers["content-length"], String(Buffer.byteLength(JSON.stringify({ requestId: answer.requestId, result: answer.result }))));
      assert.deepEqual(answer.result, { jobList: [], pageInfo: { marker: "", maxKeys: 5, isTruncated: false } });
    });

    test("the server honours the 1800 s the signer asks for: signed 1790 s ago passes, 1810 s ago is RequestExpired", async () => {
      const [old] = await recorded(() => withClock(() => -1_790_000, () => via.v2("finetuning", "DescribeFineTuningJobs", {})));
      assert.ok(Date.now() - Date.parse(authorizationOf(old!).timestamp) >= 1_789_000, "signed that long ago");
      const expired = await rejectionOf(withClock(() => -1_810_000, () => via.raw("/v2/finetuning", "DescribeFineTuningJobs", {})));
      assert.equal(expired.status, 400);
      assert.equal(expired.body.code, "RequestExpired");
      assert.equal(expired.headers["x-bce-error-code"], "RequestExpired");
      // On a V1 route the gateway error keeps its HTTP status too, with both dialects' keys.
      const v1 = await rejectionOf(withClock(() => -1_810_000, () => via.raw("/wenxinworkshop/modelrepo/model/preset/list", undefined, {})));
      assert.equal(v1.status, 400);
      assert.equal(v1.body.code, "RequestExpired");
      assert.equal(v1.body.error_code, 500002);
    });

    test("the date header and the authorization timestamp a second apart (two clock reads) are accepted", async () => {
      // x-bce-date is the first clock read; a second boundary falls before the next ones (the
      // auth timestamp among them). The reads are microseconds apart in one synchronous run, so
      // a real gap is at most that one second; the server allows no more (docs/architecture.md).
      const [request] = await recorded(() => withClock((n) => (n === 0 ? 0 : 1000), () => via.v2("finetuning", "DescribeFineTuningJobs", {})));
      const dateHeader = Date.parse(String(request!.headers["x-bce-date"]));
      assert.ok(Date.parse(authorizationOf(request!).timestamp) > dateHeader, "the timestamp was read after the date header");
    });

    test("every non-2xx rejects with 'Request timed out.' and the status, headers and body as text, and is never retried (409 included)", async () => {
      const name = `node_wire_${dialect}`;
      await via.v2("model", "CreateCustomModelSet", { modelSetName: name, modelType: "Text2Text" });
      let conflict: Awaited<ReturnType<typeof rejectionOf>> | undefined;
      const sent = await recorded(async () => {
        conflict = await rejectionOf(via.raw("/v2/model", "CreateCustomModelSet", { modelSetName: name, modelType: "Text2Text" }));
      });
      assert.equal(sent.length, 1, "the SDK lists 409 as retryable, but throws before it looks");
      assert.match(conflict!.message, /^Request timed out\.\s+HTTP error, status = 409/);
      assert.equal(conflict!.status, 409);
      assert.equal(conflict!.body.code, "ResourceInUse");
      assert.equal(conflict!.headers["x-bce-error-code"], "ResourceInUse");

      const unknownKey = { accessKey: "nosuchkey0000000", secretKey: "x" };
      const v1Gateway = await rejectionOf(via.raw("/wenxinworkshop/finetune/jobDetail", undefined, { taskId: 1, jobId: 1 }, unknownKey));
      assert.equal(v1Gateway.status, 403, "authentication fails at the gateway: an HTTP status even on V1");
      assert.deepEqual(Object.keys(v1Gateway.body).sort(), ["code", "error_code", "error_msg", "log_id", "message", "requestId"]);
      assert.equal(v1Gateway.body.code, "InvalidAccessKeyId");
      assert.equal(v1Gateway.headers["x-bce-error-message"], "NotFound, cause: Could not find credential.");
    });

    test("a V1 business error (HTTP 200 + error_code) rejects with the merged body as JSON, sent once", async () => {
      let rejection: Awaited<ReturnType<typeof rejectionOf>> | undefined;
      const sent = await recorded(async () => {
        rejection = await rejectionOf(via.raw("/wenxinworkshop/finetune/jobDetail", undefined, { taskId: 1, jobId: 1 }));
      });
      assert.equal(sent.length, 1);
      const parsed = JSON.parse(rejection!.message);
      assert.equal(parsed.headers["content-type"], "application/json; charset=utf-8", "the message is the resolved value: headers and body");
      assert.equal(parsed.error_code, 500001);
      assert.match(parsed.error_msg, /param\[taskId\]/);
      assert.deepEqual(Object.keys(parsed).sort(), ["error_code", "error_msg", "headers", "log_id"]);
    });

    test("an internal error: V1's 500000 at HTTP 200 is retried three times and then resolves; V2's HTTP 500 rejects at once", async () => {
      // The server's own error rendering, on routes that fail the way an unexpected fault does.
      let v1Calls = 0;
      let v2Calls = 0;
      const app = await buildApp(server.server.res, {
        bodyLimit: 1 << 20, uploadLimit: 1 << 20, logger: undefined,
        routes: [
          v1Route("/wenxinworkshop/wiretest/boom", "tuning:read", async () => { v1Calls++; throw new Error("boom"); }),
          v2Route("wiretest", "Boom", "tuning:read", async () => { v2Calls++; throw new Error("boom"); }),
        ],
      });
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      try {
        const resolved = await callConsoleAction(url, ADMIN, "/wenxinworkshop/wiretest/boom", undefined, {});
        assert.equal(v1Calls, 4, "500000 is in the SDK's retry list: one call and three retries");
        assert.equal(resolved.error_code, 500000, "then the error body comes back as if it were a success");
        assert.equal(resolved.error_msg, "internal server error", "no internals leak");
        assert.equal(resolved.result, undefined);

        const rejected = await rejectionOf(callConsoleAction(url, ADMIN, "/v2/wiretest", "Boom", {}));
        assert.equal(v2Calls, 1, "the SDK lists 5xx as retryable, but throws before it looks");
        assert.equal(rejected.status, 500);
        assert.equal(rejected.body.code, "InternalError");
      } finally {
        await app.close();
      }
    });
  });
}
