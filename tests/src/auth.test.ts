import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  bceTimestamp, canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, hmacHex, signRequest, signingKey,
} from "@sailfin/contract";
import { verifySignature } from "@sailfin/engine";
import { ADMIN, rawCall, readRawResponse, startTestServer, testDialects, type RawResponse, type TestServer } from "./harness.js";

/**
 * A DescribeAccessKeys call signed over `signed` (name → value as the client signs it) at `ts`,
 * sent with the headers `sent`: the loose-signature probes of issue 11.
 */
async function describeKeys(baseUrl: string, signed: Record<string, string>, sent: Record<string, string>, ts: string): Promise<RawResponse> {
  const prefix = `bce-auth-v1/${ADMIN.accessKey}/${ts}/1800`;
  const canonical = canonicalRequest("POST", "/v2/iam", "Action=DescribeAccessKeys", canonicalHeaders(Object.entries(signed)));
  const sig = hmacHex(signingKey(ADMIN.secretKey, prefix), canonical);
  const authorization = `${prefix}/${Object.keys(signed).join(";")}/${sig}`;
  return readRawResponse(await fetch(`${baseUrl}/v2/iam?Action=DescribeAccessKeys`, {
    method: "POST", headers: { "content-type": "application/json", ...sent, authorization }, body: "{}",
  }));
}

/** A request signed over host, x-bce-date and `signed` (digest headers), sending `body`. */
async function signedWithHeaders(
  baseUrl: string,
  options: { method?: string; path: string; query?: Record<string, string>; body?: string | Buffer; signed: Record<string, string> },
): Promise<RawResponse> {
  const method = options.method ?? "POST";
  const url = new URL(baseUrl + options.path);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const ts = bceTimestamp();
  const headers = { host: url.host, "x-bce-date": ts, ...options.signed };
  const authorization = signRequest({ ...ADMIN, method, path: url.pathname, query: options.query ?? {}, headers, timestamp: ts });
  const { host: _host, ...sent } = headers;
  return readRawResponse(await fetch(url, { method, headers: { ...sent, authorization }, ...(options.body === undefined ? {} : { body: options.body }) }));
}

const sha256Hex = (body: string | Buffer) => createHash("sha256").update(body).digest("hex");
const md5Base64 = (body: string | Buffer) => createHash("md5").update(body).digest("base64");

