import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ChatCompletion } from "@baiducloud/qianfan";
import OpenAI from "openai";
import type { ChatTarget } from "@sailfin/engine";
import { findPython, type Worker } from "@sailfin/worker";
import { ADMIN, pollUntil, startTestServer, testArtifacts, v2Ok, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";
import { pythonSdkMissing } from "./python-sdk.js";

/**
 * A fine-tuned tiny model answers its training task through the chat routes: a tiny Llama is
 * trained by the real worker and runtime to answer "say W" with "W W W", published, and served by
 * the runtime's own `serve` engine (a real process, with a bearer key of its own); then greedy
 * calls through the official OpenAI Node and Python SDKs, the Qianfan Python SDK's V2 chat (which
 * fetches its bearer token itself) and its V1 `ChatCompletion(endpoint=…)`, the Qianfan JS SDK's
 * V2 `ChatCompletion` (its own token fetch too), streamed and not,
 * all answer the trained text. The service lookup is the test's own (the `services` slice serves
 * the real one): the name `skill` resolves to this version and this engine.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const WORDS = ["red", "blue", "green", "gold"];
const line = (w: string) => JSON.stringify([{ prompt: `say ${w}`, response: [[`${w} ${w} ${w}`]] }]);
const ENGINE_KEY = "engine-secret-for-tests-0001";

let tiny: TinyModelFolders;
before(async () => {
  tiny = await writeTinyModels({ llama: { ...TINY, hiddenSize: 64, intermediate: 128 } });
});
after(async () => { await tiny.remove(); });

/** Starts `python3 -m sailfin_runtime serve` on the model folder; resolves with its URL once its `ready` event came. */
async function startEngine(modelDir: string, keyFile: string): Promise<{ child: ChildProcess; url: string }> {
  const python = await findPython();
  const child = spawn(python, ["-m", "sailfin_runtime", "serve", "--model", modelDir, "--host", "127.0.0.1", "--port", "0",
    "--served-model-name", "skill-engine", "--api-key-file", keyFile, "--device", "cpu", "--max-batch-size", "4"], {
    cwd: join(root, "runtime"), env: { ...process.env, PYTHONPATH: join(root, "runtime") }, stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => { stderr += d.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (text) => {
      try {
        const event = JSON.parse(text) as { event?: string; url?: string };
        if (event.event === "ready" && typeof event.url === "string") resolve(event.url);
      } catch {
        // Not an event line.
      }
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr.slice(-2000)}`)));
  });
  return { child, url };
}

// The server reads the version's tokenizer from the store: in place (local), or fetched (S3).
for (const artifacts of testArtifacts()) describe(`a fine-tuned tiny model answers its training task through the chat routes (${artifacts})`, () => {
  let server: TestServer;
  let worker: Worker;
  let engine: { child: ChildProcess; url: string } | undefined;
  let target: ChatTarget | null = null;
  let keyDir: string;
  let apiKey = "";

  before(async () => {
    server = await startTestServer("sqlite", {}, artifacts, {
      findServingTarget: async (_res, model) => (model.toLowerCase() === "skill" ? target : null),
    });
    worker = await startTestWorker(server, "chat-worker");
    await stageFolder(server, tiny.dir("llama"), "hub", "tiny-chat");
    await importBaseModel(server, "tiny-chat", { bucket: "hub", objectPath: "tiny-chat" });
    const train = await releasedDataset(server, { name: "say-train", format: "PromptResponse", lines: Array.from({ length: 48 }, (_, i) => line(WORDS[i % 4]!)) });
    const { jobId } = await v2Ok(server, "finetuning", "CreateFineTuningJob", { name: "skill", model: "tiny-chat", trainMode: "SFT" });
    const { taskId } = await v2Ok(server, "finetuning", "CreateFineTuningTask", {
      jobId, parameterScale: "FullFineTuning",
      hyperParameterConfig: { epoch: 40, maxSeqLen: 128, batchSize: 8, learningRate: 0.005, loggingSteps: 5, warmupRatio: 0 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId: train.versionId }], splitRatio: 10 },
    });
    const task = await waitForTask(server, taskId, (t) => ["Done", "Failed", "Stopped"].includes(t.runStatus), 240_000);
    assert.equal(task.runStatus, "Done", JSON.stringify(task));
    const setId = await v2Ok(server, "model", "CreateCustomModelSet", { modelSetName: "skill-sft", modelType: "Text2Text" });
    const versionId = (await v2Ok(server, "model", "CreateCustomModel", { modelSetId: setId, sourceType: "Train", trainMeta: { taskId } })).modelId as string;
    await pollUntil(() => v2Ok(server, "model", "DescribeModel", { modelId: versionId }), (m) => m.status === "Ready", "publish");
    const row = await server.server.res.db.selectFrom("model_versions").select(["artifact_path"]).where("id", "=", versionId).executeTakeFirstOrThrow();
    const artifactPath = row.artifact_path ?? `models/${versionId}/`;
    // The engine reads a local folder: the store's own, or the version staged from S3.
    const modelDir = await server.server.res.files.input(artifactPath.endsWith("/") ? artifactPath : `${artifactPath}/`);

    keyDir = await mkdtemp(join(tmpdir(), "sailfin-engine-key-"));
    await writeFile(join(keyDir, "key"), ENGINE_KEY);
    await chmod(join(keyDir, "key"), 0o600);
    engine = await startEngine(modelDir, join(keyDir, "key"));
    target = { modelVersion: { id: versionId, artifactPath }, endpoint: { url: engine.url, apiKey: ENGINE_KEY, servedModelName: "skill-engine" } };
    apiKey = (await v2Ok(server, "iam", "CreateApiKey", { description: "e2e" })).apiKey;
  });
  after(async () => {
    engine?.child.kill("SIGTERM");
    await worker?.stop();
    await server?.close();
    if (keyDir !== undefined) await rm(keyDir, { recursive: true, force: true });
  });

  const pyEnv = () => ({
    PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp",
    QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey,
    QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_IAM_BASE_URL: server.url, QIANFAN_BASE_URL: server.url,
    SAILFIN_URL: server.url, SAILFIN_API_KEY: apiKey,
  });
  const python = async (script: string) => {
    const { stdout } = await run(`${root}.venv/bin/python`, ["-c", script], { env: pyEnv(), timeout: 120_000 });
    return JSON.parse(stdout.trim().split("\n").pop()!);
  };

  test("the OpenAI Node SDK, greedy, not streamed and streamed with usage", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v2`, apiKey, maxRetries: 0 });
    for (const w of WORDS) {
      const answer = await client.chat.completions.create({ model: "skill", messages: [{ role: "user", content: `say ${w}` }], temperature: 0, max_completion_tokens: 48 });
      assert.equal(answer.choices[0]!.message.content!.trim(), `${w} ${w} ${w}`);
      assert.equal(answer.choices[0]!.finish_reason, "stop");
      assert.equal(answer.object, "chat.completion");
      assert.ok(answer.usage!.prompt_tokens > 0 && answer.usage!.completion_tokens > 0);
      assert.equal(answer.usage!.total_tokens, answer.usage!.prompt_tokens + answer.usage!.completion_tokens);
    }
    const stream = await client.chat.completions.create({
      model: "SKILL", messages: [{ role: "user", content: [{ type: "text", text: "say gold" }] }], temperature: 0, stream: true, stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: any = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? "";
        finish = c.finish_reason ?? finish;
      }
    }
    assert.equal(text.trim(), "gold gold gold");
    assert.equal(finish, "stop");
    assert.ok(usage !== null && usage.completion_tokens > 0, "the usage chunk");
    // A short cap ends the answer early, as `length`.
    const cut = await client.chat.completions.create({ model: "skill", messages: [{ role: "user", content: "say red" }], temperature: 0, max_tokens: 1 });
    assert.equal(cut.choices[0]!.finish_reason, "length");
    assert.equal(cut.usage!.completion_tokens, 1);
  });

  test("the OpenAI Python SDK with an API key, streamed and not", async (t) => {
    const missing = pythonSdkMissing();
    if (missing !== null) return t.skip(missing);
    const out = await python([
      "import json, os",
      "from openai import OpenAI",
      "c = OpenAI(base_url=os.environ['SAILFIN_URL'] + '/v2', api_key=os.environ['SAILFIN_API_KEY'], max_retries=0)",
      "a = c.chat.completions.create(model='skill', messages=[{'role': 'user', 'content': 'say blue'}], temperature=0)",
      "s = c.chat.completions.create(model='skill', messages=[{'role': 'user', 'content': 'say green'}], temperature=0, stream=True)",
      "text = ''.join((ch.choices[0].delta.content or '') for ch in s if ch.choices)",
      "print(json.dumps({'plain': a.choices[0].message.content, 'stream': text}))",
    ].join("\n"));
    assert.equal(out.plain.trim(), "blue blue blue");
    assert.equal(out.stream.trim(), "green green green");
  });

  test("the Qianfan Python SDK: V2 chat on a bearer token it fetches itself, V1 ChatCompletion(endpoint=…), streamed and not", async (t) => {
    const missing = pythonSdkMissing();
    if (missing !== null) return t.skip(missing);
    const out = await python([
      "import json, qianfan",
      "v2 = qianfan.ChatCompletion(version=2)",
      "a = v2.do(model='skill', messages=[{'role': 'user', 'content': 'say red'}], temperature=0)",
      "s = v2.do(model='skill', messages=[{'role': 'user', 'content': 'say gold'}], temperature=0, stream=True)",
      "stream2 = ''.join((r.body['choices'][0]['delta'].get('content') or '') for r in s if r.body.get('choices'))",
      "v1 = qianfan.ChatCompletion(endpoint='skill')",
      "b = v1.do(messages=[{'role': 'user', 'content': 'say blue'}], temperature=0)",
      "s1 = v1.do(messages=[{'role': 'user', 'content': 'say green'}], temperature=0, stream=True)",
      "stream1 = ''.join(r.body.get('result', '') for r in s1)",
      "print(json.dumps({'v2': a.body['choices'][0]['message']['content'], 'v2stream': stream2, 'v1': b.body['result'], 'v1stream': stream1, 'v1usage': b.body['usage']}))",
    ].join("\n"));
    assert.equal(out.v2.trim(), "red red red");
    assert.equal(out.v2stream.trim(), "gold gold gold");
    assert.equal(out.v1.trim(), "blue blue blue");
    assert.equal(out.v1stream.trim(), "green green green");
    assert.ok(out.v1usage.total_tokens > 0);
  });

  test("the Qianfan JS SDK's V2 ChatCompletion, on a bearer token it fetches itself, streamed and not", async () => {
    // The JS SDK signs its token request with the environment's key pair and URL (reference §15.5).
    Object.assign(process.env, { QIANFAN_BEAR_TOKEN_URL: `${server.url}/v1/BCE-BEARER/token`, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey });
    const client = new ChatCompletion({
      QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey, QIANFAN_V2_BASE_URL: `${server.url}/v2/chat/completions`,
      version: "v2", ENABLE_OAUTH: false,
    });
    const answer = await client.chat({ messages: [{ role: "user", content: "say gold" }], temperature: 0 } as any, "skill") as any;
    assert.equal(answer.choices[0].message.content.trim(), "gold gold gold", JSON.stringify(answer));
    const stream = await client.chat({ messages: [{ role: "user", content: "say red" }], temperature: 0, stream: true } as any, "skill") as AsyncIterable<any>;
    let text = "";
    for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? "";
    assert.equal(text.trim(), "red red red");
  });

  test("a caller that hangs up mid-stream cancels its call; the next calls are answered", async () => {
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const r = await fetch(`${server.url}/v2/chat/completions`, {
        method: "POST", signal: controller.signal, headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ model: "skill", messages: [{ role: "user", content: "say blue" }], temperature: 1, stream: true, max_tokens: 2000 }),
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = r.body!.getReader();
      await reader.read();
      controller.abort();
    }
    const client = new OpenAI({ baseURL: `${server.url}/v2`, apiKey, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "skill", messages: [{ role: "user", content: "say blue" }], temperature: 0 });
    assert.equal(answer.choices[0]!.message.content!.trim(), "blue blue blue");
  });

  test("an engine that went away: 503 EngineUnavailable, retry-after", async () => {
    engine!.child.kill("SIGTERM");
    await new Promise((resolve) => engine!.child.once("exit", resolve));
    const r = await fetch(`${server.url}/v2/chat/completions`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: "skill", messages: [{ role: "user", content: "say red" }] }),
    });
    assert.equal(r.status, 503);
    assert.equal(r.headers.get("retry-after"), "5");
    assert.equal(((await r.json()) as any).error.code, "service_unavailable");
  });
});
