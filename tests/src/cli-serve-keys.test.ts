import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, startServeProcess, stopProcess } from "./cli-process.js";

describe("sailfin serve and sailfin keys, as subprocesses", () => {
  let home: string;
  let url: string;
  let admin: { accessKey: string; secretKey: string };
  let serve: Awaited<ReturnType<typeof startServeProcess>>;
  const env = () => ({ QIANFAN_CONSOLE_API_BASE_URL: url, QIANFAN_ACCESS_KEY: admin.accessKey, QIANFAN_SECRET_KEY: admin.secretKey });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), "sailfin-cli-"));
    serve = await startServeProcess(["--port", "0", "--home", home], { SAILFIN_ACCESS_KEY: "", SAILFIN_SECRET_KEY: "", DATABASE_URL: "" });
    url = serve.url;
    admin = JSON.parse(await readFile(join(home, "credentials.json"), "utf8"));
  });
  after(async () => {
    await stopProcess(serve.child);
    await rm(home, { recursive: true, force: true });
  });

  test("first start generates an admin pair: printed once, saved 0600, and the listening line is printed", async () => {
    assert.match(admin.accessKey, /^[0-9a-f]{32}$/);
    assert.match(serve.output(), new RegExp(`QIANFAN_ACCESS_KEY=${admin.accessKey}`));
    assert.match(serve.output(), /^sailfin listening on http:\/\/127\.0\.0\.1:\d+$/m);
    assert.equal((await stat(join(home, "credentials.json"))).mode & 0o777, 0o600);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
  });

  test("keys create / list / delete", async () => {
    const created = await runCli(["keys", "create", "--policy", "QianfanReadAccessPolicy", "--json"], env());
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    assert.deepEqual(key.policies, ["QianfanReadAccessPolicy"]);
    assert.match(key.secretKey, /^[0-9a-f]{32}$/);

    const listed = await runCli(["keys", "list"], env());
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(key.accessKey));
    assert.doesNotMatch(listed.stdout, new RegExp(key.secretKey), "secrets are never listed");

    const asReader = await runCli(["keys", "list"], { ...env(), QIANFAN_ACCESS_KEY: key.accessKey, QIANFAN_SECRET_KEY: key.secretKey });
    assert.equal(asReader.code, 1);
    assert.match(asReader.stderr, /^sailfin: AccessDenied: /);
    assert.equal(asReader.stderr.trim().split("\n").length, 1, "one line, no stack trace");

    const deleted = await runCli(["keys", "delete", key.accessKey], env());
    assert.equal(deleted.code, 0, deleted.stderr);
    const again = await runCli(["keys", "delete", key.accessKey], env());
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not found/);
  });

  test("an unknown policy is refused naming the field", async () => {
    const r = await runCli(["keys", "create", "--policy", "NoSuchPolicy"], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /InappropriateJSON: .*param\[policies\[0\]\] invalid: unknown policy NoSuchPolicy/);
  });

  test("wrong secret, unreachable server, misspelled flag: one line each, no stack trace", async () => {
    const wrong = await runCli(["keys", "list"], { ...env(), QIANFAN_SECRET_KEY: "nope" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^sailfin: the server rejected the access key\/secret key \(SignatureDoesNotMatch\): check QIANFAN_SECRET_KEY/);
    const down = await runCli(["keys", "list"], { ...env(), QIANFAN_CONSOLE_API_BASE_URL: "http://127.0.0.1:9" });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the Sailfin server at http:\/\/127\.0\.0\.1:9/);
    const flag = await runCli(["keys", "list", "--jsonn"], env());
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--jsonn' for `keys list` \(did you mean --json\?\)/);
    const missing = await runCli(["keys", "list"], { ...env(), QIANFAN_ACCESS_KEY: "" });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY/);
    for (const r of [wrong, down, missing]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test("a second start on the same home prints no new credentials", async () => {
    await stopProcess(serve.child);
    serve = await startServeProcess(["--port", "0", "--home", home], { SAILFIN_ACCESS_KEY: "", SAILFIN_SECRET_KEY: "", DATABASE_URL: "" });
    url = serve.url;
    assert.doesNotMatch(serve.output(), /QIANFAN_SECRET_KEY=/);
    assert.equal((await runCli(["keys", "list"], env())).code, 0);
  });

  test("invalid configuration is reported whole, before anything starts", async () => {
    const r = await runCli(["serve", "--port", "99999", "--home", home], { SAILFIN_ACCESS_KEY: "only-one", SAILFIN_SECRET_KEY: "", DATABASE_URL: "mysql://x" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--port \/ SAILFIN_PORT must be an integer/);
    assert.match(r.stderr, /SAILFIN_ACCESS_KEY and SAILFIN_SECRET_KEY must be set together/);
    assert.match(r.stderr, /DATABASE_URL must be a postgres/);
  });
});
