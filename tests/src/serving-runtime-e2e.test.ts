import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { findServingTarget } from "@sailfin/engine";
import { LocalExecutor, Worker, engineLauncher, findPython } from "@sailfin/worker";
import { pollUntil, startTestServer, v2Ok, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { TEST_LEASE_MS, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * Services on Sailfin's own engine (the runtime's `serve`, the default of a pool without an
 * operator engine): a version trained here (Train lineage, LoRA merged on publish) and the
 * imported base it was trained from are deployed side by side and answer `/v1/completions` from
 * the real engine process. SQLite only: the SQL of services runs on both dialects in
 * services-e2e.test.ts; this one spends its time in the runtime.
 */

const MODEL = "tiny-serve";
const RUNTIME_DIR = fileURLToPath(new URL("../../runtime/", import.meta.url));
/**
 * A pool whose operator engine is the runtime's vLLM-like command form: the path a vLLM or SGLang
 * template takes (argv filled in, the key in a 0600 file / the environment), with an engine
 * that can run here.
 */
const POOLS = (python: string) => JSON.stringify({
  pools: [
    { id: "local", executor: "local" },
    {
      id: "vllm-like", executor: "local",
      engine: {
        name: "sailfin-argv", env: { PYTHONPATH: RUNTIME_DIR }, readyTimeoutSec: 120,
        command: [python, "-m", "sailfin_runtime", "serve", "--model", "{modelDir}", "--host", "{host}", "--port", "{port}",
          "--served-model-name", "{servedModelName}", "--api-key-file", "{apiKeyFile}", "--device", "{device}"],
      },
    },
  ],
});
let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: { ...TINY, hiddenSize: 64, intermediate: 128 } }); });
after(async () => { await tiny.remove(); });

