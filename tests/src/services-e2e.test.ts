import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { findServingTarget, probeEngine, type ServingTarget } from "@sailfin/engine";
import { LocalExecutor, Worker, engineLauncher, findPython } from "@sailfin/worker";
import { ConfigError, loadServerConfig } from "@sailfin/server";
import { ADMIN, pollUntil, startTestServer, testDialects, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { SAILFIN_BIN } from "./cli-process.js";
import { PythonSdk, okRef, pyRef, pythonSdkMissing } from "./python-sdk.js";
import { TINY, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS } from "./fixtures/worker-fixtures.js";

/**
 * Inference services end to end on a real server and real workers: the operator-engine path of a
 * pool (`engine.command`), with Sailfin's runtime engine started through it in its vLLM-like
 * command form (argv filled in, the key in a 0600 file). Lifecycle, routing (findServingTarget),
 * slots, restarts after the engine process is killed and a worker's death all run against real
 * engine processes answering `/v1/completions`; serving-runtime-e2e.test.ts adds trained versions
 * and the chat route.
 */

const RUNTIME_DIR = fileURLToPath(new URL("../../runtime/", import.meta.url));
/** Set once findPython() has answered: the pool every server and worker process of this file uses. */
let POOLS = "";

let tiny: TinyModelFolders;
before(async () => {
  const python = await findPython();
  POOLS = JSON.stringify({
    pools: [{
      id: "local", executor: "local",
      engine: {
        name: "sailfin-argv", env: { PYTHONPATH: RUNTIME_DIR }, readyTimeoutSec: 60,
        command: [python, "-m", "sailfin_runtime", "serve", "--model", "{modelDir}", "--host", "{host}", "--port", "{port}",
          "--served-model-name", "{servedModelName}", "--api-key-file", "{apiKeyFile}"],
      },
    }],
  });
  tiny = await writeTinyModels({ a: TINY, b: { ...TINY, hiddenSize: 64 } });
});
after(async () => { await tiny.remove(); });

/** A running engine process as /proc shows it: its argv (NUL-split), parent and environment. */
interface EngineProc {
  readonly pid: number;
  readonly ppid: number;
  readonly argv: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

/**
 * The runtime engine processes of this machine, read from /proc (the launcher keeps no pid a test
 * could reach; the engine's own argv names its port and served model, which is what the control
 * plane recorded). Processes that end while being read are skipped.
 */
async function engineProcs(): Promise<EngineProc[]> {
  const found: EngineProc[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0").filter((word) => word !== "");
      if (!(argv.includes("sailfin_runtime") && argv.includes("serve"))) continue;
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const env = new Map((await readFile(`/proc/${entry}/environ`, "utf8")).split("\0").filter((kv) => kv !== "")
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as [string, string]));
      found.push({ pid: Number(entry), ppid, argv, env });
    } catch {
      // gone (or not ours to read) between readdir and here
    }
  }
  return found;
}

/** The one engine process listening on the endpoint's port (its `--port` argument), started by `parent`. */
async function engineOf(endpoint: { url: string }, parent: number): Promise<EngineProc> {
  const port = new URL(endpoint.url).port;
  const matches = (await engineProcs()).filter((p) => p.argv[p.argv.indexOf("--port") + 1] === port);
  assert.equal(matches.length, 1, `one engine on port ${port}: ${JSON.stringify(matches.map((p) => [p.pid, p.ppid]))}`);
  assert.equal(matches[0]!.ppid, parent, "the engine is the worker's child");
  return matches[0]!;
}

/** SIGKILL, where the process has not already ended. */
/** Whether a process runs (a zombie, dead but not yet reaped by whoever adopted it, does not). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * The engine holds its own key and nothing of Sailfin's, the database's or the artifact store's,
 * although the worker that started it did (SAILFIN_COMPILE, a runtime switch, may pass).
 */
function assertEngineEnv(engine: EngineProc, apiKey: string): void {
  const names = [...engine.env.keys()];
  assert.equal(engine.env.get("SAILFIN_ENGINE_API_KEY"), apiKey);
  assert.equal(engine.env.get("VLLM_API_KEY"), apiKey);
  assert.deepEqual(names.filter((name) => /^(SAILFIN_(?!ENGINE_API_KEY$|ENGINE_PARENT_PID$|COMPILE$)|AWS_|PG|DATABASE_URL$)/.test(name)), [], names.join(","));
  assert.ok(!engine.argv.includes(apiKey), "the key is not on the command line");
}

