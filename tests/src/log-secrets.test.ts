import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServeProcess, stopProcess } from "./cli-process.js";
import { ADMIN, createTestDatabase, rawCall, testDialects } from "./harness.js";

/**
 * Nothing secret reaches the log at SAILFIN_LOG_LEVEL=info, where every request is logged: the
 * real `sailfin serve` process is run, called with each kind of credential, and its output read.
 */
for (const dialect of testDialects()) {
  test(`no secret in the log at SAILFIN_LOG_LEVEL=info (${dialect})`, async () => {
    const home = await mkdtemp(join(tmpdir(), "sailfin-log-"));
    const database = dialect === "postgres" ? await createTestDatabase() : undefined;
    const serve = await startServeProcess(["--port", "0", "--home", home], {
      SAILFIN_LOG_LEVEL: "info", SAILFIN_ACCESS_KEY: ADMIN.accessKey, SAILFIN_SECRET_KEY: ADMIN.secretKey,
      DATABASE_URL: database?.url ?? "",
    });
    const secrets: string[] = [ADMIN.secretKey];
    try {
      // OAuth with the secret in the query (as the SDKs send it) and in a form body.
      const tokenUrl = `${serve.url}/oauth/2.0/token?grant_type=client_credentials&client_id=${ADMIN.accessKey}&client_secret=${ADMIN.secretKey}`;
      const grant = (await (await fetch(tokenUrl, { method: "POST" })).json()) as { access_token: string };
      assert.match(grant.access_token, /^24\./);
      secrets.push(grant.access_token);
      const form = await fetch(`${serve.url}/oauth/2.0/token`, {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: ADMIN.accessKey, client_secret: ADMIN.secretKey }),
      });
      secrets.push(((await form.json()) as { access_token: string }).access_token);
      // The bearer token in the query, on a console route.
      const listed = await fetch(`${serve.url}/v2/iam?Action=DescribeAccessKeys&access_token=${grant.access_token}`, {
        method: "POST", headers: { "content-type": "application/json" }, body: "{}",
      });
      assert.equal(listed.status, 200);
      // A signed call, and a console sign-in whose cookie then authenticates a read.
      const signed = await rawCall(serve.url, { path: "/v2/iam", query: { Action: "DescribeAccessKeys" }, body: "{}" });
      assert.equal(signed.status, 200);
      const signIn = await fetch(`${serve.url}/sailfin/v1/session`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN),
      });
      const cookie = /^sailfin_session=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1];
      assert.ok(cookie, "signed in");
      secrets.push(cookie);
      const read = await fetch(`${serve.url}/sailfin/v1/session`, { headers: { cookie: `sailfin_session=${cookie}` } });
      const { csrfToken } = (await read.json()) as { csrfToken: string };
      secrets.push(csrfToken);
    } finally {
      await stopProcess(serve.child);
      await database?.drop();
      await rm(home, { recursive: true, force: true });
    }
    const log = serve.output();
    for (const secret of secrets) assert.ok(!log.includes(secret), `the log holds a secret (${secret.slice(0, 6)}…):\n${log}`);
    // The requests were logged (the check above is not vacuous), with their secrets replaced.
    assert.match(log, /"url":"\/oauth\/2\.0\/token\?grant_type=client_credentials&client_id=admintestkey0001&client_secret=\[redacted\]"/);
    assert.match(log, /"url":"\/v2\/iam\?Action=DescribeAccessKeys&access_token=\[redacted\]"/);
  });
}
