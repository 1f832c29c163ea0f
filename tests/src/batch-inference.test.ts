import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ChatRenderer, loadTokenizer } from "@sailfin/data";
import type { Worker } from "@sailfin/worker";
import { NodeSdk } from "./node-sdk.js";
import { PythonSdk, okBody, pollPython, pythonSdkMissing } from "./python-sdk.js";
import * as nodeCoverage from "./sdk-node-coverage.js";
import * as pythonCoverage from "./sdk-python-coverage.js";
import { ADMIN, pollUntil, startTestServer, testAxes, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset, uploadObject, type ReleasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { startTestWorker } from "./fixtures/worker-fixtures.js";

/**
 * Batch inference (V2 `/v2/batchinference`, reference §16) on a real server, worker and
 * runtime: validation in the V2 envelope naming the field, the task object and its list
 * (filters, pages), the 20-task limit, stopping (queued and running), IAM, and a task over a
 * tiny dataset whose result file is checked line by line against the runtime's own greedy
 * generation of the same prompts (run here, straight through `python -m sailfin_runtime generate`).
 */

const PROMPTS = ["say red", "say blue", "what is two plus two", "name a colour", "hello"];
const line = (p: string, i: number) => JSON.stringify([{ prompt: p, response: [[`answer ${i}`]] }]);
const MAX_TOKENS = 8;
const RUNTIME_DIR = fileURLToPath(new URL("../../runtime/", import.meta.url));
const TASK_KEYS = [
  "taskId", "name", "description", "endpoint", "modelId", "inferenceParams", "runStatus", "inputBosUri", "outputBosUri", "outputDir",
  "inputTokenUsage", "outputTokenUsage", "progress", "totalCount", "creator", "createTime", "dataFormat",
];
/** End-of-turn markers the engine stops at besides eos (the same rule as runs/generate-answers.ts). */
const END_OF_TURN = ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>", "</s>"];

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

/** The runtime's greedy answers to `prompts` (one user turn each), decoded as batch inference decodes them. */
async function runtimeAnswers(modelDir: string, prompts: readonly string[]): Promise<Array<{ answer: string; promptTokens: number; completionTokens: number; finishReason: string }>> {
  const tok = await loadTokenizer(modelDir);
  const chat = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
  const dir = await mkdtemp(join(tmpdir(), "sailfin-batch-ref-"));
  try {
    const ids = prompts.map((p) => tok.encode(chat.render([{ role: "user", content: p }], true)));
    await writeFile(join(dir, "prompts.jsonl"), ids.map((x, i) => JSON.stringify({ id: String(i), ids: x })).join("\n") + "\n");
    const eos = [...new Set([tok.templateTokens.eos_token, ...END_OF_TURN].filter((t): t is string => t !== undefined)
      .map((t) => tok.tokenToId(t)).filter((id): id is number => id !== undefined))];
    await writeFile(join(dir, "spec.json"), JSON.stringify({
      version: 1, modelDir, promptsFile: join(dir, "prompts.jsonl"), outputFile: join(dir, "out.jsonl"), maxNewTokens: MAX_TOKENS,
      doSample: false, eosTokenIds: eos, batchSize: 16, device: "cpu", dtype: "auto",
    }));
    const r = spawnSync("/usr/bin/python3", ["-m", "sailfin_runtime", "generate", "--spec", join(dir, "spec.json")], {
      encoding: "utf8", env: { ...process.env, PYTHONPATH: RUNTIME_DIR },
    });
    assert.equal(r.status, 0, r.stderr);
    const rows = (await readFile(join(dir, "out.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { id: string; ids: number[]; finishReason: string; promptTokens: number });
    return rows.map((row) => ({
      answer: tok.decode(row.ids.filter((id) => !eos.includes(id))).trim(), promptTokens: row.promptTokens, completionTokens: row.ids.length, finishReason: row.finishReason,
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const { dialect, artifacts, label } of testAxes()) {
  describe(`batch inference (${label})`, () => {
    let server: TestServer;
    let worker: Worker | undefined;
    let modelId = "";
    let data: ReleasedDataset;
    let textData: ReleasedDataset;

    const ok = (action: string, body: unknown) => v2Ok(server, "batchinference", action, body);
    const raw = (action: string, body: unknown) => v2Raw(server, "batchinference", action, body);
    const create = (extra: Record<string, unknown> = {}) => ok("CreateBatchInferenceTask", {
      name: "batch", modelId, inputDatasetId: data.versionId, inferenceParams: { max_output_tokens: MAX_TOKENS }, ...extra,
    }).then((r: { taskId: string }) => r.taskId);
    const describeTask = (taskId: string) => ok("DescribeBatchInferenceTask", { taskId });
    async function refused(body: unknown, field: RegExp, status = 400): Promise<void> {
      const r = await raw("CreateBatchInferenceTask", body);
      assert.equal(r.status, status, r.text);
      assert.equal(typeof r.body.requestId, "string");
      assert.match(r.body.message, field, r.text);
    }

    before(async () => {
      server = await startTestServer(dialect, {}, artifacts);
      await stageFolder(server, tiny.dir("llama"), "hub", "tiny-batch");
      modelId = (await importBaseModel(server, "tiny-batch", { bucket: "hub", objectPath: "tiny-batch" })).versionId;
      data = await releasedDataset(server, { name: "batch-in", format: "PromptResponse", lines: PROMPTS.map(line) });
      textData = await releasedDataset(server, { name: "batch-text", format: "Text" });
    });
    after(async () => { await worker?.stop(); await server?.close(); });

    test("bad inputs are refused in the V2 envelope, naming the field", async () => {
      const base = { name: "bad", modelId, inputDatasetId: data.versionId, inferenceParams: {} };
      await refused({ ...base, modelId: "amv-doesnotexist" }, /modelId/);
      await refused({ ...base, inputDatasetId: "ds-doesnotexist" }, /inputDatasetId/);
      await refused({ ...base, endpoint: "https://x/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/bot" }, /modelId.*exactly one of modelId/);
      await refused({ name: "bad", inputDatasetId: data.versionId, inferenceParams: {} }, /modelId.*exactly one/);
      await refused({ ...base, modelId: undefined, endpoint: "no-such-service" }, /endpoint.*no service/);
      await refused({ ...base, inferenceParams: { temperature: 5 } }, /inferenceParams\.temperature/);
      await refused({ ...base, inferenceParams: { max_output_tokens: 0 } }, /inferenceParams\.max_output_tokens/);
      await refused({ ...base, inferenceParams: "hot" }, /inferenceParams/);
      await refused({ ...base, inputBosUri: "bos:/fixtures/x.jsonl" }, /inputBosUri.*exactly one/);
      await refused({ ...base, inputDatasetId: undefined }, /inputBosUri.*exactly one/);
      await refused({ ...base, inputDatasetId: undefined, inputBosUri: "bos:/fixtures/../etc/passwd" }, /inputBosUri/);
      await refused({ ...base, inputDatasetId: undefined, inputBosUri: "bos:/fixtures/nothing-here.jsonl" }, /inputBosUri/);
      await refused({ ...base, inputDatasetId: textData.versionId }, /inputDatasetId.*Text/);
      await refused({ ...base, outputBosUri: "bos:/mine/../out/" }, /outputBosUri/);
      await refused({ ...base, outputBosUri: "https://example.com/out/" }, /outputBosUri/);
      await refused({ ...base, afsConfig: { userName: "x" } }, /afsConfig/);
      await refused({ ...base, name: "" }, /name/);
      const none = await raw("DescribeBatchInferenceTask", { taskId: "infer-nothing" });
      assert.equal(none.status, 400);
      assert.match(none.body.message, /taskId.*does not exist/);
      assert.equal((await raw("StopBatchInferenceTask", {})).status, 400);
    });

    test("IAM: a service reader reads but cannot create or stop; the operator policy creates", async () => {
      const reader = await server.clientWith("QianfanServiceReadAccessPolicy");
      const body = { name: "iam", modelId, inputDatasetId: data.versionId, inferenceParams: {} };
      await assert.rejects(reader.v2("batchinference", "CreateBatchInferenceTask", body), /AccessDenied|service:write/);
      const dataOnly = await server.clientWith("QianfanDataFullControlAccessPolicy");
      await assert.rejects(dataOnly.v2("batchinference", "DescribeBatchInferenceTasks", {}), /AccessDenied|service:read/);
      const operator = await server.clientWith("QianfanServiceOperateAccessPolicy");
      const { taskId } = await operator.v2<{ taskId: string }>("batchinference", "CreateBatchInferenceTask", body);
      assert.equal((await reader.v2<any>("batchinference", "DescribeBatchInferenceTask", { taskId })).runStatus, "Queuing");
      await assert.rejects(reader.v2("batchinference", "StopBatchInferenceTask", { taskId }), /AccessDenied|service:write/);
      assert.equal(await operator.v2("batchinference", "StopBatchInferenceTask", { taskId }), true);
    });

    test("queued tasks: the task object, list filters and pages, stop, and the limit of 20 waiting tasks", async () => {
      const taskId = await create({ name: "shape", description: "a queued one", "completion_window": "24h" });
      assert.match(taskId, /^infer-[a-z0-9]{12}$/);
      const task = await describeTask(taskId);
      for (const key of TASK_KEYS) assert.ok(key in task, `${key} in ${JSON.stringify(task)}`);
      assert.equal(task.runStatus, "Queuing");
      assert.equal(task.modelId, modelId);
      assert.equal(task.endpoint, "");
      assert.equal(task.inputDatasetId, data.versionId);
      assert.deepEqual(task.inferenceParams, { max_output_tokens: MAX_TOKENS });
      assert.equal(task.totalCount, PROMPTS.length);
      assert.equal(task.progress, 0);
      assert.equal(task.outputDir, taskId);
      assert.equal(task.outputBosUri, "");
      assert.equal(task.outputUrl, undefined);
      assert.match(task.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(task.creator, "admintestkey0001");

      const more: string[] = [];
      // The IAM test's task is Stopped and this one Queuing: 19 more make the 20 waiting allowed.
      for (let i = 0; i < 19; i++) more.push(await create({ name: `fill-${i}` }));
      const r = await raw("CreateBatchInferenceTask", { name: "21st", modelId, inputDatasetId: data.versionId, inferenceParams: {} });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, "TaskRunningNumberExceedLimit");

      const all = await ok("DescribeBatchInferenceTasks", { maxKeys: 100, runStatus: [] });
      assert.equal(all.taskList.length, 21);
      assert.equal(all.pageInfo.isTruncated, false);
      assert.deepEqual(all.taskList.slice(0, 2).map((t: any) => t.taskId), [more[18], more[17]], "newest first");
      const page1 = await ok("DescribeBatchInferenceTasks", { maxKeys: 15, runStatus: [] });
      assert.equal(page1.taskList.length, 15);
      assert.equal(page1.pageInfo.isTruncated, true);
      const page2 = await ok("DescribeBatchInferenceTasks", { maxKeys: 15, marker: page1.pageInfo.nextMarker });
      assert.equal(page2.taskList.length, 6);
      assert.equal(page2.pageInfo.isTruncated, false);
      assert.equal(new Set([...page1.taskList, ...page2.taskList].map((t: any) => t.taskId)).size, 21);
      assert.equal((await ok("DescribeBatchInferenceTasks", { maxKeys: 100, runStatus: ["Queuing"] })).taskList.length, 20);
      assert.equal((await ok("DescribeBatchInferenceTasks", { runStatus: ["Stopped"] })).taskList.length, 1);
      assert.equal((await ok("DescribeBatchInferenceTasks", { runStatus: ["Expired"] })).taskList.length, 0);
      const bad = await raw("DescribeBatchInferenceTasks", { runStatus: ["Sleeping"] });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /runStatus/);

      for (const id of [taskId, ...more]) assert.equal(await ok("StopBatchInferenceTask", { taskId: id }), true);
      assert.equal((await describeTask(taskId)).runStatus, "Stopped");
      assert.equal(await ok("StopBatchInferenceTask", { taskId }), true, "stopping a stopped task again is fine");
      assert.equal((await ok("DescribeBatchInferenceTasks", { maxKeys: 100, runStatus: ["Stopped", "Failed"] })).taskList.length, 21);
    });

    test("endpoint: a service's V1 URL (suffix in any case) or its svco- id runs the version it serves", async () => {
      // A service row as the services slice's CreateService writes it (written here directly: this
      // test is about how batch inference reads the table, not about deploying).
      const db = server.server.res.db;
      const version = await db.selectFrom("model_versions").select(["num", "set_num"]).where("id", "=", modelId).executeTakeFirstOrThrow();
      const now = new Date().toISOString();
      await db.insertInto("services").values({
        id: "svco-batchtest0001", name: "bot", description: "", url_suffix: "my-bot", service_type: "chat", model_set_num: version.set_num,
        model_version_num: version.num, resource_config: "{}", pool_id: "local", run_num: null, desired: "Stopped", creator: "admintestkey0001",
        created_at: now, modified_at: now,
      }).execute();
      const url = `${server.url}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/My-Bot`;
      const byUrl = await create({ name: "by-url", modelId: undefined, endpoint: url });
      const task = await describeTask(byUrl);
      assert.equal(task.endpoint, url);
      assert.equal(task.modelId, "");
      const byId = await create({ name: "by-id", modelId: undefined, endpoint: "svco-batchtest0001" });
      const row = await db.selectFrom("runs").select("base_model_version_num").where("id", "=", byId).executeTakeFirstOrThrow();
      assert.equal(Number(row.base_model_version_num), Number(version.num), "the served version is the one that runs (and is pinned)");
      for (const taskId of [byUrl, byId]) await ok("StopBatchInferenceTask", { taskId });
    });

    test("a task runs: progress to Done, token usage, and the result file is the runtime's greedy generation line by line", async () => {
      worker = await startTestWorker(server, `batch-worker-${dialect}`);
      const taskId = await create({ name: "real" });
      const done = await pollUntil(() => describeTask(taskId), (t) => !["Queuing", "Running"].includes(t.runStatus), "batch inference", 180_000);
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      assert.equal(done.progress, PROMPTS.length);
      assert.match(done.finishTime, /Z$/);
      const response = await fetch(done.outputUrl);
      assert.equal(response.status, 200);
      const lines = (await response.text()).trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, PROMPTS.length);
      const expected = await runtimeAnswers(tiny.dir("llama"), PROMPTS);
      for (const [i, l] of lines.entries()) {
        assert.equal(l.index, i);
        assert.deepEqual(l.input, JSON.parse(line(PROMPTS[i]!, i)));
        assert.equal(l.reference, `answer ${i}`);
        assert.deepEqual(
          { answer: l.answer, promptTokens: l.promptTokens, completionTokens: l.completionTokens, finishReason: l.finishReason }, expected[i],
          `line ${i}`,
        );
        assert.ok(l.completionTokens >= 1 && l.completionTokens <= MAX_TOKENS);
      }
      assert.ok(lines.some((l) => l.answer !== ""), "the model said something");
      assert.equal(done.inputTokenUsage, expected.reduce((n, e) => n + e.promptTokens, 0));
      assert.equal(done.outputTokenUsage, expected.reduce((n, e) => n + e.completionTokens, 0));
      assert.equal(await (await fetch(`${done.outputUrl}x`)).status, 403, "a tampered link is refused");
      const stop = await raw("StopBatchInferenceTask", { taskId });
      assert.equal(stop.status, 409, "a finished task cannot be stopped");
      assert.match(stop.body.message, /Done/);
    });

    test("a bos:/ JSONL input (Messages and bare prompts) runs too", async () => {
      const uri = await uploadObject(server, "fixtures", "batch/input.jsonl", [
        JSON.stringify({ messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }] }),
        JSON.stringify({ prompt: "hello there" }),
      ].join("\n") + "\n");
      const { taskId } = await ok("CreateBatchInferenceTask", {
        name: "bos", modelId, inputBosUri: uri, outputBosUri: "bos:/results/batch", inferenceParams: { max_output_tokens: 4 },
      });
      const queued = await describeTask(taskId);
      assert.equal(queued.inputBosUri, uri);
      assert.equal(queued.outputBosUri, "bos:/results/batch");
      assert.equal(queued.dataFormat, "default");
      const done = await pollUntil(() => describeTask(taskId), (t) => !["Queuing", "Running"].includes(t.runStatus), "bos batch", 180_000);
      assert.equal(done.runStatus, "Done", JSON.stringify(done));
      assert.equal(done.totalCount, 2);
      const text = await (await fetch(done.outputUrl)).text();
      const stored = await server.server.res.artifacts.get(`buckets/results/batch/${done.outputDir}/results.jsonl`);
      const chunks: Buffer[] = [];
      for await (const chunk of stored as AsyncIterable<Buffer>) chunks.push(chunk);
      assert.equal(Buffer.concat(chunks).toString("utf8"), text, "the answers are at <outputBosUri>/<outputDir>/results.jsonl");
      const lines = text.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.input), [
        { messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }] }, { prompt: "hello there" },
      ]);
      assert.ok(lines.every((l) => !("reference" in l) && typeof l.answer === "string"));
    });

    test("stopping a running task ends it Stopped with no result", async () => {
      const many = await releasedDataset(server, { name: "batch-many", format: "PromptResponse", lines: Array.from({ length: 64 }, (_, i) => line(`count to ${i}`, i)) });
      const { taskId } = await ok("CreateBatchInferenceTask", { name: "long", modelId, inputDatasetId: many.versionId, inferenceParams: { max_output_tokens: 1024 } });
      await pollUntil(() => describeTask(taskId), (t) => t.runStatus !== "Queuing", "claim", 60_000);
      assert.equal(await ok("StopBatchInferenceTask", { taskId }), true);
      const stopping = await describeTask(taskId);
      assert.ok(["Stopping", "Stopped"].includes(stopping.runStatus), stopping.runStatus);
      const stopped = await pollUntil(() => describeTask(taskId), (t) => t.runStatus !== "Stopping", "stop", 60_000);
      assert.equal(stopped.runStatus, "Stopped", JSON.stringify(stopped));
      assert.equal(stopped.outputUrl, undefined);
      assert.equal(await server.server.res.artifacts.stat(`batch-inference/${taskId}/results.jsonl`), null);
    });

    test("the official SDKs: Node consoleAction and Python Data.*_offline_batch_inference_task", async (t) => {
      const sdk = new NodeSdk(server.url, ADMIN);
      const created = (await sdk.v2("batchinference", "CreateBatchInferenceTask", {
        name: "node", modelId, inputDatasetId: data.versionId, inferenceParams: { max_output_tokens: 2 },
      })).result as { taskId: string };
      await sdk.v2("batchinference", "DescribeBatchInferenceTask", { taskId: created.taskId });
      const listed = (await sdk.v2("batchinference", "DescribeBatchInferenceTasks", { runStatus: [] })).result as any;
      assert.equal(listed.taskList[0].taskId, created.taskId);
      await pollUntil(() => describeTask(created.taskId), (task) => task.runStatus === "Done", "node task", 120_000);
      await sdk.v2Error("batchinference", "StopBatchInferenceTask", { taskId: created.taskId });
      const queued = (await sdk.v2("batchinference", "CreateBatchInferenceTask", {
        name: "node-stop", modelId, inputDatasetId: data.versionId, inferenceParams: {},
      })).result as { taskId: string };
      await sdk.v2("batchinference", "StopBatchInferenceTask", { taskId: queued.taskId });
      nodeCoverage.expectReachedRoutes(sdk, "batch-inference.test.ts");

      const missing = pythonSdkMissing();
      if (missing !== null) {
        t.skip(missing);
        return;
      }
      const py = new PythonSdk({ ...ADMIN, baseUrl: server.url });
      try {
        const input = await uploadObject(server, "fixtures", "batch/py.jsonl", `${PROMPTS.slice(0, 2).map(line).join("\n")}\n`);
        const made = okBody(await py.helper("Data.create_offline_batch_inference_task", {
          name: "py", input_bos_uri: input, output_bos_uri: "bos:/results/py/", model_id: modelId, inference_params: { max_output_tokens: 2 },
        }));
        const taskId = made.result.taskId as string;
        assert.match(taskId, /^infer-/);
        const done = await pollPython(() => py.helper("Data.get_offline_batch_inference_task", { task_id: taskId }),
          (b) => !["Queuing", "Running"].includes(b.result.runStatus), "python task", 120_000);
        assert.equal(done.result.runStatus, "Done", JSON.stringify(done));
        assert.equal(done.result.outputDir, taskId);
        assert.notEqual(await server.server.res.artifacts.stat(`buckets/results/py/${taskId}/results.jsonl`), null);
        const list = okBody(await py.helper("Data.list_offline_batch_inference_task", { max_keys: 100 }));
        assert.ok(list.result.taskList.some((x: any) => x.taskId === taskId));
        const other = okBody(await py.helper("Data.create_offline_batch_inference_task", {
          name: "py-stop", input_bos_uri: input, output_bos_uri: "bos:/results/py/", model_id: modelId,
        }));
        okBody(await py.helper("Data.stop_offline_batch_inference_task", { task_id: other.result.taskId }));
        pythonCoverage.expectReachedRoutes(py, "batch-inference.test.ts");
      } finally {
        await py.close();
      }
    });
  });
}