for (const dialect of testDialects()) {
  describe(`authentication (${dialect})`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(dialect); });
    after(async () => { await server.close(); });

    const call = (options: Parameters<typeof rawCall>[1]) => rawCall(server.url, options);
    const iamList = { path: "/v2/iam", query: { Action: "DescribeAccessKeys" }, body: "{}" };

    test("a correctly signed V2 call succeeds with {requestId, result}", async () => {
      const r = await call(iamList);
      assert.equal(r.status, 200);
      assert.match(r.body.requestId, /^[0-9a-f-]{36}$/);
      assert.ok(Array.isArray(r.body.result.accessKeyList));
    });

    test("missing Authorization → InvalidHTTPAuthHeader 400 with BCE error headers", async () => {
      const r = await call({ ...iamList, credentials: null });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, "InvalidHTTPAuthHeader");
      assert.equal(r.headers.get("x-bce-error-code"), "InvalidHTTPAuthHeader");
      assert.ok(r.headers.get("x-bce-error-message"));
    });

    test("unknown access key → InvalidAccessKeyId 403", async () => {
      const r = await call({ ...iamList, credentials: { accessKey: "nosuchkey0000000", secretKey: "x" } });
      assert.equal(r.status, 403);
      assert.equal(r.body.code, "InvalidAccessKeyId");
      // The exact gateway text: the Python SDK keys its "Access Key 错误" hint on it.
      assert.equal(r.headers.get("x-bce-error-message"), "NotFound, cause: Could not find credential.");
    });

    test("wrong secret → SignatureDoesNotMatch 400", async () => {
      const r = await call({ ...iamList, credentials: { accessKey: ADMIN.accessKey, secretKey: "wrong" } });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, "SignatureDoesNotMatch");
      assert.equal(r.headers.get("x-bce-error-message"), "SignatureDoesNotMatch, cause: Fail to authn user: Signature does not match");
    });

    test("tampered query (signature for another Action) → SignatureDoesNotMatch", async () => {
      const ts = bceTimestamp();
      const url = new URL(`${server.url}/v2/iam?Action=DescribeAccessKeys`);
      const prefix = `bce-auth-v1/${ADMIN.accessKey}/${ts}/1800`;
      const canonical = canonicalRequest("POST", "/v2/iam", canonicalQuery("Action=DescribePolicies"),
        canonicalHeaders([["host", url.host], ["x-bce-date", ts]]));
      const sig = hmacHex(signingKey(ADMIN.secretKey, prefix), canonical);
      const r = await fetch(url, { method: "POST", headers: { "x-bce-date": ts, authorization: `${prefix}/host;x-bce-date/${sig}`, "content-type": "application/json" }, body: "{}" });
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as any).code, "SignatureDoesNotMatch");
    });

    test("expired signature → RequestExpired (Python's 300 s window)", async () => {
      const old = bceTimestamp(new Date(Date.now() - 301_000));
      const r = await call({ ...iamList, timestamp: old, expirationSeconds: 300 });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, "RequestExpired");
      const fresh = bceTimestamp(new Date(Date.now() - 200_000));
      assert.equal((await call({ ...iamList, timestamp: fresh, expirationSeconds: 300 })).status, 200);
    });

    test("timestamp far in the future is refused", async () => {
      const future = bceTimestamp(new Date(Date.now() + 3600_000));
      const r = await call({ ...iamList, timestamp: future });
      assert.equal(r.body.code, "RequestExpired");
    });

    test("host signed without the port (Go, Java) is accepted", async () => {
      const ts = bceTimestamp();
      const url = new URL(`${server.url}/v2/iam?Action=DescribeAccessKeys`);
      const prefix = `bce-auth-v1/${ADMIN.accessKey}/${ts}/300`;
      const canonical = canonicalRequest("POST", canonicalUri("/v2/iam"), canonicalQuery("Action=DescribeAccessKeys"),
        canonicalHeaders([["content-type", "application/json"], ["host", url.hostname], ["x-bce-date", ts]]));
      const sig = hmacHex(signingKey(ADMIN.secretKey, prefix), canonical);
      const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-bce-date": ts, authorization: `${prefix}/x-bce-date;host;content-type/${sig}` }, body: "{}" });
      assert.equal(r.status, 200);
    });

    test("x-bce-date one second off the auth timestamp (Java's race) is accepted", async () => {
      const now = new Date();
      const ts = bceTimestamp(now);
      const header = bceTimestamp(new Date(now.getTime() + 1000));
      const url = new URL(`${server.url}/v2/iam?Action=DescribeAccessKeys`);
      const prefix = `bce-auth-v1/${ADMIN.accessKey}/${ts}/1800`;
      const canonical = canonicalRequest("POST", "/v2/iam", "Action=DescribeAccessKeys", canonicalHeaders([["host", url.hostname], ["x-bce-date", ts]]));
      const sig = hmacHex(signingKey(ADMIN.secretKey, prefix), canonical);
      const r = await fetch(url, { method: "POST", headers: { "x-bce-date": header, authorization: `${prefix}/host;x-bce-date/${sig}` }, body: "{}" });
      assert.equal(r.status, 200);
    });

    test("x-bce-date must be the auth-string time within 1 s, even when signed as sent", async () => {
      const now = new Date();
      const ts = bceTimestamp(now);
      const host = new URL(server.url).host;
      const at = (offsetS: number) => bceTimestamp(new Date(now.getTime() + offsetS * 1000));
      // Node reads the clock for x-bce-date a moment before the auth timestamp: one second apart, each signed as sent.
      for (const date of [at(-1), at(1)]) {
        const r = await describeKeys(server.url, { host, "x-bce-date": date }, { "x-bce-date": date }, ts);
        assert.equal(r.status, 200, `${date}: ${r.text}`);
      }
      for (const date of [at(-3600), at(-2), at(2), "yesterday"]) {
        const r = await describeKeys(server.url, { host, "x-bce-date": date }, { "x-bce-date": date }, ts);
        assert.equal(r.status, 400, `${date}: ${r.text}`);
        assert.equal(r.body.code, "InvalidHTTPAuthHeader");
        assert.match(r.body.message, /x-bce-date/);
      }
    });

    test("host must be signed", async () => {
      const ts = bceTimestamp();
      const r = await describeKeys(server.url, { "x-bce-date": ts }, { "x-bce-date": ts }, ts);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, "InvalidHTTPAuthHeader");
      assert.match(r.body.message, /host/);
    });

    test("a signed header missing from the request is refused", async () => {
      const ts = bceTimestamp();
      const host = new URL(server.url).host;
      // Empty values drop out of the canonical headers: only its absence from the request tells.
      const r = await describeKeys(server.url, { host, "x-bce-date": ts, "x-bce-nonce": "" }, { "x-bce-date": ts }, ts);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, "InvalidHTTPAuthHeader");
      assert.match(r.body.message, /x-bce-nonce/);
      // Sent, even empty, it is as signed.
      assert.equal((await describeKeys(server.url, { host, "x-bce-date": ts, "x-bce-nonce": "" }, { "x-bce-date": ts, "x-bce-nonce": "" }, ts)).status, 200);
    });

    test("X-Forwarded-Host is not believed without SAILFIN_TRUST_PROXY", async () => {
      const ts = bceTimestamp();
      const r = await describeKeys(server.url, { host: "sailfin.example.com", "x-bce-date": ts }, { "x-bce-date": ts, "x-forwarded-host": "sailfin.example.com" }, ts);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, "SignatureDoesNotMatch");
    });

    test("a signed x-bce-content-sha256 or Content-MD5 must be the body's: BadDigest 400 in both dialects", async () => {
      const signedBody = JSON.stringify({ policies: ["QianfanReadAccessPolicy"], description: "as signed" });
      const otherBody = JSON.stringify({ policies: ["QianfanFullControlAccessPolicy"], description: "swapped in" });
      const create = { path: "/v2/iam", query: { Action: "CreateAccessKey" } };
      const digests: Array<Record<string, string>> = [
        { "content-type": "application/json", "x-bce-content-sha256": sha256Hex(signedBody) },
        { "content-type": "application/json", "content-md5": md5Base64(signedBody) },
      ];
      for (const signed of digests) {
        const swapped = await signedWithHeaders(server.url, { ...create, body: otherBody, signed });
        assert.equal(swapped.status, 400, swapped.text);
        assert.equal(swapped.body.code, "BadDigest");
        assert.equal(swapped.headers.get("x-bce-error-code"), "BadDigest");
        // No body at all is not the signed one either.
        const { "content-type": _type, ...bare } = signed;
        const empty = await signedWithHeaders(server.url, { ...create, signed: bare });
        assert.equal(empty.body?.code, "BadDigest", empty.text);
      }
      const keys = (await call(iamList)).body.result.accessKeyList as Array<{ description: string }>;
      assert.ok(!keys.some((k) => k.description === "swapped in"), "no key was created from a swapped body");
      // The body as signed (upper-case hex too) goes through.
      const ok = await signedWithHeaders(server.url, {
        ...create, body: signedBody,
        signed: { "content-type": "application/json", "x-bce-content-sha256": sha256Hex(signedBody).toUpperCase(), "content-md5": md5Base64(signedBody) },
      });
      assert.equal(ok.status, 200, ok.text);
      // V1 routes answer a gateway error with its HTTP status too.
      const v1 = await signedWithHeaders(server.url, {
        path: "/wenxinworkshop/finetune/createTask", body: JSON.stringify({ name: "x" }),
        signed: { "content-type": "application/json", "x-bce-content-sha256": sha256Hex("{}") },
      });
      assert.equal(v1.status, 400, v1.text);
      assert.equal(v1.body.code, "BadDigest");
      assert.equal(v1.body.error_code, 500002);
    });

    test("a streamed upload whose signed digest is not its body is refused and stores nothing", async () => {
      const path = "/sailfin/v1/objects/digests/probe.jsonl";
      const first = Buffer.from('{"prompt":"a","response":"b"}\n');
      const put = (body: Buffer, signed: Record<string, string>) =>
        signedWithHeaders(server.url, { method: "PUT", path, body, signed: { "content-type": "application/octet-stream", ...signed } });
      const stored = await put(first, { "x-bce-content-sha256": sha256Hex(first) });
      assert.equal(stored.status, 200, stored.text);
      assert.equal(stored.body.result.sha256, sha256Hex(first));
      const swapped = Buffer.alloc(256 * 1024, 0x41);
      const digests: Array<Record<string, string>> = [{ "x-bce-content-sha256": sha256Hex(first) }, { "content-md5": md5Base64(first) }];
      for (const signed of digests) {
        const refused = await put(swapped, signed);
        assert.equal(refused.status, 400, refused.text);
        assert.equal(refused.body.code, "BadDigest");
      }
      // The object is still the first one, and no half-written file is left in the store's temp folder.
      const read = await signedWithHeaders(server.url, { method: "GET", path, signed: {} });
      assert.equal(read.text, first.toString());
      const leftovers = (await server.server.res.artifacts.list(".tmp/")).map((o) => o.key);
      assert.deepEqual(leftovers, []);
    });

    test("malformed JSON → MalformedJSON 400 (V2) and 500001 HTTP 200 (V1)", async () => {
      const r = await call({ path: "/v2/iam", query: { Action: "CreateAccessKey" }, body: "{not json" });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, "MalformedJSON");
    });

    test("unknown V2 action → InvalidAction 404 in the V2 envelope", async () => {
      const r = await call({ path: "/v2/iam", query: { Action: "Nope" }, body: "{}" });
      assert.equal(r.status, 404);
      assert.equal(r.body.code, "InvalidAction");
      assert.ok(r.body.requestId);
    });

    test("unknown V1 path → error_code 3 in the V1 envelope", async () => {
      const r = await call({ path: "/wenxinworkshop/nothing/here", body: "{}" });
      assert.equal(r.status, 404);
      assert.equal(r.body.error_code, 3);
      assert.equal(r.body.error_msg, "Unsupported openapi method");
      assert.ok(r.body.log_id);
    });

    test("oversize body → EntityTooLarge, server keeps serving", async () => {
      const r = await call({ path: "/v2/iam", query: { Action: "CreateAccessKey" }, body: JSON.stringify({ description: "x".repeat(2 * 1024 * 1024) }) });
      assert.equal(r.status, 413);
      assert.equal(r.body.code, "EntityTooLarge");
      assert.equal((await call(iamList)).status, 200);
    });

    test("OAuth client_credentials → ?access_token= works on console routes; bad tokens get 110", async () => {
      const tokenUrl = `${server.url}/oauth/2.0/token?grant_type=client_credentials&client_id=${ADMIN.accessKey}&client_secret=${ADMIN.secretKey}`;
      const grant = (await (await fetch(tokenUrl, { method: "POST" })).json()) as any;
      assert.match(grant.access_token, /^24\./);
      assert.equal(grant.expires_in, 2592000);
      const ok = await fetch(`${server.url}/v2/iam?Action=DescribeAccessKeys&access_token=${grant.access_token}`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      assert.equal(ok.status, 200);
      const bad = await fetch(`${server.url}/wenxinworkshop/nothing?access_token=bad`, { method: "POST", body: "{}" });
      assert.equal(bad.status, 404); // unknown route first
      const badClient: any = await (await fetch(`${server.url}/oauth/2.0/token?grant_type=client_credentials&client_id=${ADMIN.accessKey}&client_secret=nope`, { method: "POST" })).json();
      assert.equal(badClient.error, "invalid_client");
    });

    test("a read-only key is denied key management with AccessDenied 403", async () => {
      const reader = await server.clientWith("QianfanReadAccessPolicy");
      const r = await call({ ...iamList, credentials: reader.config });
      assert.equal(r.status, 403);
      assert.equal(r.body.code, "AccessDenied");
    });

    test("OAuth: an unknown client_id and a wrong secret get the same answer", async () => {
      const token = async (clientId: string, secret: string) =>
        (await fetch(`${server.url}/oauth/2.0/token?grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`, { method: "POST" })).json();
      const unknown = await token("nosuchclient0000", "whatever");
      const wrong = await token(ADMIN.accessKey, "whatever");
      assert.deepEqual(unknown, wrong);
      assert.deepEqual(wrong, { error: "invalid_client", error_description: "Client authentication failed" });
    });

    // Last but one: from here on this address has failed a few times at the token endpoint.
    test("OAuth guesses are throttled like sign-in: 429 with Retry-After, then even the right secret waits", async () => {
      const token = (secret: string) =>
        fetch(`${server.url}/oauth/2.0/token?grant_type=client_credentials&client_id=${ADMIN.accessKey}&client_secret=${encodeURIComponent(secret)}`, { method: "POST" });
      let refused: Response | undefined;
      for (let i = 0; i < 12 && refused === undefined; i++) {
        const r = await token(`guess-${i}`);
        if (r.status === 429) refused = r;
        else assert.equal(((await r.json()) as any).error, "invalid_client");
      }
      assert.ok(refused, "refused within 10 failures a minute");
      const retryAfter = Number(refused.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
      assert.equal(((await refused.json()) as any).error, "temporarily_unavailable");
      assert.equal((await token(ADMIN.secretKey)).status, 429);
      // Signed calls are not throttled.
      assert.equal((await call(iamList)).status, 200);
    });

    test("GET /healthz answers without credentials", async () => {
      const r = await fetch(`${server.url}/healthz`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { status: "ok" });
    });

    test("an authorization string seen before is checked anew: clock, headers, target and signature", async () => {
      // The verifier keeps parsed authorization strings, canonical targets and encoded header
      // parts; none of that may let a repeated header through where a fresh one would fail.
      const host = new URL(server.url).host;
      const ts = bceTimestamp();
      const url = "/v2/iam?Action=DescribeAccessKeys";
      const headers = { host, "x-bce-date": ts, "content-type": "application/json" };
      const authorization = signRequest({ ...ADMIN, method: "POST", path: "/v2/iam", query: { Action: "DescribeAccessKeys" }, headers, timestamp: ts, expirationSeconds: 300 });
      const verify = (over: { url?: string; headers?: Record<string, string>; now?: Date } = {}) => verifySignature(server.server.res, {
        method: "POST", url: over.url ?? url, headers: { ...headers, ...over.headers, authorization },
      }, over.now ?? new Date(Date.parse(ts)));
      for (let i = 0; i < 3; i++) assert.equal((await verify()).credential.accessKey, ADMIN.accessKey);
      await assert.rejects(verify({ now: new Date(Date.parse(ts) + 301_000) }), { id: "RequestExpired" });
      await assert.rejects(verify({ url: "/v2/iam?Action=CreateAccessKey" }), { id: "SignatureDoesNotMatch" });
      await assert.rejects(verify({ headers: { "content-type": "text/plain" } }), { id: "SignatureDoesNotMatch" });
      await assert.rejects(verify({ headers: { host: "other.example:1" } }), { id: "SignatureDoesNotMatch" });
      const later = bceTimestamp(new Date(Date.parse(ts) + 5000));
      await assert.rejects(verify({ headers: { "x-bce-date": later } }), { id: "InvalidHTTPAuthHeader" });
      assert.equal((await verify()).credential.accessKey, ADMIN.accessKey);
    });
  });
}

test("behind a trusted proxy (SAILFIN_TRUST_PROXY) the host it forwards may be the signed one", async () => {
  const server = await startTestServer(testDialects()[0], { SAILFIN_TRUST_PROXY: "127.0.0.1" });
  try {
    const ts = bceTimestamp();
    for (const signedHost of ["sailfin.example.com:8443", "sailfin.example.com"]) {
      const r = await describeKeys(server.url, { host: signedHost, "x-bce-date": ts }, { "x-bce-date": ts, "x-forwarded-host": "sailfin.example.com:8443" }, ts);
      assert.equal(r.status, 200, `${signedHost}: ${r.text}`);
    }
    const other = await describeKeys(server.url, { host: "elsewhere.example.com", "x-bce-date": ts }, { "x-bce-date": ts, "x-forwarded-host": "sailfin.example.com" }, ts);
    assert.equal(other.body.code, "SignatureDoesNotMatch");
  } finally {
    await server.close();
  }
});
