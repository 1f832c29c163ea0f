import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import OpenAI from "openai";
import { bceTimestamp, signRequest } from "@sailfin/contract";
import type { ChatTarget, FindChatTarget } from "@sailfin/engine";
import { ADMIN, rawCall, readRawResponse, startTestServer, testDialects, v2Raw, type TestServer } from "./harness.js";
import { pythonSdkMissing } from "./python-sdk.js";
import { runCli } from "./cli-process.js";

/**
 * Calling a service, up to the engine: bearer tokens (`GET /v1/BCE-BEARER/token`, fetched by the
 * official Qianfan Python SDK itself and by hand, Go's query-in-the-path signature included), API
 * keys (create, list, delete, what they may and may not reach), and every refusal of the two chat
 * routes in their own envelopes: OpenAI's `{error: {…}, id}` with HTTP >= 400 on V2 (read by the
 * real OpenAI Node SDK), HTTP 200 `{error_code, error_msg}` on V1. The services here are the test's
 * own resolver: `down` exists but serves nothing now; any other model is unknown.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

const DOWN: ChatTarget = { modelVersion: { id: "amv-notserving", artifactPath: "models/amv-notserving/" }, endpoint: null };
const find: FindChatTarget = async (_res, model) => (model.toLowerCase() === "down" ? DOWN : null);

function chat(server: TestServer, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/v2/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body),
  }).then(readRawResponse);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const hello = [{ role: "user", content: "hello" }];

function assertOpenAiError(r: { status: number; body: any; text: string }, status: number, code: string, param: string | null = null): void {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), ["error", "id"], r.text);
  assert.match(r.body.id, /^as-[a-z0-9]{10}$/);
  assert.equal(r.body.error.code, code, r.text);
  assert.equal(r.body.error.param, param, r.text);
  assert.equal(r.body.error.type, status >= 500 ? "server_error" : "invalid_request_error");
  assert.equal(typeof r.body.error.message, "string");
}

async function bearerToken(server: TestServer, expireInSeconds: string, credentials: { accessKey: string; secretKey: string } | null = ADMIN) {
  return rawCall(server.url, { method: "GET", path: "/v1/BCE-BEARER/token", query: { expireInSeconds }, credentials });
}

for (const dialect of testDialects()) {
  describe(`inference auth and refusals (${dialect})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, {}, "local", { findServingTarget: find });
    });
    after(async () => server?.close());

    test("a bearer token: raw JSON, bce-v3 form, UTC Z times, lifetime clamped to [1 h, 30 days]", async () => {
      const r = await bearerToken(server, "43200");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ["createTime", "expireTime", "status", "token", "userId"]);
      assert.match(r.body.token, /^bce-v3\/ALTAK-[A-Za-z0-9]{20}\/[0-9a-f]{40}$/);
      assert.equal(r.body.status, "enable");
      assert.equal(r.body.userId, ADMIN.accessKey);
      assert.match(r.body.createTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.equal((Date.parse(r.body.expireTime) - Date.parse(r.body.createTime)) / 1000, 43200);
      assert.ok(Math.abs(Date.parse(r.body.createTime) - Date.now()) < 5000);
      const short = await bearerToken(server, "60");
      assert.equal((Date.parse(short.body.expireTime) - Date.parse(short.body.createTime)) / 1000, 3600);
      const long = await bearerToken(server, "999999999");
      assert.equal((Date.parse(long.body.expireTime) - Date.parse(long.body.createTime)) / 1000, 2_592_000);
      // The token works on V2 chat: past authentication, the model is what is missing.
      assertOpenAiError(await chat(server, { model: "nosuch", messages: hello }, bearer(r.body.token)), 404, "model_not_found", "model");
    });

    test("a bearer token request: bad expireInSeconds named, unsigned refused, Go's query-in-the-path signature accepted", async () => {
      for (const bad of ["", "0", "-5", "1.5", "abc"]) {
        const r = await bearerToken(server, bad);
        assert.equal(r.status, 400, r.text);
        assert.equal(r.body.code, "InappropriateJSON");
        assert.match(r.body.message, /param\[expireInSeconds\]/);
      }
      const unsigned = await bearerToken(server, "3600", null);
      assert.equal(unsigned.status, 400);
      assert.equal(unsigned.body.code, "InvalidHTTPAuthHeader");
      // Go: the query inside the signed URI (canonical path `/v1/BCE-BEARER/token%3FexpireInSeconds%3D3600`), empty canonical query.
      const url = new URL(`${server.url}/v1/BCE-BEARER/token?expireInSeconds=3600`);
      const timestamp = bceTimestamp();
      const authorization = signRequest({
        ...ADMIN, method: "GET", path: "/v1/BCE-BEARER/token?expireInSeconds=3600", query: {},
        headers: { host: url.host, "x-bce-date": timestamp }, timestamp, expirationSeconds: 1800,
      });
      const go = await readRawResponse(await fetch(url, { headers: { host: url.host, "x-bce-date": timestamp, authorization } }));
      assert.equal(go.status, 200, go.text);
      assert.match(go.body.token, /^bce-v3\//);
      // A key that may not call services gets no token.
      const reader = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanDataReadAccessPolicy"] });
      const denied = await bearerToken(server, "3600", reader);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, "AccessDenied");
    });

    test("the Qianfan Python SDK fetches a bearer token itself (IAM.create_bearer_token) and V2 chat accepts it", async (t) => {
      const missing = pythonSdkMissing();
      if (missing !== null) return t.skip(missing);
      const script = [
        "import json, qianfan",
        "from qianfan.resources.console.iam import IAM",
        "r = IAM.create_bearer_token(expire_in_seconds=43200)",
        "print(json.dumps(r.body))",
      ].join("\n");
      const { stdout } = await run(`${root}.venv/bin/python`, ["-c", script], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp",
          QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey, QIANFAN_IAM_BASE_URL: server.url,
        },
      });
      const body = JSON.parse(stdout.trim().split("\n").pop()!);
      assert.match(body.token, /^bce-v3\/ALTAK-/);
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(body.token)), 503, "service_unavailable");
    });

    test("API keys: created once, listed without the key, usable on chat only, deleted by their owner only", async () => {
      const owner = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanServiceReadAccessPolicy"] });
      const other = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanServiceReadAccessPolicy"] });
      const created = await v2Raw(server, "iam", "CreateApiKey", { description: "playground" }, owner);
      assert.equal(created.status, 200, created.text);
      const { apiKey, apiKeyId } = created.body.result;
      assert.match(apiKey, /^bce-v3\/ALTAK-[A-Za-z0-9]{20}\/[0-9a-f]{40}$/);
      assert.match(apiKeyId, /^apikey-\d+$/);
      const listed = await v2Raw(server, "iam", "DescribeApiKeys", {}, owner);
      assert.deepEqual(listed.body.result.apiKeyList, [{ apiKeyId, description: "playground", createTime: created.body.result.createTime }]);
      assert.ok(!listed.text.includes(apiKey.split("/")[2]));
      assert.deepEqual((await v2Raw(server, "iam", "DescribeApiKeys", {}, other)).body.result.apiKeyList, []);

      assertOpenAiError(await chat(server, { model: "Down", messages: hello }, bearer(apiKey)), 503, "service_unavailable");
      const r503 = await chat(server, { model: "down", messages: hello }, bearer(apiKey));
      assert.equal(r503.headers.get("retry-after"), "5");
      // A bearer key reaches no other route: it cannot mint keys or read anything.
      const minted = await fetch(`${server.url}/v2/iam?Action=CreateApiKey`, { method: "POST", headers: { "content-type": "application/json", ...bearer(apiKey) }, body: "{}" });
      assert.equal(minted.status, 400);
      assert.equal(((await minted.json()) as any).code, "InvalidHTTPAuthHeader");

      const foreign = await v2Raw(server, "iam", "DeleteApiKey", { apiKeyId }, other);
      assert.equal(foreign.status, 400, foreign.text);
      assert.match(foreign.body.message, /param\[apiKeyId\]/);
      assert.equal((await v2Raw(server, "iam", "DeleteApiKey", { apiKeyId }, owner)).status, 200);
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(apiKey)), 401, "invalid_api_key");
      assert.equal((await v2Raw(server, "iam", "DeleteApiKey", { apiKeyId: "nonsense" }, owner)).status, 400);
    });

    test("sailfin keys api-key create / list / delete (through @sailfin/sdk)", async () => {
      const owner = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanServiceReadAccessPolicy"] });
      const env = { QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: owner.accessKey, QIANFAN_SECRET_KEY: owner.secretKey, SAILFIN_CONFIG: `${server.home}/cli-config.json`, SAILFIN_PROFILE: "" };
      const ok = async (args: string[]) => {
        const r = await runCli(args, env);
        assert.equal(r.code, 0, `sailfin ${args.join(" ")}: ${r.stderr}${r.stdout}`);
        return r.stdout;
      };
      const created = JSON.parse(await ok(["keys", "api-key", "create", "--description", "cli", "--json"]));
      assert.match(created.apiKey, /^bce-v3\/ALTAK-/);
      assert.match(await ok(["keys", "api-key", "list"]), new RegExp(`${created.apiKeyId}\\s+cli`));
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(created.apiKey)), 503, "service_unavailable");
      assert.match(await ok(["keys", "api-key", "delete", created.apiKeyId]), /deleted/);
      assert.deepEqual(JSON.parse(await ok(["keys", "api-key", "list", "--json"])), []);
    });

    test("a token or key dies with its access key, and an expired token is refused as such", async () => {
      const doomed = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanServiceReadAccessPolicy"] });
      const token = (await bearerToken(server, "3600", doomed)).body.token as string;
      const apiKey = (await v2Raw(server, "iam", "CreateApiKey", {}, doomed)).body.result.apiKey as string;
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(token)), 503, "service_unavailable");
      assert.equal((await v2Raw(server, "iam", "DeleteAccessKey", { accessKey: doomed.accessKey })).status, 200);
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(token)), 401, "invalid_api_key");
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(apiKey)), 401, "invalid_api_key");

      const expiring = (await bearerToken(server, "3600")).body.token as string;
      await server.server.res.db.updateTable("bearer_tokens").set({ expires_at: "2020-01-01T00:00:00Z" }).where("kind", "=", "bearer").execute();
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer(expiring)), 401, "invalid_token");
    });

    test("V2 chat refusals, each in OpenAI's envelope naming the field", async () => {
      const key = (await v2Raw(server, "iam", "CreateApiKey", {})).body.result.apiKey as string;
      const auth = bearer(key);
      assertOpenAiError(await chat(server, { model: "down", messages: hello }), 401, "invalid_api_key");
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer("bce-v3/ALTAK-aaaaaaaaaaaaaaaaaaaa/" + "0".repeat(40))), 401, "invalid_api_key");
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, bearer("sk-not-ours")), 401, "invalid_api_key");
      const cases: Array<[unknown, string]> = [
        [{ model: "down" }, "messages"],
        [{ model: "down", messages: [] }, "messages"],
        [{ messages: hello }, "model"],
        [{ model: "down", messages: [{ role: "tool", content: "x" }] }, "messages[0].role"],
        [{ model: "down", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x/y.png" } }] }] }, "messages[0].content[0].type"],
        [{ model: "down", messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
        [{ model: "down", messages: hello, n: 2 }, "n"],
        [{ model: "down", messages: hello, tools: [{ type: "function", function: { name: "f" } }] }, "tools"],
        [{ model: "down", messages: hello, response_format: { type: "json_object" } }, "response_format"],
        [{ model: "down", messages: hello, frequency_penalty: 0.5 }, "frequency_penalty"],
        [{ model: "down", messages: hello, temperature: 3 }, "temperature"],
        [{ model: "down", messages: hello, max_completion_tokens: 10_000_000 }, "max_completion_tokens"],
        [{ model: "down", messages: hello, stop: 7 }, "stop"],
      ];
      for (const [body, param] of cases) assertOpenAiError(await chat(server, body, auth), 400, "invalid_argument", param);
      assertOpenAiError(await chat(server, "{not json", auth), 400, "invalid_argument");
      // Extras the SDKs send are ignored: the call gets as far as the service.
      assertOpenAiError(await chat(server, { model: "down", messages: hello, extra_parameters: { request_source: "x" }, appid: "", user: "u" }, { ...auth, appid: "app-1", "x-stainless-lang": "js" }), 503, "service_unavailable");
      // A signed key whose policies do not grant service:invoke.
      const reader = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanDataReadAccessPolicy"] });
      const denied = await rawCall(server.url, { path: "/v2/chat/completions", body: JSON.stringify({ model: "down", messages: hello }), credentials: reader });
      assertOpenAiError(denied, 403, "access_denied");
    });

    test("the console session calls V2 chat (the playground): cookie and CSRF header, as every console call", async () => {
      const signIn = await fetch(`${server.url}/sailfin/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) });
      assert.equal(signIn.status, 200);
      const cookie = /^sailfin_session=([^;]*)/.exec(signIn.headers.get("set-cookie") ?? "")![1]!;
      const csrf = ((await signIn.json()) as any).csrfToken as string;
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, { cookie: `sailfin_session=${cookie}`, "x-sailfin-csrf": csrf }), 503, "service_unavailable");
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, { cookie: `sailfin_session=${cookie}` }), 403, "access_denied");
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, { cookie: `sailfin_session=${cookie}`, "x-sailfin-csrf": csrf, origin: "http://evil.example" }), 403, "access_denied");
      assertOpenAiError(await chat(server, { model: "down", messages: hello }, { cookie: "sailfin_session=nonsense", "x-sailfin-csrf": csrf }), 401, "invalid_api_key");
    });

    test("the OpenAI Node SDK reads the refusals as its own error classes", async () => {
      const key = (await v2Raw(server, "iam", "CreateApiKey", {})).body.result.apiKey as string;
      const client = new OpenAI({ baseURL: `${server.url}/v2`, apiKey: key, maxRetries: 0 });
      await assert.rejects(client.chat.completions.create({ model: "nosuch", messages: [{ role: "user", content: "hi" }] }), (error: any) => {
        assert.ok(error instanceof OpenAI.NotFoundError, String(error));
        assert.equal(error.code, "model_not_found");
        assert.equal(error.param, "model");
        return true;
      });
      await assert.rejects(client.chat.completions.create({ model: "down", messages: [{ role: "user", content: "hi" }], n: 2 }), (error: any) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.equal(error.param, "n");
        return true;
      });
      const stranger = new OpenAI({ baseURL: `${server.url}/v2`, apiKey: "sk-unknown", maxRetries: 0 });
      await assert.rejects(stranger.chat.completions.create({ model: "down", messages: [{ role: "user", content: "hi" }], stream: true }), OpenAI.AuthenticationError);
    });

    test("V1 chat refusals: HTTP 200 with Qianfan's error_code", async () => {
      const v1 = (endpoint: string, body: unknown, credentials?: { accessKey: string; secretKey: string } | null, query?: Record<string, string>) =>
        rawCall(server.url, { path: `/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/${endpoint}`, body: JSON.stringify(body), ...(credentials === undefined ? {} : { credentials }), ...(query === undefined ? {} : { query }) });
      const expect = (r: { status: number; body: any; text: string }, code: number, msg?: RegExp) => {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.error_code, code, r.text);
        if (msg !== undefined) assert.match(r.body.error_msg, msg);
      };
      expect(await v1("nosuch", { messages: hello }), 3, /^Unsupported openapi method$/);
      expect(await v1("down", { messages: hello }), 336100);
      expect(await v1("down", { messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }] }), 336003, /odd/);
      expect(await v1("down", { messages: [{ role: "assistant", content: "a" }] }), 336003, /alternate/);
      expect(await v1("down", { messages: hello, functions: [{ name: "f" }] }), 336003, /functions/);
      expect(await v1("down", { messages: hello }, null, { access_token: "24.nonsense" }), 110);
      const unknownType = await rawCall(server.url, { path: "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/down", body: "{}" });
      expect(unknownType, 3);
    });
  });
}
