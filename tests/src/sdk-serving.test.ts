import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SailfinApiError, SailfinClient, type FetchInit, type FetchLike, type FetchResponse } from "@sailfin/sdk";

/**
 * The SDK's serving clients on the wire, with an injected fetch that answers as the server's
 * routes do (interfaces §5–§6, reference §14–§15): the `services` namespace's actions and
 * bodies, `chat` streaming (SSE framing split at any byte, keep-alives, the usage chunk, errors
 * inside a stream), the bearer token of key clients (fetched signed, cached until near expiry,
 * shared by concurrent calls, replaced once on a 401), and session clients (cookie + CSRF, no
 * token). The real server's answers are checked in services-clients.test.ts.
 */

const KEYS = { accessKey: "ak-test", secretKey: "sk-test" } as const;
const BASE = "http://127.0.0.1:9";

interface Call { readonly url: URL; readonly init: FetchInit }

function response(status: number, body: string | Uint8Array[], headers: Record<string, string> = {}): FetchResponse {
  const chunks = typeof body === "string" ? [new TextEncoder().encode(body)] : body;
  const text = () => new TextDecoder().decode(Buffer.concat(chunks));
  return {
    status,
    headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
    text: async () => text(),
    arrayBuffer: async () => new TextEncoder().encode(text()).buffer,
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    }),
  };
}

/** A fetch answering by path; records every call. */
function stub(answer: (call: Call, calls: readonly Call[]) => FetchResponse): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url: new URL(url, "http://page.invalid"), init };
      calls.push(call);
      return answer(call, calls);
    },
  };
}

const tokenAnswer = (token: string, expiresInMs: number) => response(200, JSON.stringify({
  userId: "u", token, status: "enable", createTime: new Date().toISOString(), expireTime: new Date(Date.now() + expiresInMs).toISOString(),
}));

const SSE = [
  'data: {"id":"as-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}',
  "",
  ": keep-alive",
  "",
  'data: {"id":"as-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo, 世界"},"finish_reason":null}]}',
  "",
  'data: {"id":"as-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}',
  "",
  'data: {"id":"as-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}',
  "",
  "data: [DONE]",
  "",
  "",
].join("\n");

/** `text` cut into pieces of `size` bytes (a multi-byte character split across reads). */
function pieces(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

const MESSAGES = [{ role: "user", content: "Hi" }] as const;

describe("sdk services namespace", () => {
  test("each method sends its V2 action and body, and the list walks marker pages", async () => {
    const detail = (id: string) => ({ serviceId: id, name: id, runStatus: "Serving", endpoint: id, url: `${BASE}/x/${id}` });
    const { fetch, calls } = stub(({ url, init }) => {
      const action = url.searchParams.get("Action");
      const body = JSON.parse(String(init.body)) as Record<string, unknown>;
      const result = action === "CreateService" ? { serviceId: "svco-a", instanceId: "0".repeat(32) }
        : action === "DescribeService" ? detail(String(body.serviceId))
        : action === "DescribeServices" ? (body.marker === undefined
          ? { serviceList: [detail("svco-a")], pageInfo: { marker: "", maxKeys: 1, isTruncated: true, nextMarker: "svco-b" } }
          : { serviceList: [detail("svco-b")], pageInfo: { marker: "svco-b", maxKeys: 1, isTruncated: false } })
        : true;
      return response(200, JSON.stringify({ requestId: "r", result }));
    });
    const client = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch });
    assert.deepEqual(await client.services.create({ modelId: "amv-x", name: "demo", urlSuffix: "demo" }), { serviceId: "svco-a", instanceId: "0".repeat(32) });
    assert.equal((await client.services.describe({ serviceId: "svco-a" })).runStatus, "Serving");
    assert.deepEqual((await client.services.list({ maxKeys: 1, runStatus: ["Serving"] }).toArray()).map((s) => s.serviceId), ["svco-a", "svco-b"]);
    await client.services.modify({ serviceId: "svco-a", modelSetId: "am-x", modelId: "amv-y" });
    await client.services.stop({ serviceId: "svco-a" });
    await client.services.start({ serviceId: "svco-a" });
    await client.services.delete({ serviceId: "svco-a" });
    assert.deepEqual(calls.map((c) => `${c.url.pathname}?${c.url.searchParams.get("Action")}`), [
      "/v2/service?CreateService", "/v2/service?DescribeService", "/v2/service?DescribeServices", "/v2/service?DescribeServices",
      "/v2/service?ModifyService", "/v2/service?StopService", "/v2/service?StartService", "/v2/service?DeleteService",
    ]);
    assert.deepEqual(JSON.parse(String(calls[0]!.init.body)), { modelId: "amv-x", name: "demo", urlSuffix: "demo" });
    assert.deepEqual(JSON.parse(String(calls[2]!.init.body)), { maxKeys: 1, runStatus: ["Serving"] });
    assert.ok(calls.every((c) => c.init.headers.authorization?.startsWith("bce-auth-v1/ak-test/")), "every console call is signed");
  });
});