/** What a deployed worker's environment holds and its engines must not (see assertEngineEnv). */
const WORKER_SECRETS = {
  SAILFIN_MASTER_KEY: "test-master-key", SAILFIN_ACCESS_KEY: "test-access-key", AWS_SECRET_ACCESS_KEY: "test-aws-secret",
  PGPASSWORD: "test-pg-password", DATABASE_URL: "postgres://u:p@127.0.0.1:1/none",
};

/** An in-process worker with `serving` slots only (and a real executor: serve runs need the runtime's machine). */
async function servingWorker(server: TestServer, id: string, slots = 1): Promise<Worker> {
  const python = await findPython();
  const worker = new Worker({
    res: server.server.res, executor: new LocalExecutor({ python, graceMs: 5_000 }), id, kinds: ["serve"],
    leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200, slots: { serving: slots },
    engines: { host: "127.0.0.1", ...engineLauncher({ python, graceMs: 5_000, env: { ...process.env, ...WORKER_SECRETS } }) },
  });
  await worker.start();
  return worker;
}

/** The stderr tail of each worker process, for failure messages. */
const stderrOf = new WeakMap<ChildProcess, string>();

function startWorkerProcess(server: TestServer, dialect: string): ChildProcess {
  const env: Record<string, string | undefined> = {
    ...process.env, SAILFIN_HOME: server.home, SAILFIN_LEASE_MS: String(TEST_LEASE_MS), SAILFIN_POLL_MS: "100", SAILFIN_LOG_LEVEL: "warn",
    SAILFIN_POOLS: POOLS, SAILFIN_WORKER_KINDS: "serve", SAILFIN_WORKER_SERVING: "1", ...server.artifactsEnv,
  };
  if (dialect === "postgres") env.DATABASE_URL = server.databaseUrl;
  else delete env.DATABASE_URL;
  const child = spawn(process.execPath, [SAILFIN_BIN, "worker"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (chunk: Buffer) => { stderrOf.set(child, ((stderrOf.get(child) ?? "") + chunk.toString()).slice(-4_000)); };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return child;
}

async function completion(endpoint: { url: string; apiKey: string | null; servedModelName: string }, key = endpoint.apiKey) {
  const response = await fetch(`${endpoint.url}/v1/completions`, {
    method: "POST", headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ model: endpoint.servedModelName, prompt: [1, 2, 3], max_tokens: 4, temperature: 0 }),
  });
  return { status: response.status, body: await response.json() as any };
}

/** A 200 completion of the 3-id prompt above, in the OpenAI shape, for the endpoint's served model (the tokens are the tiny model's). */
function assertCompletion(answer: { status: number; body: any }, servedModelName: string): void {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const { body } = answer;
  assert.equal(body.object, "text_completion");
  assert.equal(body.model, servedModelName);
  assert.match(body.id, /^cmpl-/);
  assert.equal(body.choices.length, 1);
  assert.equal(typeof body.choices[0].text, "string");
  assert.ok(["length", "stop"].includes(body.choices[0].finish_reason), body.choices[0].finish_reason);
  assert.equal(body.usage.prompt_tokens, 3);
  assert.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 4, JSON.stringify(body.usage));
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
}

test("SAILFIN_PUBLIC_URL is the base of service urls: an http(s) URL, its trailing slash dropped; anything else refused at start-up", () => {
  const load = (SAILFIN_PUBLIC_URL: string) => loadServerConfig({ flags: {}, env: { SAILFIN_PUBLIC_URL } }).publicUrl;
  assert.equal(load("https://sailfin.example/base/"), "https://sailfin.example/base");
  assert.equal(load(""), undefined);
  for (const bad of ["ftp://x", "not a url", "https://x/?q=1"]) {
    assert.throws(() => load(bad), (e: unknown) => e instanceof ConfigError && /SAILFIN_PUBLIC_URL must be an http\(s\) URL/.test(e.message));
  }
});

