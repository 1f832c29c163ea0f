import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACTIONS, grantedActions, isMutatingAction } from "@sailfin/contract";
import { enqueueRun } from "@sailfin/engine";
import { SailfinApiError, SailfinClient, type FetchInit, type FetchLike } from "@sailfin/sdk";
import { ADMIN, rawCall, readRawResponse, startTestServer, testDialects, type RawResponse, type TestServer } from "./harness.js";

/**
 * The web console's session (docs/api.md "Console sessions") over both dialects: sign-in and its
 * cookie, the cookie as a credential on V2, V1, uploads and live events, CSRF and Origin checks
 * on mutating requests, policies applied as for signed calls, the ways a session ends (sign-out,
 * expiry, key deletion), the SDK's session mode end to end, the sign-in failure limit; and the
 * static serving of a (fake) built console under /console/.
 */

const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/console/assets/index-3f9a1c.js"></script></head><body><div id="root"></div></body></html>\n';
const ASSET_JS = 'document.getElementById("root").textContent = "sailfin";\n';

type Answer = RawResponse;
const answer = readRawResponse;

interface CookieCall {
  readonly method?: string;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly cookie?: string;
  readonly csrf?: string;
  readonly headers?: Record<string, string>;
}

/** A browser-like request: the cookie and (optionally) the CSRF header, never a signature. */
async function call(server: TestServer, path: string, options: CookieCall = {}): Promise<Answer> {
  const url = new URL(server.url + path);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.cookie !== undefined) headers.cookie = `sailfin_session=${options.cookie}`;
  if (options.csrf !== undefined) headers["x-sailfin-csrf"] = options.csrf;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
  return answer(await fetch(url, { method: options.method ?? "POST", headers, ...(body === undefined ? {} : { body }) }));
}

const v2 = (server: TestServer, resource: string, action: string, body: unknown, options: CookieCall = {}) =>
  call(server, `/v2/${resource}`, { ...options, query: { Action: action }, body });

interface SignedIn {
  readonly answer: Answer;
  readonly setCookie: string;
  readonly cookie: string;
  readonly csrf: string;
}

