import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI, { toFile } from "openai";
import { onDemandSuffix, type FineTunedModels, type FineTunedModel } from "@sailfin/engine";
import { LocalExecutor, Worker, engineLauncher, findPython } from "@sailfin/worker";
import { ADMIN, pollUntil, startTestServer, testDialects, v2Ok, type TestServer } from "./harness.js";
import { TINY, importBaseModel, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS } from "./fixtures/worker-fixtures.js";

/**
 * Using models through OpenAI's dialect on a real server, a real serving worker and the runtime's
 * real engine: `/v1/chat/completions` deploys a model version on demand (the first call is told
 * to retry while the engine loads, and the official Node SDK's retries see it answer), later calls
 * reuse the service, the idle sweeper stops it and the next call starts it again; `/v1/models`
 * lists, retrieves and deletes; `Authorization: Bearer AK:SK` is accepted wherever API keys are.
 * In the first suite the `ft:` name is the test's own (a version it imports stands in for a job's
 * result), so the serving path is tested on its own, on both dialects; the second trains a real
 * job through the official SDK and calls its model and its checkpoint's name.
 */

const FT = "ft:tiny-base:sailfin::k3yabc12";
const CKPT = `${FT}:ckpt-step-4`;
/** Longer than the 503's retry-after (5 s), so an engine that came up is still there when the retry comes. */
const IDLE_STOP_S = 6;

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: { ...TINY, hiddenSize: 64, intermediate: 128 } }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) describe(`OpenAI's chat and models routes serve versions on demand (${dialect})`, () => {
  let server: TestServer;
  let worker: Worker;
  let tunedVersionId = "";
  let baseVersionId = "";
  let apiKey = "";
  const pair = `${ADMIN.accessKey}:${ADMIN.secretKey}`;
  const db = () => server.server.res.db;

  /** The jobs slice's resolver, as a double: FT is the imported version while it exists; CKPT is being published. */
  const fineTuned: FineTunedModels = {
    async resolve(res, name): Promise<FineTunedModel | null> {
      if (name === CKPT) return { modelVersionNum: 0, modelVersionId: "amv-notyet", status: "Creating", jobId: "ftjob-test", createdAt: 1 };
      if (name !== FT || tunedVersionId === "") return null;
      const row = await res.db.selectFrom("model_versions").select(["num", "id", "status", "created_at"]).where("id", "=", tunedVersionId).executeTakeFirst();
      if (row === undefined) return null;
      return { modelVersionNum: Number(row.num), modelVersionId: row.id, status: row.status as FineTunedModel["status"], jobId: "ftjob-test", createdAt: Math.floor(Date.parse(row.created_at) / 1000) };
    },
    async list(res) {
      const found = await this.resolve(res, FT);
      return found === null ? [] : [{ id: FT, created: found.createdAt, ownedBy: "sailfin" }];
    },
  };

  before(async () => {
    server = await startTestServer(dialect, {
      SAILFIN_OPENAI_IDLE_STOP_SEC: String(IDLE_STOP_S), SAILFIN_OPENAI_DEPLOY_WAIT_SEC: "1", SAILFIN_OPENAI_IDLE_SWEEP_MS: "250",
    }, "local", { fineTunedModels: fineTuned });
    const python = await findPython();
    worker = new Worker({
      res: server.server.res, executor: new LocalExecutor({ python, graceMs: 5_000 }), id: "openai-serving", kinds: ["serve"],
      leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200, slots: { serving: 2 }, runtime: { device: "cpu", precision: "auto" },
      engines: { host: "127.0.0.1", ...engineLauncher({ python, graceMs: 5_000 }) },
    });
    await worker.start();
    await stageFolder(server, tiny.dir("llama"), "hub", "tiny-base");
    baseVersionId = (await importBaseModel(server, "tiny-base", { bucket: "hub", objectPath: "tiny-base" })).versionId;
    const tuned = await importModel(server, "tiny-tuned", { bucket: "hub", objectPath: "tiny-base" });
    assert.equal(tuned.version.status, "Ready");
    tunedVersionId = tuned.versionId;
    apiKey = (await v2Ok(server, "iam", "CreateApiKey", { description: "openai e2e" })).apiKey;
  });
  after(async () => { await worker?.stop(); await server?.close(); });

  const client = (key = pair, maxRetries = 12) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries });
  const servicesOf = async (versionId: string) => db().selectFrom("services").innerJoin("model_versions", "model_versions.num", "services.model_version_num")
    .select(["services.id", "services.url_suffix", "services.idle_stop_s"]).where("model_versions.id", "=", versionId).execute();
  const raw = (path: string, init: { method?: string; body?: unknown; key?: string } = {}) => fetch(`${server.url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { authorization: `Bearer ${init.key ?? pair}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const hi = [{ role: "user" as const, content: "say red" }];

  test("the first call starts a service and is told to retry (503, retry-after) while it loads; the SDK's retries get the answer", async () => {
    const first = await raw("/v1/chat/completions", { body: { model: FT, messages: hi } });
    assert.equal(first.status, 503);
    assert.equal(first.headers.get("retry-after"), "5");
    const error = ((await first.json()) as any).error;
    assert.equal(error.type, "server_error");
    assert.equal(error.param, "model");
    assert.match(error.message, /being loaded/);
    // Concurrent calls while it loads: still one service.
    const answers = await Promise.all([0, 1, 2].map(() => client().chat.completions.create({ model: FT, messages: hi, temperature: 0, max_completion_tokens: 4 })));
    for (const answer of answers) {
      assert.equal(answer.model, FT);
      assert.equal(answer.object, "chat.completion");
      assert.equal(answer.choices[0]!.message.role, "assistant");
      assert.ok(answer.usage!.completion_tokens >= 1 && answer.usage!.completion_tokens <= 4, JSON.stringify(answer.usage));
      assert.equal("flag" in answer.choices[0]!, false, "no Qianfan keys on /v1");
    }
    const services = await servicesOf(tunedVersionId);
    assert.deepEqual(services.map((s) => [s.url_suffix, s.idle_stop_s]), [[onDemandSuffix(tunedVersionId), IDLE_STOP_S]]);
  });

  test("later calls reuse it, streamed (with usage) and not, with an API key too; V2 DescribeService shows it", async () => {
    const [service] = await servicesOf(tunedVersionId);
    const stream = await client(apiKey).chat.completions.create({ model: FT, messages: hi, temperature: 0, max_completion_tokens: 4, stream: true, stream_options: { include_usage: true } });
    let finish: string | null = null;
    let usage: any = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.model, FT);
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) finish = c.finish_reason ?? finish;
    }
    assert.ok(chunks >= 2 && finish !== null && usage?.completion_tokens >= 1, `${chunks} chunks, ${finish}, ${JSON.stringify(usage)}`);
    const again = await client().chat.completions.create({ model: FT, messages: hi, temperature: 0, max_tokens: 2 });
    assert.equal(again.model, FT);
    assert.deepEqual((await servicesOf(tunedVersionId)).map((s) => s.id), [service!.id]);
    const described = await v2Ok(server, "service", "DescribeService", { serviceId: service!.id });
    assert.equal(described.endpoint, onDemandSuffix(tunedVersionId));
    assert.equal(described.runStatus, "Serving");
    // The service answers by its own name too, on /v1 as on /v2.
    const bySuffix = await client().chat.completions.create({ model: service!.url_suffix, messages: hi, max_tokens: 2 });
    assert.equal(bySuffix.model, service!.url_suffix);
  });

  test("idle past idle_stop_s, the sweeper stops it; the next call starts the same service again", async () => {
    const [service] = await servicesOf(tunedVersionId);
    const stopped = await pollUntil(() => v2Ok(server, "service", "DescribeService", { serviceId: service!.id }), (s) => s.runStatus === "Stopped", "idle stop", 30_000);
    assert.equal(stopped.runStatus, "Stopped");
    // The stop is the system's, in the run's events like any other stop.
    const events = await db().selectFrom("events").select(["actor", "to_state"]).where("object_id", "=", stopped.taskId).execute();
    assert.ok(events.some((e) => e.actor === "system"), JSON.stringify(events));
    const answer = await client().chat.completions.create({ model: FT, messages: hi, temperature: 0, max_tokens: 2 });
    assert.equal(answer.model, FT);
    assert.deepEqual((await servicesOf(tunedVersionId)).map((s) => s.id), [service!.id]);
  });

  test("a base model's name is served on demand too; a checkpoint still being published is loading; an unknown model is 404 model_not_found", async () => {
    // Three first calls at once: one service.
    const answers = await Promise.all([0, 1, 2].map(() => client().chat.completions.create({ model: "tiny-base", messages: hi, max_tokens: 2 })));
    for (const answer of answers) assert.equal(answer.model, "tiny-base");
    assert.equal((await servicesOf(baseVersionId)).length, 1);
    const loading = await raw("/v1/chat/completions", { body: { model: CKPT, messages: hi } });
    assert.equal(loading.status, 503);
    assert.match(((await loading.json()) as any).error.message, /being loaded/);
    for (const model of ["ft:nope:sailfin::zzz", "no-such-model"]) {
      const r = await raw("/v1/chat/completions", { body: { model, messages: hi } });
      assert.equal(r.status, 404);
      const body = (await r.json()) as any;
      assert.deepEqual([body.error.code, body.error.type, body.error.param], ["model_not_found", "invalid_request_error", "model"]);
    }
    const bad = await raw("/v1/chat/completions", { body: { model: FT, messages: [] } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.param, "messages");
  });

  test("Bearer AK:SK: accepted on chat (above) and /v1/models; a wrong secret reads as an unknown key", async () => {
    const list = await client(pair, 0).models.list();
    assert.ok(list.data.length >= 2);
    const wrong = await raw("/v1/models", { key: `${ADMIN.accessKey}:${"0".repeat(32)}` });
    const unknown = await raw("/v1/models", { key: `nosuchkey:${ADMIN.secretKey}` });
    const garbage = await raw("/v1/models", { key: "garbage" });
    for (const r of [wrong, unknown, garbage]) assert.equal(r.status, 401);
    const [w, u] = [(await wrong.json()) as any, (await unknown.json()) as any];
    assert.deepEqual([w.error.code, w.error.message, w.error.type], [u.error.code, u.error.message, u.error.type]);
    assert.equal(w.error.code, "invalid_api_key");
    assert.ok(!JSON.stringify(w).includes("0".repeat(32)), "the secret is not echoed");
    // A key whose policies do not grant the route: 403, whichever way it authenticates.
    const reader = await v2Ok(server, "iam", "CreateAccessKey", { policies: ["QianfanServiceReadAccessPolicy"] });
    const denied = await raw("/v1/models", { key: `${reader.accessKey}:${reader.secretKey}` });
    assert.equal(denied.status, 403);
  });

  test("/v1/models lists and retrieves fine-tuned and base models; an unknown one is 404 model_not_found", async () => {
    const list = await raw("/v1/models");
    const body = (await list.json()) as any;
    assert.equal(body.object, "list");
    assert.equal(body.has_more, false);
    const ids = body.data.map((m: any) => m.id);
    assert.ok(ids.includes(FT) && ids.includes("tiny-base") && ids.includes("tiny-tuned"), ids.join(","));
    for (const m of body.data) assert.deepEqual(Object.keys(m).sort(), ["created", "id", "object", "owned_by"]);
    const ft = await client(pair, 0).models.retrieve(FT);
    assert.deepEqual([ft.id, ft.object, ft.owned_by], [FT, "model", "sailfin"]);
    assert.ok(ft.created > 1_700_000_000);
    const base = await client(pair, 0).models.retrieve("tiny-base");
    assert.deepEqual([base.id, base.owned_by], ["tiny-base", "sailfin"]);
    const missing = await client(pair, 0).models.retrieve("ft:nope:sailfin::zzz").catch((e: unknown) => e as any);
    assert.equal(missing.status, 404);
    assert.equal(missing.error.code, "model_not_found");
  });

  test("DELETE /v1/models/{ft}: refused while an operator's service uses the version; then its on-demand service and version go, and the name is 404", async () => {
    const operator = await v2Ok(server, "service", "CreateService", { modelId: tunedVersionId, name: "operator", urlSuffix: "operator-svc" });
    const refused = await client(pair, 0).models.delete(FT).catch((e: unknown) => e as any);
    assert.equal(refused.status, 409, String(refused));
    assert.match(refused.error.message, /operator-svc/);
    await v2Ok(server, "service", "StopService", { serviceId: operator.serviceId });
    await pollUntil(() => v2Ok(server, "service", "DescribeService", { serviceId: operator.serviceId }), (s) => s.runStatus === "Stopped", "operator stopped");
    await pollUntil(async () => (await db().selectFrom("runs").select("status").where("service_num", "=",
      Number((await db().selectFrom("services").select("num").where("id", "=", operator.serviceId).executeTakeFirstOrThrow()).num)).execute()),
    (runs) => runs.every((r) => !["Queued", "Running"].includes(r.status)), "operator's run over");
    await v2Ok(server, "service", "DeleteService", { serviceId: operator.serviceId });
    const base = await client(pair, 0).models.delete("tiny-base").catch((e: unknown) => e as any);
    assert.equal(base.status, 400);

    const deleted = await client(pair, 0).models.delete(FT);
    assert.deepEqual(deleted, { id: FT, object: "model", deleted: true });
    assert.deepEqual(await servicesOf(tunedVersionId), []);
    assert.equal((await db().selectFrom("model_versions").select("id").where("id", "=", tunedVersionId).execute()).length, 0);
    const gone = await client(pair, 0).models.retrieve(FT).catch((e: unknown) => e as any);
    assert.equal(gone.status, 404);
    const chat = await raw("/v1/chat/completions", { body: { model: FT, messages: hi } });
    assert.equal(chat.status, 404);
    assert.equal(((await chat.json()) as any).error.code, "model_not_found");
    const again = await raw(`/v1/models/${FT}`, { method: "DELETE" });
    assert.equal(again.status, 404);
  });

  test("guesses at a secret through Bearer AK:SK are throttled with sign-in's: 429 past 10 failures from one address", async () => {
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) last = await raw("/v1/models", { key: `${ADMIN.accessKey}:wrong-${i}` });
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers.get("retry-after")) > 0);
    // The address waits, even with the right pair; an API key is no guess and still works.
    assert.equal((await raw("/v1/models")).status, 429);
    assert.equal((await raw("/v1/models", { key: apiKey })).status, 200);
  });
});