describe("services on the runtime's own engine (sqlite)", () => {
  let server: TestServer;
  let worker: Worker;
  let baseModelId = "";
  let tunedModelId = "";
  const v2ok = (resource: string, action: string, body: unknown) => v2Ok(server, resource, action, body);

  before(async () => {
    const python = await findPython();
    server = await startTestServer("sqlite", { SAILFIN_POOLS: POOLS(python) });
    const executor = new LocalExecutor({ python, graceMs: 10_000 });
    worker = new Worker({
      res: server.server.res, pools: [{ id: "local", executor }, { id: "vllm-like", executor }], id: "serve-runtime-worker",
      leaseMs: TEST_LEASE_MS, pollMs: 100, backoffMs: 200, slots: { serving: 2 }, runtime: { device: "cpu", precision: "auto" },
      engines: { host: "127.0.0.1", ...engineLauncher({ python, graceMs: 10_000 }) },
    });
    await worker.start();
    await stageFolder(server, tiny.dir("llama"), "hub", "tiny-serve");
    baseModelId = (await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "tiny-serve" })).versionId;
    const lines = Array.from({ length: 16 }, (_, i) => JSON.stringify([{ prompt: `say ${["red", "blue"][i % 2]}`, response: [["ok"]] }]));
    const train = await releasedDataset(server, { name: "serve-train", format: "PromptResponse", lines });
    const { jobId } = await v2ok("finetuning", "CreateFineTuningJob", { name: "serve-skill", model: MODEL, trainMode: "SFT" });
    const { taskId } = await v2ok("finetuning", "CreateFineTuningTask", {
      jobId, parameterScale: "LoRA",
      hyperParameterConfig: { epoch: 1, maxSeqLen: 128, batchSize: 4, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId: train.versionId }], splitRatio: 0 },
    });
    const task = await waitForTask(server, taskId, (t) => ["Done", "Failed", "Stopped"].includes(t.runStatus), 240_000);
    assert.equal(task.runStatus, "Done", JSON.stringify(task));
    const setId = await v2ok("model", "CreateCustomModelSet", { modelSetName: "serve-sft", modelType: "Text2Text" });
    tunedModelId = (await v2ok("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Train", trainMeta: { taskId } })).modelId;
    const published = await pollUntil(() => v2ok("model", "DescribeModel", { modelId: tunedModelId }), (m) => m.status !== "Creating", "publish");
    assert.equal(published.status, "Ready", JSON.stringify(published));
  });
  after(async () => { await worker?.stop(); await server?.close(); });

  test("a trained and an imported version serve side by side and answer token-id completions", async () => {
    const tuned = (await v2ok("service", "CreateService", { modelId: tunedModelId, name: "tuned", urlSuffix: "tuned" })).serviceId;
    const base = (await v2ok("service", "CreateService", { modelId: baseModelId, name: "base", urlSuffix: "base" })).serviceId;
    for (const id of [tuned, base]) {
      const s = await pollUntil(() => v2ok("service", "DescribeService", { serviceId: id }), (x) => !["New", "Deploying"].includes(x.runStatus), `${id} up`, 120_000);
      assert.equal(s.runStatus, "Serving", JSON.stringify(s));
    }
    for (const name of ["tuned", "base"]) {
      const target = (await findServingTarget(server.server.res, name))!;
      assert.ok(target.endpoint !== null, name);
      const response = await fetch(`${target.endpoint.url}/v1/completions`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${target.endpoint.apiKey}` },
        body: JSON.stringify({ model: name, prompt: [1, 5, 9, 3], max_tokens: 4, temperature: 0 }),
      });
      const body = await response.json() as any;
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.equal(body.model, name);
      assert.equal(body.usage.prompt_tokens, 4);
      assert.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 4, JSON.stringify(body.usage));
      const models = await (await fetch(`${target.endpoint.url}/v1/models`, { headers: { authorization: `Bearer ${target.endpoint.apiKey}` } })).json() as any;
      assert.equal(models.data[0].id, name);
      const anonymous = await fetch(`${target.endpoint.url}/v1/models`);
      assert.equal(anonymous.status, 401, "the engine takes only its own key");
    }
    // The chat route finds the service through the services domain (the server's default resolver).
    const apiKey = (await v2ok("iam", "CreateApiKey", { description: "serving e2e" })).apiKey;
    const client = new OpenAI({ baseURL: `${server.url}/v2`, apiKey, maxRetries: 0 });
    for (const model of ["tuned", "BASE", base]) {
      const answer = await client.chat.completions.create({ model, messages: [{ role: "user", content: "say red" }], temperature: 0, max_completion_tokens: 4 });
      assert.equal(answer.choices.length, 1);
      assert.ok(answer.usage!.completion_tokens >= 1, JSON.stringify(answer));
    }
    for (const id of [tuned, base]) await v2ok("service", "StopService", { serviceId: id });
    for (const id of [tuned, base]) {
      await pollUntil(() => v2ok("service", "DescribeService", { serviceId: id }), (x) => x.runStatus === "Stopped", `${id} stopped`);
    }
    // A stopped service is not called: the chat route says so instead of reaching a dead port.
    const refused = await client.chat.completions.create({ model: "tuned", messages: [{ role: "user", content: "say red" }] }).catch((e: unknown) => e as { status?: number });
    assert.ok((refused as { status?: number }).status !== undefined && (refused as { status: number }).status >= 400, String(refused));
  });

  test("a pool's operator engine command (the runtime's vLLM-like form here) serves the pool's services", async () => {
    const id = (await v2ok("service", "CreateService", { modelId: tunedModelId, name: "argv", urlSuffix: "argv", resourceConfig: { resourceId: "vllm-like" } })).serviceId;
    const s = await pollUntil(() => v2ok("service", "DescribeService", { serviceId: id }), (x) => !["New", "Deploying"].includes(x.runStatus), `${id} up`, 120_000);
    assert.equal(s.runStatus, "Serving", JSON.stringify(s));
    assert.equal(s.resourceConfig.resourceId, "vllm-like");
    const row = await server.server.res.db.selectFrom("service_endpoints").select(["engine", "api_key_enc"]).where("run_num", "=", (await findServingTarget(server.server.res, "argv"))!.service.runNum!).executeTakeFirstOrThrow();
    assert.equal(row.engine, "sailfin-argv");
    const target = (await findServingTarget(server.server.res, "argv"))!;
    assert.ok(!row.api_key_enc!.includes(target.endpoint!.apiKey!), "the key is stored sealed");
    const response = await fetch(`${target.endpoint!.url}/v1/completions`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${target.endpoint!.apiKey}` },
      body: JSON.stringify({ model: "argv", prompt: [1, 2], max_tokens: 2, temperature: 0 }),
    });
    assert.equal(response.status, 200, await response.text());
    await v2ok("service", "StopService", { serviceId: id });
    await pollUntil(() => v2ok("service", "DescribeService", { serviceId: id }), (x) => x.runStatus === "Stopped", `${id} stopped`);
  });
});