describe("sdk chat", () => {
  for (const size of [1, 7, 4096]) {
    test(`a stream read ${size} bytes at a time yields the deltas, then finish reason and usage`, async () => {
      const { fetch, calls } = stub(({ url }) => url.pathname === "/v1/BCE-BEARER/token" ? tokenAnswer("bce-v3/ALTAK-x/1", 3_600_000) : response(200, pieces(SSE, size), { "content-type": "text/event-stream" }));
      const client = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch });
      const events = [];
      for await (const event of client.chat.stream({ model: "demo", messages: MESSAGES, max_completion_tokens: 4 })) events.push(event);
      assert.deepEqual(events, [
        { type: "delta", content: "Hel" }, { type: "delta", content: "lo, 世界" },
        { type: "done", id: "as-1", finishReason: "length", usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } },
      ]);
      const chatCall = calls[1]!;
      assert.equal(chatCall.url.pathname, "/v2/chat/completions");
      assert.equal(chatCall.init.headers.authorization, "Bearer bce-v3/ALTAK-x/1", "the inference route gets the bearer token, not a signature");
      assert.deepEqual(JSON.parse(String(chatCall.init.body)), {
        model: "demo", messages: MESSAGES, max_completion_tokens: 4, stream: true, stream_options: { include_usage: true },
      });
    });
  }

  test("a key client fetches one signed token, shares it, and refreshes it near its expiry", async () => {
    let issued = 0;
    let lifetimeMs = 3_600_000;
    const answer = JSON.stringify({ id: "as-2", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    const { fetch, calls } = stub(({ url }) => url.pathname === "/v1/BCE-BEARER/token" ? tokenAnswer(`bce-v3/ALTAK-x/${++issued}`, lifetimeMs) : response(200, answer));
    const client = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch });
    const answers = await Promise.all([1, 2, 3].map(() => client.chat.completions({ model: "demo", messages: MESSAGES })));
    assert.deepEqual(answers.map((a) => a.choices[0]?.message.content), ["ok", "ok", "ok"]);
    await client.chat.completions({ model: "demo", messages: MESSAGES });
    const tokenCalls = calls.filter((c) => c.url.pathname === "/v1/BCE-BEARER/token");
    assert.equal(tokenCalls.length, 1, "four calls, one token");
    assert.equal(tokenCalls[0]!.init.method, "GET");
    assert.equal(tokenCalls[0]!.url.searchParams.get("expireInSeconds"), "3600");
    assert.match(tokenCalls[0]!.init.headers.authorization ?? "", /^bce-auth-v1\/ak-test\//, "the token request is signed");
    assert.equal(JSON.parse(String(calls.at(-1)!.init.body)).stream, false);
    // A token that expires within the minute is replaced before it is used again.
    const second = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch });
    lifetimeMs = 30_000;
    await second.chat.completions({ model: "demo", messages: MESSAGES });
    lifetimeMs = 3_600_000;
    await second.chat.completions({ model: "demo", messages: MESSAGES });
    const chatCalls = calls.filter((c) => c.url.pathname === "/v2/chat/completions");
    assert.deepEqual(chatCalls.slice(-2).map((c) => c.init.headers.authorization), ["Bearer bce-v3/ALTAK-x/2", "Bearer bce-v3/ALTAK-x/3"]);
    assert.equal(issued, 3);
  });

  test("a refused token (401) is replaced once; a second 401 is the caller's error", async () => {
    let issued = 0;
    let refuse = 1;
    const denied = () => response(401, JSON.stringify({ error: { code: "invalid_token", message: "token expired", type: "invalid_request_error" }, id: "as-3" }));
    const ok = response(200, JSON.stringify({ id: "as-4", object: "chat.completion", created: 1, model: "m", choices: [], usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } }));
    const { fetch } = stub(({ url }) => url.pathname === "/v1/BCE-BEARER/token" ? tokenAnswer(`t${++issued}`, 3_600_000) : refuse-- > 0 ? denied() : ok);
    const client = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch });
    assert.equal((await client.chat.completions({ model: "demo", messages: MESSAGES })).id, "as-4");
    assert.equal(issued, 2);
    refuse = 5;
    const error = await client.chat.completions({ model: "demo", messages: MESSAGES }).then(() => null, (e: unknown) => e);
    assert.ok(error instanceof SailfinApiError);
    assert.equal(error.code, "invalid_token");
    assert.equal(error.httpStatus, 401);
    assert.equal(error.requestId, "as-3");
    assert.equal(issued, 3, "one fresh token, then the error");
  });

  test("OpenAI error bodies throw SailfinApiError; an error event inside a stream too", async () => {
    const { fetch } = stub(({ url }) => {
      if (url.pathname === "/v1/BCE-BEARER/token") return tokenAnswer("t", 3_600_000);
      return response(404, JSON.stringify({ error: { code: "model_not_found", message: "no service answers to nope", type: "invalid_request_error", param: "model" } }));
    });
    const client = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch, retries: 0 });
    const notFound = await client.chat.completions({ model: "nope", messages: MESSAGES }).then(() => null, (e: unknown) => e);
    assert.ok(notFound instanceof SailfinApiError);
    assert.equal(notFound.code, "model_not_found");
    assert.equal(notFound.httpStatus, 404);
    assert.match(notFound.message, /nope/);
    const streamed = stub(({ url }) => url.pathname === "/v1/BCE-BEARER/token" ? tokenAnswer("t", 3_600_000)
      : response(200, 'data: {"id":"as-5","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\ndata: {"error":{"code":"engine_unavailable","message":"the engine stopped","type":"server_error"},"id":"as-5"}\n\n'));
    const events: unknown[] = [];
    const failure = await (async () => {
      for await (const event of new SailfinClient({ baseUrl: BASE, ...KEYS, fetch: streamed.fetch }).chat.stream({ model: "m", messages: MESSAGES })) events.push(event);
    })().then(() => null, (e: unknown) => e);
    assert.deepEqual(events, [{ type: "delta", content: "a" }]);
    assert.ok(failure instanceof SailfinApiError);
    assert.equal(failure.code, "engine_unavailable");
  });

  test("a session client sends its cookie and CSRF token and asks for no bearer token", async () => {
    const { fetch, calls } = stub(() => response(200, SSE));
    const client = new SailfinClient({ baseUrl: "", session: { csrfToken: "csrf-1", cookie: "c00kie" }, fetch });
    const text: string[] = [];
    for await (const event of client.chat.stream({ model: "demo", messages: MESSAGES })) if (event.type === "delta") text.push(event.content);
    assert.equal(text.join(""), "Hello, 世界");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.url.pathname, "/v2/chat/completions");
    assert.equal(calls[0]!.init.headers["x-sailfin-csrf"], "csrf-1");
    assert.equal(calls[0]!.init.headers.cookie, "sailfin_session=c00kie");
    assert.equal(calls[0]!.init.headers.authorization, undefined);
    assert.equal(calls[0]!.init.credentials, "same-origin");
  });

  test("leaving a stream early cancels the response body", async () => {
    let cancelled = false;
    const { fetch } = stub(({ url }) => {
      if (url.pathname === "/v1/BCE-BEARER/token") return tokenAnswer("t", 3_600_000);
      const base = response(200, "");
      return {
        ...base,
        body: new ReadableStream<Uint8Array>({
          pull(controller) { controller.enqueue(new TextEncoder().encode('data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n')); },
          cancel() { cancelled = true; },
        }),
      };
    });
    const client = new SailfinClient({ baseUrl: BASE, ...KEYS, fetch });
    let seen = 0;
    for await (const event of client.chat.stream({ model: "m", messages: MESSAGES })) {
      assert.equal(event.type, "delta");
      if (++seen === 3) break;
    }
    assert.ok(cancelled, "the body was cancelled: the server sees the client leave");
  });
});
