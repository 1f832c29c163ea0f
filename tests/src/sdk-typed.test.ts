import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { nowIso, signRequest } from "@sailfin/contract";
import {
  SailfinApiError, SailfinClient, SailfinNetworkError, signRequestAsync,
  type DatasetVersionItem, type FetchLike, type KeyAuthOptions, type ModelVersionDetail,
} from "@sailfin/sdk";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { SAMPLE_LINES } from "./fixtures/dataset-imports.js";
import { TINY, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * The typed SDK (`@sailfin/sdk`) against a real server on both dialects: every namespace signed
 * and called through the real paths (uploads, imports, jobs, tasks, models, compression,
 * evaluations, exports, keys), marker pages walked by the async iterator, the retry policy
 * driven by an injected fetch that fails on purpose, and the typed error fields. No worker runs
 * here: tasks and compressions stay queued; the evaluation and its export are finished by
 * writing what the worker would (as eval-routes.test.ts does).
 */

const UUID = /^[0-9a-f-]{36}$/;
const FAST = { retryBaseDelayMs: 1, retryMaxDelayMs: 5 } as const;

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`typed SDK (${dialect})`, () => {
    let server: TestServer;
    let client: SailfinClient;
    const drain = () => server.server.res.background.drain();
    const sdk = (extra: Partial<KeyAuthOptions> = {}) =>
      new SailfinClient({ baseUrl: server.url, ...ADMIN, ...FAST, ...extra });

    /** Polls until `done` (background imports are drained first). */
    async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        await drain();
        const value = await read();
        if (done(value)) return value;
        if (Date.now() > deadline) throw new Error(`still waiting: ${JSON.stringify(value)}`);
        await sleep(10);
      }
    }

    // Made by the first tests, used by the later ones.
    let version: DatasetVersionItem;
    let model: ModelVersionDetail;
    let modelSetName = "";

    before(async () => {
      server = await startTestServer(dialect);
      // A key made through the SDK, so every later call is signed with a pair it created.
      const created = await sdk().keys.create({ policies: ["QianfanFullControlAccessPolicy"], description: "sdk test" });
      client = sdk({ accessKey: created.accessKey, secretKey: created.secretKey });
    });
    after(async () => { await server.close(); });

    test("the WebCrypto signer matches reference §3.4 vector A and the Node signer", async () => {
      const input = {
        accessKey: "AK_EXAMPLE", secretKey: "SK_EXAMPLE", method: "POST", path: "/v2/finetuning",
        query: { Action: "DescribeFineTuningJobs" },
        headers: { "x-bce-date": "2024-01-01T00:00:00Z", host: "qianfan.baidubce.com", "Content-Type": "application/json" },
        timestamp: "2024-01-01T00:00:00Z", expirationSeconds: 1800,
      };
      assert.equal(await signRequestAsync(input),
        "bce-auth-v1/AK_EXAMPLE/2024-01-01T00:00:00Z/1800/content-type;host;x-bce-date/014f28c6d6c46971f023cbb4270868f82d7eb09cb7a3e3532bcb398ffadaf71d");
      const odd = { ...input, path: "/sailfin/v1/objects/b/a b/ü.jsonl", query: { Action: "", x: "1 2" }, secretKey: "s€cret" };
      assert.equal(await signRequestAsync(odd), signRequest(odd));
    });

    test("keys: policies, list and delete", async () => {
      const policies = await client.keys.policies();
      assert.ok(policies.includes("QianfanReadAccessPolicy"));
      const reader = await client.keys.create({ policies: ["QianfanReadAccessPolicy"] });
      assert.match(reader.secretKey, /^[0-9a-f]{32}$/);
      assert.ok((await client.keys.list()).some((k) => k.accessKey === reader.accessKey && k.policies[0] === "QianfanReadAccessPolicy"));
      await client.keys.delete({ accessKey: reader.accessKey });
      assert.ok(!(await client.keys.list()).some((k) => k.accessKey === reader.accessKey));
    });

    test("datasets: upload, create, import, publish, describe and list", async () => {
      const jsonl = `${[0, 1, 2].map(SAMPLE_LINES.PromptResponse!).join("\n")}\n`;
      const uploaded = await client.datasets.upload({ bucket: "sdk", path: "data/train one.jsonl", body: jsonl });
      assert.equal(uploaded.uri, "bos:/sdk/data/train one.jsonl");
      assert.equal(uploaded.size, Buffer.byteLength(jsonl));
      const dataset = await client.datasets.create({ datasetName: "sdk-data", dataFormat: "PromptResponse", storageType: "sysStorage" });
      assert.equal(dataset.versionCount, 1);
      const taskId = await client.datasets.createImportTask({ versionId: dataset.versionId, files: [uploaded.uri] });
      version = await until(() => client.datasets.describeVersion({ versionId: dataset.versionId }), (v) => v.importStatus === "Finished" || v.importStatus === "Failed");
      assert.equal(version.importStatus, "Finished", JSON.stringify(version));
      assert.equal(version.sampleCount, 3);
      const importTask = await client.datasets.describeImportTask({ taskId });
      assert.deepEqual([importTask.taskId, importTask.versionId, importTask.files], [taskId, dataset.versionId, [uploaded.uri]]);
      await client.datasets.publishVersion({ versionId: dataset.versionId });
      version = await until(() => client.datasets.describeVersion({ versionId: dataset.versionId }), (v) => v.publishStatus !== "Publishing");
      assert.equal(version.publishStatus, "Published");
      const versions = await client.datasets.listVersions({ datasetId: dataset.datasetId }).toArray();
      assert.deepEqual(versions.map((v) => v.versionId), [dataset.versionId]);
      const listed = await client.datasets.list({ filter: { datasetName: "sdk-data" } }).toArray();
      assert.deepEqual(listed.map((d) => d.datasetId), [dataset.datasetId]);
    });

    test("models: upload a folder, import it, describe the set and the version", async () => {
      const dir = tiny.dir("llama");
      for (const name of await readdir(dir)) {
        const result = await client.models.upload({ bucket: "hub", path: `sdk-llama/${name}`, body: new Uint8Array(await readFile(join(dir, name))) });
        assert.match(result.sha256, /^[0-9a-f]{64}$/);
      }
      modelSetName = "sdk-llama";
      const setId = await client.models.createSet({ modelSetName, modelType: "Text2Text" });
      const created = await client.models.create({ modelSetId: setId, sourceType: "Import", importMeta: { bucket: "hub", objectPath: "sdk-llama" } });
      assert.equal(created.status, "Creating");
      model = await until(() => client.models.describe({ modelId: created.modelId }), (m) => m.status !== "Creating");
      assert.equal(model.status, "Ready", JSON.stringify(model));
      assert.equal(model.sourceInfo.sourceType, "Import");
      const set = await client.models.describeSet({ modelSetName });
      assert.deepEqual(set.modelIds, [created.modelId]);
      assert.ok((await client.models.listSets().toArray()).some((s) => s.modelSetId === setId && s.modelCount === 1));
      assert.deepEqual(await client.models.listSystemSets().toArray(), []);
    });

    test("jobs and tasks: create, quote, describe, metrics, stop; the iterator walks every page", async () => {
      assert.ok((await client.jobs.supportModels()).some((m) => m.model === modelSetName));
      const jobIds: string[] = [];
      for (let i = 0; i < 5; i++) jobIds.push((await client.jobs.create({ name: `sdk-job-${i}`, model: modelSetName, trainMode: "SFT" })).jobId);
      const seen: string[] = [];
      let pages = 0;
      const list = client.jobs.list({ model: modelSetName, maxKeys: 2 });
      for await (const page of list.pages()) {
        pages++;
        assert.ok(page.jobList.length <= 2);
      }
      for await (const job of list) seen.push(job.jobId);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...jobIds].reverse(), "every job once, newest first");
      const oldest = await client.jobs.list({ model: modelSetName, maxKeys: 2, pageReverse: true }).toArray(3);
      assert.deepEqual(oldest.map((j) => j.jobId), jobIds.slice(0, 3), "pageReverse pages oldest first; toArray stops at its limit");

      const body = {
        jobId: jobIds[0]!, parameterScale: "LoRA", hyperParameterConfig: { epoch: 1 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: version.versionId }], splitRatio: 20 },
      };
      const quote = await client.tasks.quote(body);
      assert.equal(quote.parameterScale, "LoRA");
      assert.ok(quote.totalSteps >= 1);
      const { taskId } = await client.tasks.create(body);
      const task = await client.tasks.describe({ taskId });
      assert.deepEqual([task.taskId, task.jobId, task.runStatus, task.datasetConfig.versions[0]?.versionId], [taskId, jobIds[0], "Waiting", version.versionId]);
      assert.deepEqual((await client.tasks.list({ jobId: jobIds[0]! }).toArray()).map((t) => t.taskId), [taskId]);
      assert.deepEqual(await client.tasks.metrics({ taskId }), { taskId, metrics: [], isTruncated: false });
      const points = [];
      for await (const point of client.tasks.allMetrics({ taskId })) points.push(point);
      assert.deepEqual(points, []);
      await client.tasks.stop({ taskId });
      assert.equal((await client.tasks.describe({ taskId })).runStatus, "Stopped");
      await client.tasks.delete({ taskId });
      await client.jobs.delete({ jobId: jobIds[4]! });
      assert.equal((await client.jobs.list({ model: modelSetName }).toArray()).length, 4);
    });

    test("compression: create, list, describe, cancel and delete", async () => {
      const targetSetId = await client.models.createSet({ modelSetName: "sdk-int8", modelType: "Text2Text" });
      const id = await client.compression.create({
        name: "int8", sourceModelId: model.modelId, modelSetId: targetSetId, config: { strategy: "Quantization", weight: "W8A16C16" },
      });
      const described = await client.compression.describe({ modelCompTaskId: id });
      assert.deepEqual([described.id, described.status, described.sourceModelId], [id, "creating", model.modelId]);
      assert.ok((await client.compression.list({ sourceModelId: model.modelId }).toArray()).some((t) => t.id === id));
      await client.compression.cancel({ modelCompTaskId: id });
      assert.equal((await client.compression.describe({ modelCompTaskId: id })).status, "stopped");
      await client.compression.delete({ modelCompTaskId: id });
    });

    test("evaluations and exports: create, describe, report, export and download the zip", async () => {
      const evalId = await client.evaluations.create({
        taskName: "sdk-eval", evalObjectType: "model",
        evalObjectConfig: { evalModelConfig: { versionId: version.versionId, evalModelConfigList: [{ modelId: model.modelId }] } },
        evalConfig: { evalMode: "rule" },
      });
      assert.equal((await client.evaluations.describe({ taskId: evalId })).state, "Queued");
      assert.ok((await client.evaluations.list({ keyFilter: "sdk-eval" }).toArray()).some((t) => t.taskId === evalId));
      await assert.rejects(client.evaluations.report({ taskId: evalId }), (e: unknown) => e instanceof SailfinApiError && e.message.includes("param[taskId]"));
      await finishEval(evalId);
      const report = await client.evaluations.report({ taskId: evalId });
      assert.deepEqual(report.reports.map((r) => [r.modelId, r.effectMetric.bleu4]), [[model.modelId, 0.5]]);

      const exportId = await client.exports.create({ evalId, storageType: "sysStorage", exportContent: ["prompt", "prediction"] });
      assert.equal((await client.exports.describe({ evalId })).exportTaskId, exportId);
      const zip = Buffer.from("PK sdk test bytes");
      await finishExport(exportId, zip);
      const done = await client.exports.describe({ exportTaskId: exportId });
      assert.equal(done.state, "Done");
      const file = await client.exports.download(done);
      assert.deepEqual(Buffer.from(file.bytes), zip);
      assert.equal(file.fileName, `${exportId}.zip`);
      assert.equal(file.contentType, "application/zip");
      // Streamed: the same bytes and headers, the body read by the caller.
      const streamed = await client.exports.stream(done);
      assert.deepEqual([streamed.size, streamed.fileName, streamed.contentType], [zip.length, `${exportId}.zip`, "application/zip"]);
      assert.deepEqual(Buffer.from(await new Response(streamed.body).arrayBuffer()), zip);
      const tampered = new URL(done.downloadUrl);
      const signature = tampered.searchParams.get("signature")!;
      tampered.searchParams.set("signature", `${signature.startsWith("x") ? "y" : "x"}${signature.slice(1)}`);
      await assert.rejects(client.exports.download(tampered.toString()), (e: unknown) =>
        e instanceof SailfinApiError && e.code === "AccessDenied" && e.httpStatus === 403 && e.attempts === 1);
      await assert.rejects(client.exports.stream(tampered.toString()), (e: unknown) => e instanceof SailfinApiError && e.code === "AccessDenied");

      await client.evaluations.delete({ taskId: evalId });
      await assert.rejects(client.evaluations.describe({ taskId: evalId }), SailfinApiError);
    });

    test("typed errors: a bad request, a wrong secret, a V1 error_code, and the raw escape hatches", async () => {
      const bad = await client.tasks.describe({ taskId: "task-000000000000" }).then(() => null, (e: unknown) => e);
      assert.ok(bad instanceof SailfinApiError, String(bad));
      assert.deepEqual([bad.name, bad.code, bad.httpStatus, bad.attempts], ["SailfinApiError", "InappropriateJSON", 400, 1]);
      assert.match(bad.requestId, UUID);
      assert.match(bad.message, /param\[taskId\] invalid/);

      const wrong = await sdk({ secretKey: "wrong" }).jobs.list().firstPage().then(() => null, (e: unknown) => e);
      assert.ok(wrong instanceof SailfinApiError);
      assert.deepEqual([wrong.code, wrong.httpStatus], ["SignatureDoesNotMatch", 400]);
      assert.match(wrong.requestId, UUID);

      const v1 = await client.callV1("/wenxinworkshop/finetune/jobDetail", { taskId: 999999, jobId: 999999 }).then(() => null, (e: unknown) => e);
      assert.ok(v1 instanceof SailfinApiError);
      assert.deepEqual([v1.code, v1.v1Code, v1.httpStatus], ["500001", 500001, 200]);
      assert.match(v1.requestId, /^\d+$/, "the V1 log_id");

      const raw = await client.call<{ policyList: string[] }>("iam", "DescribePolicies");
      assert.ok(raw.policyList.includes("QianfanFullControlAccessPolicy"));
      // A query in a V1 path is signed too (Python's `?Action=` on V1 routes).
      const v1Error = await client.callV1("/wenxinworkshop/modelrepo/modelDetail?Action=", { modelId: 999999 }).then(() => null, (e: unknown) => e);
      assert.ok(v1Error instanceof SailfinApiError && v1Error.v1Code !== undefined && v1Error.code !== "SignatureDoesNotMatch", String(v1Error));
      await assert.rejects(client.call("finetuning", "NoSuchAction"), (e: unknown) => e instanceof SailfinApiError && e.code === "InvalidAction" && e.httpStatus === 404);
    });

    describe("retries (an injected fetch that fails on purpose)", () => {
      /** Real fetch behind a script: each entry answers one call instead of the server (undefined: pass through). */
      function scripted(script: Array<(() => Response | Promise<Response>) | undefined>) {
        const calls: string[] = [];
        const fetch: FetchLike = async (url, init) => {
          calls.push(new URL(url).searchParams.get("Action") ?? new URL(url).pathname);
          const step = script.shift();
          return step === undefined ? globalThis.fetch(url, init as RequestInit) : step();
        };
        return { fetch, calls };
      }
      const v2Error = (status: number, code: string, headers: Record<string, string> = {}) => () =>
        new Response(JSON.stringify({ requestId: "00000000-0000-0000-0000-000000000000", code, message: code }), { status, headers: { "content-type": "application/json", ...headers } });
      const networkError = (code: string) => () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(code), { code }) }));

      test("a read retries on 503, 429 (with Retry-After) and a cut connection, then succeeds", async () => {
        const { fetch, calls } = scripted([v2Error(503, "ServiceUnavailable"), v2Error(429, "TooManyRequests", { "retry-after": "0" }), networkError("ECONNRESET")]);
        const policies = await sdk({ fetch }).keys.policies();
        assert.ok(policies.length > 0);
        assert.deepEqual(calls, Array(4).fill("DescribePolicies"));
      });

      test("a read gives up after `retries`, with the last error's fields and the attempt count", async () => {
        const { fetch, calls } = scripted([v2Error(500, "InternalError"), v2Error(502, "BadGateway"), v2Error(500, "InternalError")]);
        const error = await sdk({ fetch, retries: 2 }).keys.list().then(() => null, (e: unknown) => e);
        assert.ok(error instanceof SailfinApiError);
        assert.deepEqual([error.code, error.httpStatus, error.attempts, calls.length], ["InternalError", 500, 3, 3]);
        assert.equal(error.requestId, "00000000-0000-0000-0000-000000000000");
      });

      test("a create is retried only when the server provably did not process it", async () => {
        const before = (await client.jobs.list({ model: modelSetName }).toArray()).length;
        const create = (fetch: FetchLike) => sdk({ fetch }).jobs.create({ name: "retry-job", model: modelSetName, trainMode: "SFT" });
        // 429, 503 and a refused connection: nothing was done, so it goes again (and succeeds once).
        const refused = scripted([v2Error(429, "TooManyRequests"), v2Error(503, "ServiceUnavailable"), networkError("ECONNREFUSED")]);
        assert.match((await create(refused.fetch)).jobId, /^job-/);
        assert.equal(refused.calls.length, 4);
        // A 500 may come after the work: not sent twice.
        const internal = scripted([v2Error(500, "InternalError")]);
        const error = await create(internal.fetch).then(() => null, (e: unknown) => e);
        assert.ok(error instanceof SailfinApiError && error.code === "InternalError" && error.attempts === 1);
        assert.equal(internal.calls.length, 1);
        // Nor is a connection cut mid-flight.
        const reset = scripted([networkError("ECONNRESET")]);
        const cut = await create(reset.fetch).then(() => null, (e: unknown) => e);
        assert.ok(cut instanceof SailfinNetworkError && cut.attempts === 1, String(cut));
        assert.equal(reset.calls.length, 1);
        assert.equal((await client.jobs.list({ model: modelSetName }).toArray()).length, before + 1, "exactly one job was created");
      });

      test("Qianfan's retryable V1 codes: 18 (QPS limit) retries even a V1 create; 500001 does not retry", async () => {
        const v1 = (code: number) => () => new Response(JSON.stringify({ log_id: "123", error_code: code, error_msg: "x" }), { status: 200 });
        const created = () => new Response(JSON.stringify({ log_id: "124", result: { id: 7 } }), { status: 200 });
        const limited = scripted([v1(18), v1(336100), created]);
        assert.deepEqual(await sdk({ fetch: limited.fetch }).callV1("/wenxinworkshop/finetune/createTask", { name: "x" }), { id: 7 });
        assert.equal(limited.calls.length, 3);
        const invalid = scripted([v1(500001)]);
        const error = await sdk({ fetch: invalid.fetch }).callV1("/wenxinworkshop/finetune/jobDetail", {}).then(() => null, (e: unknown) => e);
        assert.ok(error instanceof SailfinApiError && error.v1Code === 500001 && error.attempts === 1);
      });

      test("an attempt that hangs times out and counts as a network failure; a dead port is a SailfinNetworkError", async () => {
        const hang: FetchLike = (_url, init) => new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
        const timedOut = await sdk({ fetch: hang, timeoutMs: 20, retries: 1 }).keys.list().then(() => null, (e: unknown) => e);
        assert.ok(timedOut instanceof SailfinNetworkError && timedOut.attempts === 2 && /timed out/.test(timedOut.message), String(timedOut));
        const dead = new SailfinClient({ baseUrl: "http://127.0.0.1:9", ...ADMIN, ...FAST, retries: 1 });
        const error = await dead.keys.list().then(() => null, (e: unknown) => e);
        assert.ok(error instanceof SailfinNetworkError, String(error));
        assert.equal(error.attempts, 2);
        const controller = new AbortController();
        controller.abort(new Error("stop now"));
        await assert.rejects(client.keys.list({ signal: controller.signal }), /stop now/);
      });
    });

    /** Makes a Queued evaluation look finished, as the worker leaves one (see eval-routes.test.ts). */
    async function finishEval(evalId: string): Promise<void> {
      const db = server.server.res.db;
      const run = await db.selectFrom("runs").selectAll().where("id", "=", evalId).executeTakeFirstOrThrow();
      const spec = JSON.parse(run.spec) as { units: Array<{ index: number; modelVersionNum: number }> };
      const result = {
        partly: false,
        units: spec.units.map((u) => ({
          index: u.index, state: "Done", message: "", samples: 2, failedSamples: 0, generatedTokens: 20, tokensPerSecond: 12.5, sizeBytes: 4096,
          effectMetric: { bleu4: 0.5 },
        })),
      };
      await db.updateTable("runs").set({ status: "Succeeded", progress: 100, started_at: nowIso(), finished_at: nowIso(), result: JSON.stringify(result) })
        .where("num", "=", run.num).execute();
    }

    async function finishExport(exportId: string, bytes: Buffer): Promise<void> {
      const res = server.server.res;
      const key = `exports/${exportId}/results.zip`;
      await res.artifacts.put(key, bytes);
      const result = { key, exportPath: `eval_result_export/${exportId}.zip`, fileName: `${exportId}.zip`, rows: 2, bytes: bytes.length };
      await res.db.updateTable("runs").set({ status: "Succeeded", progress: 100, finished_at: nowIso(), result: JSON.stringify(result) })
        .where("id", "=", exportId).execute();
    }
  });
}