async function signIn(server: TestServer, pair: { accessKey: string; secretKey: string }, headers: Record<string, string> = {}): Promise<SignedIn> {
  const response = await call(server, "/sailfin/v1/session", { body: pair, headers });
  const setCookie = response.headers.get("set-cookie") ?? "";
  return { answer: response, setCookie, cookie: /^sailfin_session=([^;]*)/.exec(setCookie)?.[1] ?? "", csrf: response.body?.csrfToken ?? "" };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

for (const dialect of testDialects()) {
  describe(`console sessions (${dialect})`, () => {
    let server: TestServer;
    let dist: string;
    /** Wrong pairs sent from this (one) IP so far: the limit test counts on from here. */
    let failures = 0;
    let admin: SignedIn;

    before(async () => {
      dist = await mkdtemp(join(tmpdir(), "sailfin-console-dist-"));
      await mkdir(join(dist, "assets"));
      await writeFile(join(dist, "index.html"), INDEX_HTML);
      await writeFile(join(dist, "assets", "index-3f9a1c.js"), ASSET_JS);
      await writeFile(join(dist, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
      server = await startTestServer(dialect, { SAILFIN_CONSOLE_DIR: dist });
      admin = await signIn(server, ADMIN);
    });
    after(async () => {
      await server?.close();
      await rm(dist, { recursive: true, force: true });
    });

    test("sign-in answers the session and sets an HttpOnly, SameSite=Strict cookie; the secret is kept nowhere", async () => {
      assert.equal(admin.answer.status, 200, admin.answer.text);
      assert.match(admin.setCookie, /^sailfin_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
      const body = admin.answer.body;
      assert.deepEqual(Object.keys(body).sort(), ["accessKey", "actions", "csrfToken", "expiresAt", "policies"]);
      assert.equal(body.accessKey, ADMIN.accessKey);
      assert.deepEqual(body.policies, ["QianfanFullControlAccessPolicy"]);
      assert.deepEqual(body.actions, [...ACTIONS]);
      assert.match(body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(body.csrfToken, admin.cookie);
      const ttl = Date.parse(body.expiresAt) - Date.now();
      assert.ok(ttl > 12 * 3600_000 - 60_000 && ttl <= 12 * 3600_000, `expiresAt ${body.expiresAt}`);
      assert.equal(admin.answer.headers.get("cache-control"), "no-store");
      assert.ok(!admin.answer.text.includes(ADMIN.secretKey));

      // Only the token's hash is stored, and no secret.
      const rows = await server.server.res.db.selectFrom("console_sessions").selectAll().where("access_key", "=", ADMIN.accessKey).execute();
      const row = rows.find((r) => r.token_hash === sha256(admin.cookie));
      assert.ok(row, "a row under the token's sha256");
      assert.ok(!rows.some((r) => r.token_hash === admin.cookie));
      assert.ok(!JSON.stringify(rows).includes(ADMIN.secretKey));
      assert.equal(row.csrf_token, body.csrfToken);

      // Over https (as a TLS proxy reports it) the cookie is Secure too.
      const secure = await signIn(server, ADMIN, { "x-forwarded-proto": "https" });
      assert.match(secure.setCookie, /; Secure$/);
    });

    test("GET /session reads the session afresh; 401 NotSignedIn without one", async () => {
      const read = await call(server, "/sailfin/v1/session", { method: "GET", cookie: admin.cookie });
      assert.equal(read.status, 200, read.text);
      assert.deepEqual(read.body, admin.answer.body);
      const none = await call(server, "/sailfin/v1/session", { method: "GET" });
      assert.equal(none.status, 401);
      assert.equal(none.body.code, "NotSignedIn");
      const unknown = await call(server, "/sailfin/v1/session", { method: "GET", cookie: "not-a-session" });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.code, "NotSignedIn");
    });

    test("the cookie authenticates V2, V1 and object routes; without the CSRF header a POST is refused", async () => {
      const read = await v2(server, "dataset", "DescribeDatasets", {}, { cookie: admin.cookie, csrf: admin.csrf });
      assert.equal(read.status, 200, read.text);
      assert.ok(Array.isArray(read.body.result.datasets));
      const v1 = await call(server, "/wenxinworkshop/modelrepo/model/preset/list", { body: {}, cookie: admin.cookie, csrf: admin.csrf });
      assert.equal(v1.status, 200, v1.text);
      assert.equal(v1.body.error_code, undefined, v1.text);

      for (const csrf of [undefined, "", "x".repeat(43), admin.csrf.slice(0, -1)]) {
        const refused = await v2(server, "dataset", "CreateDataset", { datasetName: "csrf_probe", dataFormat: "Messages", storageType: "sysStorage" },
          { cookie: admin.cookie, ...(csrf === undefined ? {} : { csrf }) });
        assert.equal(refused.status, 403, `csrf ${csrf}: ${refused.text}`);
        assert.equal(refused.body.code, "InvalidCSRFToken");
      }
      // V1 routes refuse it before the route too, with the HTTP status (as a bad signature).
      const v1Refused = await call(server, "/wenxinworkshop/dataset/create", { body: {}, cookie: admin.cookie });
      assert.equal(v1Refused.status, 403, v1Refused.text);
      assert.equal(v1Refused.body.code, "InvalidCSRFToken");
      assert.equal(v1Refused.body.error_code, 500002);
      const none = await v2(server, "dataset", "DescribeDatasets", {}, {});
      assert.equal(none.status, 400, "no cookie and no signature: the signature check reports the missing header");
      assert.equal(none.body.code, "InvalidHTTPAuthHeader");

      const created = await v2(server, "dataset", "CreateDataset", { datasetName: "console_made", dataFormat: "Messages", storageType: "sysStorage" },
        { cookie: admin.cookie, csrf: admin.csrf });
      assert.equal(created.status, 200, created.text);
      assert.match(created.body.result.datasetId, /^ds-/);

      const put = (csrf?: string) => call(server, "/sailfin/v1/objects/console/a/b.jsonl", {
        method: "PUT", rawBody: "{}\n", headers: { "content-type": "application/octet-stream" }, cookie: admin.cookie, ...(csrf === undefined ? {} : { csrf }),
      });
      const putRefused = await put();
      assert.equal(putRefused.status, 403);
      assert.equal(putRefused.body.code, "InvalidCSRFToken");
      const uploaded = await put(admin.csrf);
      assert.equal(uploaded.status, 200, uploaded.text);
      assert.equal(uploaded.body.result.uri, "bos:/console/a/b.jsonl");
      // A GET needs no CSRF header.
      const download = await call(server, "/sailfin/v1/objects/console/a/b.jsonl", { method: "GET", cookie: admin.cookie });
      assert.equal(download.status, 200);
      assert.equal(download.text, "{}\n");
    });

    test("a mutating request from a foreign Origin is refused; the server's own origin passes", async () => {
      const body = { datasetName: "origin_probe", dataFormat: "Messages", storageType: "sysStorage" };
      for (const origin of ["http://evil.example", "null", `http://127.0.0.1:1`]) {
        const refused = await v2(server, "dataset", "CreateDataset", body, { cookie: admin.cookie, csrf: admin.csrf, headers: { origin } });
        assert.equal(refused.status, 403, `${origin}: ${refused.text}`);
        assert.equal(refused.body.code, "InvalidCSRFToken");
      }
      // X-Forwarded-Host names this server only when SAILFIN_TRUST_PROXY trusts the sender (it is off here).
      const forged = await v2(server, "dataset", "CreateDataset", body, {
        cookie: admin.cookie, csrf: admin.csrf, headers: { origin: "http://evil.example", "x-forwarded-host": "evil.example" },
      });
      assert.equal(forged.status, 403, forged.text);
      assert.equal(forged.body.code, "InvalidCSRFToken");
      const own = await v2(server, "dataset", "CreateDataset", body, { cookie: admin.cookie, csrf: admin.csrf, headers: { origin: server.url } });
      assert.equal(own.status, 200, own.text);
      // Sign-in from a foreign page (signing the browser in as someone else's key) is refused too.
      const foreign = await signIn(server, ADMIN, { origin: "http://evil.example" });
      assert.equal(foreign.answer.status, 403);
      assert.equal(foreign.answer.body.code, "InvalidCSRFToken");
      assert.equal(foreign.setCookie, "");
    });

    test("a request with an Authorization header is verified as a signature, whatever cookie it carries", async () => {
      const r = await rawCall(server.url, {
        path: "/v2/dataset", query: { Action: "DescribeDatasets" }, body: "{}",
        credentials: { accessKey: ADMIN.accessKey, secretKey: "not-the-secret" },
        headers: { cookie: `sailfin_session=${admin.cookie}`, "x-sailfin-csrf": admin.csrf },
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, "SignatureDoesNotMatch");
    });

    test("a read-only key's session lists no write action and is refused every mutation with AccessDenied", async () => {
      const reader = (await server.clientWith("QianfanReadAccessPolicy")).config;
      const session = await signIn(server, reader);
      assert.equal(session.answer.status, 200, session.answer.text);
      const actions: string[] = session.answer.body.actions;
      assert.deepEqual(actions, grantedActions(["QianfanReadAccessPolicy"]));
      assert.ok(actions.length > 0 && actions.every((a) => a.endsWith(":read")), actions.join());
      assert.ok(!ACTIONS.filter(isMutatingAction).some((a) => actions.includes(a)));

      const auth = { cookie: session.cookie, csrf: session.csrf };
      assert.equal((await v2(server, "dataset", "DescribeDatasets", {}, auth)).status, 200);
      const denied = await v2(server, "dataset", "CreateDataset", { datasetName: "ro", dataFormat: "Messages", storageType: "sysStorage" }, auth);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, "AccessDenied");
      const deniedV1 = await call(server, "/wenxinworkshop/finetune/createTask", { body: {}, ...auth });
      assert.equal(deniedV1.body.error_code, 500002, deniedV1.text);
      const deniedKeys = await v2(server, "iam", "CreateAccessKey", { policies: ["QianfanFullControlAccessPolicy"] }, auth);
      assert.equal(deniedKeys.body.code, "AccessDenied");
      const deniedPut = await call(server, "/sailfin/v1/objects/console/ro.txt", { method: "PUT", rawBody: "x", headers: { "content-type": "text/plain" }, ...auth });
      assert.equal(deniedPut.status, 403);
      assert.equal(deniedPut.body.code, "AccessDenied");
    });

    test("sign-out needs the CSRF token, ends the session and clears the cookie", async () => {
      const session = await signIn(server, ADMIN);
      const forged = await call(server, "/sailfin/v1/session", { method: "DELETE", cookie: session.cookie });
      assert.equal(forged.status, 403);
      assert.equal(forged.body.code, "InvalidCSRFToken");
      assert.equal((await call(server, "/sailfin/v1/session", { method: "GET", cookie: session.cookie })).status, 200, "still signed in");

      const out = await call(server, "/sailfin/v1/session", { method: "DELETE", cookie: session.cookie, csrf: session.csrf });
      assert.equal(out.status, 204);
      assert.match(out.headers.get("set-cookie") ?? "", /^sailfin_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0$/);
      assert.equal((await call(server, "/sailfin/v1/session", { method: "GET", cookie: session.cookie })).status, 401);
      const after = await v2(server, "dataset", "DescribeDatasets", {}, { cookie: session.cookie, csrf: session.csrf });
      assert.equal(after.status, 401);
      assert.equal(after.body.code, "NotSignedIn");
      // Signing out twice (or with no session) is not an error.
      assert.equal((await call(server, "/sailfin/v1/session", { method: "DELETE", cookie: session.cookie })).status, 204);
      assert.equal((await call(server, "/sailfin/v1/session", { method: "DELETE" })).status, 204);
    });

    test("an expired session is refused and its row removed", async () => {
      const session = await signIn(server, ADMIN);
      const hash = sha256(session.cookie);
      await server.server.res.db.updateTable("console_sessions").set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where("token_hash", "=", hash).execute();
      const refused = await v2(server, "dataset", "DescribeDatasets", {}, { cookie: session.cookie, csrf: session.csrf });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.code, "NotSignedIn");
      const row = await server.server.res.db.selectFrom("console_sessions").select("token_hash").where("token_hash", "=", hash).executeTakeFirst();
      assert.equal(row, undefined);
    });

    test("deleting the access key ends its sessions", async () => {
      const tuner = (await server.clientWith("QianfanModelTuningFullControlAccessPolicy")).config;
      const session = await signIn(server, tuner);
      const auth = { cookie: session.cookie, csrf: session.csrf };
      assert.equal((await v2(server, "finetuning", "DescribeFineTuningJobs", {}, auth)).status, 200);
      await server.admin.v2("iam", "DeleteAccessKey", { accessKey: tuner.accessKey });
      const refused = await v2(server, "finetuning", "DescribeFineTuningJobs", {}, auth);
      assert.equal(refused.status, 401, refused.text);
      assert.equal(refused.body.code, "NotSignedIn");
      assert.equal((await call(server, "/sailfin/v1/session", { method: "GET", cookie: session.cookie })).status, 401);
    });

    test("live events (SSE) accept the cookie", async () => {
      const id = `task-console${dialect}`;
      await enqueueRun(server.server.res.db, ADMIN, { id, kind: "finetune", trainMode: "SFT", parameterScale: "LoRA", spec: {} });
      const abort = new AbortController();
      const response = await fetch(`${server.url}/sailfin/v1/events/${id}`, {
        headers: { cookie: `sailfin_session=${admin.cookie}`, accept: "text/event-stream" }, signal: abort.signal,
      });
      try {
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
        const reader = response.body!.getReader();
        let text = "";
        while (!text.includes("event: state")) {
          const { value, done } = await reader.read();
          assert.ok(!done, `the stream ended early: ${text}`);
          text += new TextDecoder().decode(value);
        }
        assert.match(text, /"to":"Queued"/);
      } finally {
        abort.abort();
      }
      const unknown = await call(server, `/sailfin/v1/events/${id}`, { method: "GET", cookie: "not-a-session" });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.code, "NotSignedIn");
    });

    test("the SDK's session mode, end to end in Node: sign in, read, create with CSRF, sign out", async () => {
      const seen: Array<{ url: string; init: FetchInit }> = [];
      const spy: FetchLike = (url, init) => {
        seen.push({ url, init });
        return globalThis.fetch(url, init as RequestInit);
      };
      const { client, session } = await SailfinClient.signIn({ baseUrl: server.url, accessKey: ADMIN.accessKey, secretKey: ADMIN.secretKey, fetch: spy });
      assert.equal(session.accessKey, ADMIN.accessKey);
      assert.deepEqual(session.actions, [...ACTIONS]);
      assert.ok(!JSON.stringify(seen.slice(1)).includes(ADMIN.secretKey));

      const first = await client.datasets.list().firstPage();
      assert.ok(first.datasets.length >= 1);
      const created = await client.datasets.create({ datasetName: "sdk_session", dataFormat: "Messages", storageType: "sysStorage" });
      assert.match(created.datasetId, /^ds-/);
      const uploaded = await client.datasets.upload({ bucket: "console", path: "sdk/x.jsonl", body: "{}\n" });
      assert.equal(uploaded.uri, "bos:/console/sdk/x.jsonl");
      assert.deepEqual(await client.currentSession(), session);
      const cookie = /sailfin_session=([^;]+)/.exec(seen.at(-1)!.init.headers.cookie ?? "")?.[1];
      assert.ok(cookie);
      assert.deepEqual(await SailfinClient.currentSession({ baseUrl: server.url, cookie }), session);

      for (const { init } of seen.slice(1)) {
        assert.equal(init.headers.authorization, undefined, "session mode never signs");
        assert.equal(init.credentials, "same-origin");
        assert.equal(init.headers["x-sailfin-csrf"], init.method === "GET" ? undefined : session.csrfToken);
      }
      assert.ok(seen.some(({ init }) => init.method === "PUT") && seen.some(({ init }) => init.method === "GET"));

      await client.signOut();
      await assert.rejects(client.datasets.list().firstPage(), (error: unknown) => {
        assert.ok(error instanceof SailfinApiError);
        assert.equal(error.code, "NotSignedIn");
        assert.equal(error.httpStatus, 401);
        return true;
      });
      await assert.rejects(SailfinClient.currentSession({ baseUrl: server.url, cookie }), /NotSignedIn|session/);
      // A key-mode client has no session to read or end.
      assert.throws(() => new SailfinClient({ baseUrl: server.url, ...ADMIN }).signOut(), /needs a session client/);
    });

    test("the SDK reports a wrong pair as AccessDenied, without naming the wrong half, and does not retry it", async () => {
      let calls = 0;
      const counting: FetchLike = (url, init) => {
        calls++;
        return globalThis.fetch(url, init as RequestInit);
      };
      const messages: string[] = [];
      for (const pair of [{ accessKey: ADMIN.accessKey, secretKey: "wrong" }, { accessKey: "nosuchkey00001", secretKey: ADMIN.secretKey }]) {
        await assert.rejects(SailfinClient.signIn({ baseUrl: server.url, ...pair, fetch: counting }), (error: unknown) => {
          assert.ok(error instanceof SailfinApiError);
          assert.equal(error.code, "AccessDenied");
          assert.equal(error.httpStatus, 403);
          assert.equal(error.attempts, 1);
          messages.push(error.message);
          return true;
        });
        failures++;
      }
      assert.equal(calls, 2);
      assert.equal(messages[0], messages[1], "the same answer whichever half was wrong");
    });

    test("the console is served: index, SPA fallback, hashed assets cached for good, a strict CSP", async () => {
      const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers, redirect: "manual" });
      const bare = await get("/console");
      assert.equal(bare.status, 301);
      assert.equal(bare.headers.get("location"), "/console/");

      const index = await get("/console/");
      assert.equal(index.status, 200);
      assert.equal(await index.text(), INDEX_HTML);
      assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
      assert.equal(index.headers.get("cache-control"), "no-cache");
      const csp = index.headers.get("content-security-policy") ?? "";
      assert.match(csp, /^default-src 'self'; script-src 'self'; style-src 'self';/);
      assert.ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), csp);
      assert.equal(index.headers.get("x-content-type-options"), "nosniff");
      const etag = index.headers.get("etag");
      assert.ok(etag);
      assert.equal((await get("/console/", { "if-none-match": etag })).status, 304);

      for (const deep of ["/console/tasks/task-abc123", "/console/datasets", "/console/tasks/task-abc123/?tab=metrics"]) {
        const page = await get(deep);
        assert.equal(page.status, 200, deep);
        assert.equal(await page.text(), INDEX_HTML, `${deep} falls back to index.html`);
        assert.equal(page.headers.get("cache-control"), "no-cache");
      }

      const asset = await get("/console/assets/index-3f9a1c.js");
      assert.equal(asset.status, 200);
      assert.equal(await asset.text(), ASSET_JS);
      assert.match(asset.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
      const icon = await get("/console/favicon.svg");
      assert.equal(icon.headers.get("content-type"), "image/svg+xml");
      assert.equal(icon.headers.get("cache-control"), "no-cache");

      // A missing file is a 404, never index.html served as a script; nothing outside the folder is reachable.
      for (const missing of ["/console/assets/index-000000.js", "/console/app.css", "/console/..%2F..%2Fpackage.json", "/console/%2e%2e%2fsailfin.db"]) {
        const r = await get(missing);
        assert.equal(r.status, 404, missing);
        assert.ok(!(await r.text()).includes("<html"), missing);
      }
    });

    test("without a built console, /console/ answers 404 with how to build it", async () => {
      const away = `${dist}-away`;
      await rename(dist, away);
      try {
        const r = await fetch(`${server.url}/console/tasks/task-abc123`);
        assert.equal(r.status, 404);
        assert.equal(await r.text(), "the console is not built: run npm run build\n");
      } finally {
        await rename(away, dist);
      }
      assert.equal((await fetch(`${server.url}/console/`)).status, 200, "found again without a restart");
    });

    // Last: from here on this IP is limited for a minute.
    test("wrong pairs are 403 AccessDenied; after 10 in a minute sign-in answers 429, even to the right pair", async () => {
      const wrong = { accessKey: ADMIN.accessKey, secretKey: "guess" };
      for (; failures < 10; failures++) {
        const r = await signIn(server, wrong);
        assert.equal(r.answer.status, 403, `failure ${failures + 1}: ${r.answer.text}`);
        assert.equal(r.answer.body.code, "AccessDenied");
        assert.equal(r.setCookie, "");
      }
      for (const pair of [wrong, ADMIN]) {
        const r = await signIn(server, pair);
        assert.equal(r.answer.status, 429, r.answer.text);
        assert.equal(r.answer.body.code, "TooManyRequests");
        const retryAfter = Number(r.answer.headers.get("retry-after"));
        assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
        assert.equal(r.setCookie, "");
      }
      // Sessions already open are not affected.
      assert.equal((await call(server, "/sailfin/v1/session", { method: "GET", cookie: admin.cookie })).status, 200);
    });
  });
}