for (const dialect of testDialects()) {
  describe(`inference services (${dialect})`, () => {
    let server: TestServer;
    let setId = "";
    let versionA = "";
    let versionB = "";
    let versionNumA = 0;
    let setNum = 0;
    const svc = (action: string, body: unknown) => v2Ok(server, "service", action, body);
    const describeSvc = (serviceId: string) => svc("DescribeService", { serviceId });
    const until = (serviceId: string, status: string, timeoutMs = 30_000) =>
      pollUntil(() => describeSvc(serviceId), (s) => s.runStatus === status, `service ${serviceId} → ${status}`, timeoutMs);

    before(async () => {
      server = await startTestServer(dialect, { SAILFIN_POOLS: POOLS });
      await stageFolder(server, tiny.dir("a"), "hub", "svc-a");
      await stageFolder(server, tiny.dir("b"), "hub", "svc-b");
      const a = await importModel(server, "svc-model", { bucket: "hub", objectPath: "svc-a" });
      assert.equal(a.version.status, "Ready");
      const b = await importModel(server, "svc-model", { bucket: "hub", objectPath: "svc-b" }, { modelSetId: a.setId });
      assert.equal(b.version.status, "Ready");
      setId = a.setId; setNum = a.setNum; versionA = a.versionId; versionNumA = a.versionNum; versionB = b.versionId;
    });
    after(async () => { await server?.close(); });

    test("a service deploys, reads Serving, routes by its name, and its engine answers with its own key", async () => {
      const created = await svc("CreateService", {
        modelSetId: setId, modelId: versionA, name: "Chat A", urlSuffix: "chat-a", description: "first",
        resourceConfig: { type: "GPU-I-2", replicasCount: 1, qps: 0.5 }, billing: { paymentTiming: "Postpaid" },
      });
      assert.match(created.serviceId, /^svco-[a-z0-9]{12}$/);
      assert.match(created.instanceId, /^[0-9a-f]{32}$/);
      const first = await describeSvc(created.serviceId);
      assert.ok(["New", "Deploying"].includes(first.runStatus), first.runStatus);
      const worker = await servingWorker(server, `svc-${dialect}-1`);
      try {
        const serving = await until(created.serviceId, "Serving");
        assert.equal(serving.url, `${server.url}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/chat-a`);
        assert.equal(serving.endpoint, "chat-a");
        assert.equal(serving.modelId, versionA);
        assert.equal(serving.modelVersionId, versionA);
        assert.equal(serving.modelSetId, setId);
        assert.equal(serving.name, "Chat A");
        assert.equal(serving.description, "first");
        assert.deepEqual(serving.resourceConfig, { type: "GPU-I-2", replicasCount: 1, qps: 0.5, resourceId: "local" });
        assert.equal(serving.creator, ADMIN.accessKey);
        assert.match(serving.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(serving.failureReason, null);
        assert.match(serving.taskId, /^task-/);

        // Routing: the chat model name is the urlSuffix (any case) or the service id.
        const target: ServingTarget = (await findServingTarget(server.server.res, "CHAT-A"))!;
        assert.equal(target.service.id, created.serviceId);
        assert.equal(target.modelVersion.id, versionA);
        assert.ok(target.endpoint !== null);
        assert.equal((await findServingTarget(server.server.res, created.serviceId))!.service.id, created.serviceId);
        assert.equal(await findServingTarget(server.server.res, "nothing-here"), null);
        assert.equal(await probeEngine(target.endpoint, 2_000), true);
        assert.equal(target.endpoint.servedModelName, "chat-a");
        assertCompletion(await completion(target.endpoint), "chat-a");
        for (const key of ["wrong", null]) {
          const refusedCall = await completion(target.endpoint, key);
          assert.equal(refusedCall.status, 401, JSON.stringify(refusedCall.body));
          assert.equal(refusedCall.body.error.code, "invalid_api_key");
        }

        // The version shows its service; it cannot be deleted while the service exists.
        const model = await v2Ok(server, "model", "DescribeModel", { modelId: versionA });
        assert.deepEqual(model.services, [{ serviceId: created.serviceId, name: "Chat A", endpoint: "chat-a", runStatus: "Serving" }]);
        const detail = await v1Raw(server, "/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: versionNumA });
        assert.equal(detail.body.result.services[0].serviceId, created.serviceId, detail.text);
        const refused = await v2Raw(server, "model", "DeleteModel", { modelId: versionA });
        assert.equal(refused.status, 409, refused.text);
        assert.equal(refused.body.code, "ResourceInUse");
        assert.match(refused.body.message, new RegExp(created.serviceId));

        // An engine that dies is restarted on a fresh port; the service reads Serving again.
        const engine = await engineOf(target.endpoint, process.pid);
        assertEngineEnv(engine, target.endpoint.apiKey!);
        process.kill(engine.pid, "SIGKILL");
        const back = await pollUntil(() => findServingTarget(server.server.res, "chat-a"),
          (t) => t?.endpoint != null && t.endpoint.url !== target.endpoint!.url, "a restarted engine", 30_000);
        assert.equal((await describeSvc(created.serviceId)).runStatus, "Serving");
        assert.notEqual(back!.endpoint!.apiKey, null);
        assertCompletion(await completion(back!.endpoint!), "chat-a");

        // Delete: refused while serving; stop, then delete.
        const busy = await v2Raw(server, "service", "DeleteService", { serviceId: created.serviceId });
        assert.equal(busy.status, 409, busy.text);
        assert.match(busy.body.message, /stop it first/);
        assert.equal(await svc("StopService", { serviceId: created.serviceId }), true);
        await until(created.serviceId, "Stopped");
        await pollUntil(async () => (await server.server.res.db.selectFrom("runs").select("status").where("id", "=", serving.taskId).executeTakeFirstOrThrow()).status,
          (s) => s === "Cancelled", "the serving run cancelled");
        assert.equal((await findServingTarget(server.server.res, "chat-a"))!.endpoint, null);
        await pollUntil(() => probeEngine(back!.endpoint!, 500), (up) => !up, "the engine gone");
        assert.equal(await svc("DeleteService", { serviceId: created.serviceId }), true);
        const gone = await v2Raw(server, "service", "DescribeService", { serviceId: created.serviceId });
        assert.equal(gone.status, 400);
        assert.equal(gone.body.code, "InappropriateJSON");
      } finally {
        await worker.stop();
      }
    });

    test("stop frees the slot for another service; start and modify redeploy; list and V1 routes show them", async () => {
      const one = (await svc("CreateService", { modelId: versionA, name: "slot one", urlSuffix: "slot-one" })).serviceId;
      const two = (await svc("CreateService", { modelId: versionA, name: "slot two" })).serviceId;
      const worker = await servingWorker(server, `svc-${dialect}-2`, 1);
      try {
        await until(one, "Serving");
        // One serving slot: the second waits.
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal((await describeSvc(two)).runStatus, "Deploying");
        assert.equal((await describeSvc(two)).endpoint, "slot-two", "urlSuffix made from the name");
        await svc("StopService", { serviceId: one });
        await until(one, "Stopped");
        await until(two, "Serving");

        const list = await svc("DescribeServices", { maxKeys: 1 });
        assert.equal(list.serviceList.length, 1);
        assert.equal(list.serviceList[0].serviceId, two, "newest first");
        assert.equal(list.pageInfo.isTruncated, true);
        const rest = await svc("DescribeServices", { marker: list.pageInfo.nextMarker, maxKeys: 10 });
        assert.equal(rest.serviceList[0].serviceId, one);
        const stopped = await svc("DescribeServices", { runStatus: ["Stopped"], name: "slot" });
        assert.deepEqual(stopped.serviceList.map((s: any) => s.serviceId), [one]);

        // Start again: it waits for the slot; stopping two lets it up.
        await svc("StartService", { serviceId: one });
        assert.equal((await describeSvc(one)).runStatus, "Deploying");
        await svc("StopService", { serviceId: two });
        await until(one, "Serving");

        // Modify: the new version deploys in place of the old.
        assert.equal(await svc("ModifyService", { serviceId: one, modelSetId: setId, modelId: versionB }), true);
        const modified = await pollUntil(() => describeSvc(one), (s) => s.runStatus === "Serving" && s.modelId === versionB, "modified service serving");
        const target = (await findServingTarget(server.server.res, "slot-one"))!;
        assert.equal(target.modelVersion.id, versionB);
        assertCompletion(await completion(target.endpoint!), "slot-one");
        assert.equal(modified.modelVersionId, versionB);

        // V1: apply, detail, list.
        const applied = await v1Raw(server, "/wenxinworkshop/service/apply", { modelId: setNum, modelVersionId: versionNumA, name: "v1svc", uri: "v1-svc", replicas: 1, poolType: 2 });
        assert.equal(applied.status, 200, applied.text);
        assert.equal(applied.body.result.result, true);
        assert.equal(typeof applied.body.result.serviceId, "number");
        assert.match(applied.body.result.serviceUuid, /^svco-/);
        const detail = await v1Raw(server, "/wenxinworkshop/service/detail", { serviceId: applied.body.result.serviceId });
        assert.equal(detail.body.result.uri, "v1-svc", detail.text);
        assert.equal(detail.body.result.modelId, setNum);
        assert.ok(detail.body.result.vmConfig !== undefined && detail.body.result.creator === ADMIN.accessKey);
        await pollUntil(() => v1Raw(server, "/wenxinworkshop/service/detail", { serviceId: applied.body.result.serviceUuid }),
          (r) => r.body.result?.serviceStatus === "Done" || r.body.result?.serviceStatus === "Deploying", "V1 detail by uuid");
        const v1list = await v1Raw(server, "/wenxinworkshop/service/list", { apiTypefilter: ["chat"] });
        const common = v1list.body.result.common.find((s: any) => s.name === "v1svc");
        assert.equal(common.url.split("/").at(-1), "v1-svc");
        assert.equal(common.apiType, "chat");
        assert.equal("serviceId" in common, false);
        const custom = v1list.body.result.custom.find((s: any) => s.name === "v1svc");
        assert.equal(custom.serviceId, String(applied.body.result.serviceId));
        assert.equal((await v1Raw(server, "/wenxinworkshop/service/list", { apiTypeFilter: ["embeddings"] })).body.result.common.length, 0);
        for (const id of [one, two, applied.body.result.serviceUuid]) await svc("StopService", { serviceId: id });
      } finally {
        await worker.stop();
      }
    });

    test("bad input is refused in each dialect's envelope, naming the field; IAM separates read from write", async () => {
      const bad = async (body: unknown, field: string) => {
        const r = await v2Raw(server, "service", "CreateService", body);
        assert.equal(r.status, 400, r.text);
        assert.ok(["InvalidParameter", "InappropriateJSON"].includes(r.body.code), r.text);
        assert.match(r.body.message, new RegExp(field), r.text);
      };
      await bad({ name: "x1" }, "modelId");
      await bad({ modelId: "amv-nosuchversion", name: "nope" }, "modelId");
      await bad({ modelId: versionA, name: "bad", urlSuffix: "Bad_Suffix" }, "urlSuffix");
      await bad({ modelId: versionA, name: "bad", urlSuffix: "-dash" }, "urlSuffix");
      await bad({ modelId: versionA, name: "bad", urlSuffix: "x" }, "urlSuffix");
      await bad({ modelId: versionA, name: "dup", urlSuffix: "slot-one" }, "urlSuffix");
      await bad({ modelId: versionA, name: "pool", resourceConfig: { resourceId: "gpu-farm" } }, "resourceConfig.resourceId");
      await bad({ modelId: versionA, modelSetId: "am-nosuchmodel0", name: "set" }, "modelSetId");
      const v1 = await v1Raw(server, "/wenxinworkshop/service/apply", { modelId: setNum, modelVersionId: versionNumA, name: "v1bad", uri: "UP" });
      assert.equal(v1.status, 200);
      assert.equal(v1.body.error_code, 500001, v1.text);
      assert.match(v1.body.error_msg, /uri/);
      const missing = await v1Raw(server, "/wenxinworkshop/service/detail", { serviceId: 999_999 });
      assert.equal(missing.body.error_code, 500001, missing.text);
      // The SDK's own default suffix (svc{setId}_{modelId}) is longer than 20: taken.
      const sdkDefault = `svc${setId}_${versionA}`;
      const long = await svc("CreateService", { modelSetId: setId, modelId: versionA, name: sdkDefault, urlSuffix: sdkDefault });
      await svc("StopService", { serviceId: long.serviceId });

      const reader = await server.clientWith("QianfanServiceReadAccessPolicy");
      const r = await v2Raw(server, "service", "CreateService", { modelId: versionA, name: "ro" }, reader.config);
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.code, "AccessDenied");
      const read = await v2Raw(server, "service", "DescribeService", { serviceId: long.serviceId }, reader.config);
      assert.equal(read.status, 200, read.text);
      const operator = await server.clientWith("QianfanServiceOperateAccessPolicy");
      const made = await v2Raw(server, "service", "CreateService", { modelId: versionA, name: "operated" }, operator.config);
      assert.equal(made.status, 200, made.text);
      await svc("StopService", { serviceId: made.body.result.serviceId });
    });

    test("the official Python SDK deploys a version (Model.deploy) with its own default name and suffix", { skip: pythonSdkMissing() ?? false }, async () => {
      const py = new PythonSdk({ ...ADMIN, baseUrl: server.url, extra: { QIANFAN_DEPLOY_STATUS_POLLING_INTERVAL: "0.5" } });
      const worker = await servingWorker(server, `svc-${dialect}-py`);
      try {
        const config = okRef(await py.helper("qianfan.model.DeployConfig", { service_type: "Chat", replicas: 1, hours: 1 }));
        const model = okRef(await py.helper("qianfan.model.Model", { id: versionB, set_id: setId }));
        const service = okRef(await py.onRef(model.ref, "deploy", { deploy_config: pyRef(config.ref) }));
        const endpoint = okRef(await py.onRef(service.ref, "endpoint", {}, { call: false })).value;
        assert.equal(endpoint, `svc${setId}_${versionB}`, "the endpoint is the url's last segment (the SDK's own default suffix)");
        const serviceId = okRef(await py.onRef(service.ref, "id", {}, { call: false })).value;
        assert.equal((await describeSvc(serviceId)).runStatus, "Serving");
        assert.ok((await findServingTarget(server.server.res, endpoint))?.endpoint != null);
        await svc("StopService", { serviceId });
        await until(serviceId, "Stopped");
      } finally {
        await worker.stop();
        await py.close();
      }
    });

    test("a worker killed while serving: another worker brings the service up on a new endpoint", async () => {
      const { serviceId } = await svc("CreateService", { modelId: versionA, name: "survivor", urlSuffix: "survivor" });
      const first = startWorkerProcess(server, dialect);
      let second: ChildProcess | null = null;
      // The runtime's engine stops by itself once its worker is gone (SAILFIN_ENGINE_PARENT_PID); the finally kills it if not.
      let orphan: number | null = null;
      try {
        await until(serviceId, "Serving", 60_000).catch(async (error: Error) => {
          const runs = await server.server.res.db.selectFrom("runs").select(["id", "status", "attempt", "pool_id", "kind", "lease_owner"]).where("kind", "=", "serve").execute();
          const workers = await server.server.res.db.selectFrom("workers").selectAll().execute();
          throw new Error(`${error.message}\nworker: ${stderrOf.get(first) ?? ""}\nruns: ${JSON.stringify(runs)}\nworkers: ${JSON.stringify(workers)}`);
        });
        const before = (await findServingTarget(server.server.res, "survivor"))!;
        const attempt = (await server.server.res.db.selectFrom("runs").select("attempt").where("service_num", "=", before.service.num).where("status", "=", "Running").executeTakeFirstOrThrow()).attempt;
        // A worker process's engine: the worker's real environment (its database, store and Sailfin settings) stays out.
        const engine = await engineOf(before.endpoint!, first.pid!);
        assertEngineEnv(engine, before.endpoint!.apiKey!);
        orphan = engine.pid;
        first.kill("SIGKILL");
        const orphanPid = engine.pid;
        await pollUntil(async () => isAlive(orphanPid), (alive) => !alive, "the orphaned engine to stop by itself", 15_000);
        second = startWorkerProcess(server, dialect);
        const after = await pollUntil(() => findServingTarget(server.server.res, "survivor"),
          (t) => t?.endpoint != null && t.endpoint.url !== before.endpoint!.url, "the service back on another worker", 60_000);
        assertCompletion(await completion(after!.endpoint!), "survivor");
        await engineOf(after!.endpoint!, second.pid!);
        const run = await server.server.res.db.selectFrom("runs").select(["attempt", "status"]).where("num", "=", after!.service.runNum!).executeTakeFirstOrThrow();
        assert.equal(run.status, "Running");
        assert.ok(Number(run.attempt) > Number(attempt), "a new attempt holds it");
        await svc("StopService", { serviceId });
        await until(serviceId, "Stopped", 30_000);
      } finally {
        // The first worker's engines, read while it is still their parent (a failure may have come before `orphan` was known).
        const firstEngines = first.exitCode === null ? (await engineProcs()).filter((p) => p.ppid === first.pid).map((p) => p.pid) : [];
        if (first.exitCode === null) first.kill("SIGKILL");
        for (const pid of new Set([...firstEngines, ...(orphan === null ? [] : [orphan])])) killIfAlive(pid);
        second?.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 500));
        if (second !== null && second.exitCode === null) second.kill("SIGKILL");
      }
    });
  });
}