describe("a real OpenAI job's model and checkpoint answer on demand, and go when deleted (sqlite)", () => {
  let server: TestServer;
  let worker: Worker;
  const words = ["red", "blue", "green", "gold"];
  const line = (i: number) => JSON.stringify({ messages: [{ role: "user", content: `say ${words[i % 4]}` }, { role: "assistant", content: `${words[i % 4]} ${words[i % 4]}` }] });

  before(async () => {
    server = await startTestServer("sqlite", { SAILFIN_OPENAI_DEPLOY_WAIT_SEC: "90" });
    const python = await findPython();
    // One worker trains, publishes and serves.
    worker = new Worker({
      res: server.server.res, executor: new LocalExecutor({ python, graceMs: 5_000 }), id: "openai-all",
      leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200, slots: { serving: 2 }, runtime: { device: "cpu", precision: "auto" },
      engines: { host: "127.0.0.1", ...engineLauncher({ python, graceMs: 5_000 }) },
    });
    await worker.start();
    await stageFolder(server, tiny.dir("llama"), "hub", "tiny-real");
    await importBaseModel(server, "tiny-real", { bucket: "hub", objectPath: "tiny-real" });
  });
  after(async () => { await worker?.stop(); await server?.close(); });

  test("train, call the ft: model and its checkpoint, list, delete", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: `${ADMIN.accessKey}:${ADMIN.secretKey}`, maxRetries: 6 });
    const file = await client.files.create({ file: await toFile(Buffer.from(`${Array.from({ length: 16 }, (_, i) => line(i)).join("\n")}\n`), "train.jsonl"), purpose: "fine-tune" });
    const created = await client.fineTuning.jobs.create({
      model: "tiny-real", training_file: file.id, suffix: "use", method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } },
    });
    const job = await pollUntil(() => client.fineTuning.jobs.retrieve(created.id), (j) => ["succeeded", "failed", "cancelled"].includes(j.status), "job", 240_000);
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    const ft = job.fine_tuned_model!;

    const answer = await client.chat.completions.create({ model: ft, messages: [{ role: "user", content: "say red" }], temperature: 0, max_tokens: 4 });
    assert.equal(answer.model, ft);
    assert.ok(answer.usage!.completion_tokens >= 1);
    assert.ok((await client.models.list()).data.some((m) => m.id === ft && m.owned_by === "sailfin"));
    assert.equal((await client.models.retrieve(ft)).id, ft);

    // A checkpoint's name is callable too (the last one is the job's own version, served by the
    // same service; publishing an earlier one on first use reads as loading: the first suite).
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.ok(checkpoints.length >= 1);
    const name = checkpoints[0]!.fine_tuned_model_checkpoint;
    const fromCheckpoint = await client.chat.completions.create({ model: name, messages: [{ role: "user", content: "say blue" }], max_tokens: 2 });
    assert.equal(fromCheckpoint.model, name);
    assert.equal((await client.models.retrieve(name)).id, name);

    assert.deepEqual(await client.models.delete(ft), { id: ft, object: "model", deleted: true });
    const gone = await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: `${ADMIN.accessKey}:${ADMIN.secretKey}`, maxRetries: 0 })
      .chat.completions.create({ model: ft, messages: [{ role: "user", content: "say red" }] }).catch((e: unknown) => e as any);
    assert.equal(gone.status, 404);
    assert.equal(gone.error.code, "model_not_found");
    assert.ok(!(await client.models.list()).data.some((m) => m.id === ft));
  });
});