test("behind a trusted proxy (SAILFIN_TRUST_PROXY) sign-in failures count per forwarded client, not for everyone behind the proxy", async () => {
  const dialect = testDialects().includes("sqlite") ? "sqlite" : testDialects()[0]!;
  const server = await startTestServer(dialect, { SAILFIN_TRUST_PROXY: "127.0.0.1" });
  try {
    const guesser = { "x-forwarded-for": "203.0.113.7" };
    for (let i = 0; i < 10; i++) {
      const r = await signIn(server, { accessKey: `nosuchkey${i}`, secretKey: "guess" }, guesser);
      assert.equal(r.answer.status, 403, r.answer.text);
    }
    assert.equal((await signIn(server, ADMIN, guesser)).answer.status, 429, "the guesser's address is limited");
    const colleague = await signIn(server, ADMIN, { "x-forwarded-for": "203.0.113.8" });
    assert.equal(colleague.answer.status, 200, `another client behind the same proxy signs in: ${colleague.answer.text}`);
  } finally {
    await server.close();
  }
});

test("another address cannot lock the owner out: failures naming a key hold back the addresses that failed, not the key", async () => {
  const dialect = testDialects().includes("sqlite") ? "sqlite" : testDialects()[0]!;
  const server = await startTestServer(dialect, { SAILFIN_TRUST_PROXY: "127.0.0.1" });
  try {
    const from = (address: string) => ({ "x-forwarded-for": address });
    const wrong = { accessKey: ADMIN.accessKey, secretKey: "guess" };
    for (let i = 0; i < 10; i++) assert.equal((await signIn(server, wrong, from("203.0.113.7"))).answer.status, 403);
    // The attacker's address is limited, even with the right pair...
    assert.equal((await signIn(server, ADMIN, from("203.0.113.7"))).answer.status, 429);
    // ...but the owner, from another address, signs in.
    const owner = await signIn(server, ADMIN, from("198.51.100.1"));
    assert.equal(owner.answer.status, 200, owner.answer.text);

    // Past 100 failures a minute on the key (many addresses), an address that failed on it waits...
    for (let i = 0; i < 90; i++) assert.equal((await signIn(server, wrong, from(`192.0.2.${i}`))).answer.status, 403, `guess ${i}`);
    const again = await signIn(server, wrong, from("192.0.2.1"));
    assert.equal(again.answer.status, 429, again.answer.text);
    assert.ok(Number(again.answer.headers.get("retry-after")) >= 1);
    // ...while one that has not is still checked: wrong is 403, right signs in.
    assert.equal((await signIn(server, wrong, from("192.0.2.200"))).answer.status, 403);
    assert.equal((await signIn(server, ADMIN, from("198.51.100.2"))).answer.status, 200);
  } finally {
    await server.close();
  }
});
