import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { newId, nowIso } from "@sailfin/contract";
import type { Store } from "@sailfin/store";
import {
  claimRun, completeRun, createDataset, createModelSet, enqueueRun, executeDatasetImport, importModelVersion, requeueExpired, settleEndedRun,
  startDatasetImport, type EngineResources, type PublishRunSpec,
} from "@sailfin/engine";
import { loadServerConfig, openEngine } from "@sailfin/server";
import { Worker, startServerKindsWorker, workerSettingsFromEnv } from "@sailfin/worker";
import { createTestDatabase, startTestServer, testArtifactsEnv, testAxes, type TestArtifacts, type TestServer } from "./harness.js";
import { SseReader, type SseMessage } from "./fixtures/sse.js";
import { importDataset, SAMPLE_LINES, uploadObject } from "./fixtures/dataset-imports.js";
import { TINY, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * Issue 12: dataset and model imports are runs in the queue (`dataset-import`, `model-import`).
 * Their state changes are in the live event stream like any run's, a server without a training
 * worker still runs them, and an import whose worker lost its lease is finished by the next
 * holder exactly once: the first holder's late completion is fenced off. A run that ends without
 * success however it ends (out of attempts after its lease expired, a worker error) settles what
 * it was making: the import fails, a publish's version turns Fail.
 */

const lines = (n: number) => Array.from({ length: n }, (_, i) => SAMPLE_LINES.PromptResponse!(i)).join("\n");

/** Every message of a stream that ends (the run is over), `end` included. */
async function readAll(reader: SseReader): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for (;;) {
    const message = await reader.next();
    if (message === null) return out;
    if (message.event !== "progress") out.push(message);
  }
}

/** An engine with no worker running (the tests start the workers they need), on its own home and database. */
interface TestEngine {
  readonly res: EngineResources;
  close(): Promise<void>;
}

async function openTestEngine(dialect: string, artifacts: TestArtifacts): Promise<TestEngine> {
  const home = await mkdtemp(join(tmpdir(), "sailfin-import-runs-"));
  const database = dialect === "postgres" ? await createTestDatabase() : undefined;
  const stored = await testArtifactsEnv(artifacts);
  const config = loadServerConfig({
    flags: { home }, env: { SAILFIN_LOG_LEVEL: "silent", ...(database === undefined ? {} : { DATABASE_URL: database.url }), ...stored.env },
  });
  const { release } = stored;
  const { store: db, res }: { store: Store; res: EngineResources } = await openEngine(config);
  return {
    res,
    async close() {
      await db.close();
      await database?.drop();
      await rm(home, { recursive: true, force: true });
      release();
    },
  };
}

const transitions = (messages: SseMessage[]) =>
  messages.map((m) => (m.event === "state" ? `${m.data.from ?? "-"}>${m.data.to}` : `${m.event} ${m.data.status}`));

for (const { dialect, artifacts, label } of testAxes()) {
  describe(`imports are runs (${label})`, () => {
    let server: TestServer;
    let tiny: TinyModelFolders;
    before(async () => {
      server = await startTestServer(dialect, { SAILFIN_EVENTS_POLL_MS: "30" }, artifacts);
      tiny = await writeTinyModels({ llama: TINY });
    });
    after(async () => {
      await server?.close();
      await tiny?.remove();
    });

    test("an import's states are in the event stream, for a key that may read datasets", async () => {
      const good = await importDataset(server, { name: "streamed", format: "PromptResponse", files: [await uploadObject(server, "up", "s/a.jsonl", lines(3))] });
      const bad = await importDataset(server, { name: "rejected", format: "PromptResponse", files: [await uploadObject(server, "up", "s/b.jsonl", "not json\n")] });
      const reader = await server.admin.v2<{ accessKey: string; secretKey: string }>("iam", "CreateAccessKey", { policies: ["QianfanDataReadAccessPolicy"] });

      const imported = await SseReader.open(server.url, `/sailfin/v1/events/${good.taskId}`, { credentials: reader });
      assert.equal(imported.status, 200);
      const messages = await readAll(imported);
      assert.deepEqual(transitions(messages), ["->Queued", "Queued>Running", "Running>Succeeded", "end Succeeded"]);
      assert.match(messages[2]!.data.reason, /^imported 3 records into ds-/);

      const rejected = await readAll(await SseReader.open(server.url, `/sailfin/v1/events/${bad.taskId}`));
      assert.deepEqual(transitions(rejected), ["->Queued", "Queued>Running", "Running>Failed", "end Failed"]);
      assert.match(rejected[2]!.data.reason, /^user error on attempt 1 of 3: 1 invalid line$/);
      assert.equal((await server.admin.v2<{ importStatus: string }>("dataset", "DescribeImportTask", { taskId: bad.taskId })).importStatus, "Failed");
    });

    test("a model import's states are in the event stream as `import-<versionId>`", async () => {
      await stageFolder(server, tiny.dir("llama"), "hub", "streamed-llama");
      const { versionId, version } = await importModel(server, "streamed-model", { bucket: "hub", objectPath: "streamed-llama" });
      assert.equal(version.status, "Ready");
      const messages = await readAll(await SseReader.open(server.url, `/sailfin/v1/events/import-${versionId}`));
      assert.deepEqual(transitions(messages), ["->Queued", "Queued>Running", "Running>Succeeded", "end Succeeded"]);
      assert.equal(messages[2]!.data.reason, `imported ${versionId} (LlamaForCausalLM)`);
    });
  });

  describe(`an import whose worker lost its lease (${label})`, () => {
    let engine: TestEngine;
    let res: EngineResources;
    before(async () => { engine = await openTestEngine(dialect, artifacts); res = engine.res; });
    after(async () => { await engine?.close(); });

    test("is finished by the next worker exactly once; the first holder's late completion writes nothing", async () => {
      const actor = { accessKey: "test" };
      await res.artifacts.put("buckets/up/lease/a.jsonl", Readable.from([Buffer.from(`${lines(4)}\n`)]));
      const { version } = await createDataset(res, actor, { name: "lease", format: "PromptResponse", storageType: "sysStorage" });
      const { task } = await startDatasetImport(res, actor, { versionRef: version.id, versionField: "versionId", files: ["bos:/up/lease/a.jsonl"], filesField: "files" });

      // The first worker claims with a short lease, imports, and stalls before completing.
      const first = await claimRun(res.db, res.dialect, { owner: "stalled-worker", kinds: ["dataset-import"], leaseMs: 200 });
      assert.equal(first?.runId, task.id);
      const late = await executeDatasetImport(res, first!, new AbortController().signal, JSON.parse(first!.row.spec) as { importNum: number });
      assert.equal(late.kind, "imported");
      await sleep(300);

      // A second worker returns the expired run to the queue, claims it (attempt 2) and finishes it.
      const second = await startServerKindsWorker(res, { ...workerSettingsFromEnv({}), pollMs: 20 }, "second-worker");
      try {
        const deadline = Date.now() + 15_000;
        while ((await res.db.selectFrom("runs").select("status").where("id", "=", task.id).executeTakeFirstOrThrow()).status !== "Succeeded") {
          assert.ok(Date.now() < deadline, "the second worker did not finish the import");
          await sleep(20);
        }
      } finally {
        await second.stop();
      }

      assert.equal(late.kind === "imported" && await completeRun(res.db, first!, late.reason, { result: late.result, extra: late.settle }), false);
      const run = await res.db.selectFrom("runs").select(["status", "attempt", "lease_owner", "result"]).where("id", "=", task.id).executeTakeFirstOrThrow();
      assert.deepEqual({ status: run.status, attempt: run.attempt, leaseOwner: run.lease_owner }, { status: "Succeeded", attempt: 2, leaseOwner: null });
      const result = JSON.parse(run.result!);
      assert.deepEqual([result.records, result.errorCount], [4, 0]);
      assert.match(result.sha256, /^[0-9a-f]{64}$/);
      const events = await res.db.selectFrom("events").select(["object_kind", "actor", "from_state", "to_state"])
        .where("object_id", "in", [task.id, version.id]).orderBy("num").execute();
      assert.deepEqual(events.map((e) => `${e.object_kind} ${e.actor} ${e.from_state ?? "-"}>${e.to_state}`), [
        "datasetVersion test ->Created",
        "datasetImport test ->Running",
        "datasetVersion test Created>Importing",
        "run test ->Queued",
        "run stalled-worker Queued>Running",
        "run second-worker Running>Queued",
        "run second-worker Queued>Running",
        "run second-worker Running>Succeeded",
        "datasetVersion system Importing>Imported",
        "datasetImport system Running>Finished",
      ]);
      const stored = await res.db.selectFrom("dataset_versions").select(["state", "record_count", "data_path"]).where("id", "=", version.id).executeTakeFirstOrThrow();
      assert.deepEqual(stored, { state: "Imported", record_count: 4, data_path: `datasets/${version.id}/data.jsonl` });
    });
  });

  describe(`a run that ends for good settles what it was making (${label})`, () => {
    const actor = { accessKey: "test" };
    let engine: TestEngine;
    let res: EngineResources;
    before(async () => { engine = await openTestEngine(dialect, artifacts); res = engine.res; });
    after(async () => { await engine?.close(); });

    const runRow = (id: string) => res.db.selectFrom("runs").select(["status", "failure_kind", "failure_reason"]).where("id", "=", id).executeTakeFirstOrThrow();
    /** Until the run `id` is no longer Queued or Running. */
    async function waitEnded(id: string): Promise<string> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { status } = await runRow(id);
        if (status !== "Queued" && status !== "Running") return status;
        assert.ok(Date.now() < deadline, `run ${id} did not end`);
        await sleep(20);
      }
    }
    /** Claims the queued run `id` on its last attempt for a worker that then dies: its lease expires unrenewed. */
    async function dieOnLastAttempt(id: string, kind: "dataset-import" | "model-import" | "publish"): Promise<void> {
      await res.db.updateTable("runs").set({ max_attempts: 1 }).where("id", "=", id).execute();
      assert.equal((await claimRun(res.db, res.dialect, { owner: "dead-worker", kinds: [kind], leaseMs: 50 }))?.runId, id);
      await sleep(100);
    }
    /** Runs the server-kinds worker (its first claim requeues expired runs) until the run `id` has ended. */
    async function withImportWorker(id: string): Promise<string> {
      const worker = await startServerKindsWorker(res, { ...workerSettingsFromEnv({}), pollMs: 20 }, "next-worker");
      try {
        return await waitEnded(id);
      } finally {
        await worker.stop();
      }
    }
    const LEASE_EXPIRED = /^the worker holding the task stopped heartbeating \(lease expired at /;

    test("a dataset import out of attempts fails its task with the reason and leaves the version importable again", async () => {
      await res.artifacts.put("buckets/up/expired/a.jsonl", Readable.from([Buffer.from(`${lines(2)}\n`)]));
      const { version } = await createDataset(res, actor, { name: "expired", format: "PromptResponse", storageType: "sysStorage" });
      const start = () => startDatasetImport(res, actor, { versionRef: version.id, versionField: "versionId", files: ["bos:/up/expired/a.jsonl"], filesField: "files" });
      const { task } = await start();
      await dieOnLastAttempt(task.id, "dataset-import");

      assert.equal(await withImportWorker(task.id), "Failed");
      const imported = await res.db.selectFrom("dataset_imports").select(["status", "error", "finished_at"]).where("id", "=", task.id).executeTakeFirstOrThrow();
      assert.equal(imported.status, "Failed");
      assert.match(imported.error ?? "", LEASE_EXPIRED);
      assert.notEqual(imported.finished_at, null);
      const stored = await res.db.selectFrom("dataset_versions").select(["state", "import_progress", "data_path", "validation_report"]).where("id", "=", version.id).executeTakeFirstOrThrow();
      assert.deepEqual([stored.state, stored.import_progress, stored.data_path], ["ImportFailed", 100, null]);
      assert.match(JSON.parse(stored.validation_report!).error, LEASE_EXPIRED);
      const events = await res.db.selectFrom("events").select(["object_kind", "from_state", "to_state"])
        .where("object_id", "in", [task.id, version.id]).where("actor", "=", "system").orderBy("num").execute();
      assert.deepEqual(events.map((e) => `${e.object_kind} ${e.from_state}>${e.to_state}`), ["datasetVersion Importing>ImportFailed", "datasetImport Running>Failed"]);

      // Importable again: a new import runs to the end.
      const again = await start();
      assert.equal(await withImportWorker(again.task.id), "Succeeded");
      assert.equal((await res.db.selectFrom("dataset_versions").select("state").where("id", "=", version.id).executeTakeFirstOrThrow()).state, "Imported");
    });

    test("a model import out of attempts leaves its version Fail with the reason", async () => {
      await res.artifacts.put("buckets/hub/expired-model/config.json", Buffer.from("{}"));
      const set = await createModelSet(res, actor, { name: "expired-import", modelType: "Text2Text", nameField: "modelSetName" });
      const version = await importModelVersion(res, actor, { set, bucket: "hub", objectPath: "expired-model" });
      await dieOnLastAttempt(`import-${version.id}`, "model-import");

      assert.equal(await withImportWorker(`import-${version.id}`), "Failed");
      const row = await res.db.selectFrom("model_versions").select(["status", "fail_reason"]).where("id", "=", version.id).executeTakeFirstOrThrow();
      assert.equal(row.status, "Fail");
      assert.match(row.fail_reason ?? "", LEASE_EXPIRED);
    });

    /** A base version (Ready) and a Creating version with its queued `publish` run, as publishFromRun leaves them; one attempt. */
    async function queuedPublish(name: string): Promise<{ versionId: string; runId: string }> {
      const set = await createModelSet(res, actor, { name, modelType: "Text2Text", nameField: "modelSetName" });
      const now = nowIso();
      const insertVersion = (id: string, version: number, status: string) => res.db.insertInto("model_versions").values({
        id, set_num: set.num, version, description: "", source_type: status === "Ready" ? "Import" : "Train", source_run_num: null, source_step: null,
        source_comp_num: null, import_bucket: null, import_object: null, status, fail_reason: null, architecture: null, config_summary: null,
        artifact_path: status === "Ready" ? `models/${id}/` : null, size_bytes: 0, created_at: now, modified_at: now,
      }).returning("num").executeTakeFirstOrThrow();
      const baseVersionId = newId("modelVersion");
      await insertVersion(baseVersionId, 1, "Ready");
      const versionId = newId("modelVersion");
      const versionNum = Number((await insertVersion(versionId, 2, "Creating")).num);
      const spec: PublishRunSpec = {
        specVersion: 1, kind: "publish", versionId, versionNum, sourceRunId: "task-gone", sourceRunNum: 0, step: 4,
        checkpointPath: "runs/task-gone/checkpoints/step-4/", baseVersionId,
      };
      // Files for the run to stage (a remote store checks they are there before the runtime starts).
      await res.artifacts.put(`models/${baseVersionId}/config.json`, "{}");
      await res.artifacts.put(`${spec.checkpointPath}adapter_config.json`, "{}");
      const runId = `publish-${versionId}`;
      await enqueueRun(res.db, actor, { id: runId, kind: "publish", spec, maxAttempts: 1 });
      return { versionId, runId };
    }
    const versionRow = (id: string) => res.db.selectFrom("model_versions").select(["status", "fail_reason"]).where("id", "=", id).executeTakeFirstOrThrow();

    test("a publish out of attempts after its lease expired leaves its version Fail", async () => {
      const { versionId, runId } = await queuedPublish("expired-publish");
      await dieOnLastAttempt(runId, "publish");
      assert.deepEqual((await requeueExpired(res.db, "reaper", { onEnded: settleEndedRun })).map((r) => [r.id, r.to]), [[runId, "Failed"]]);
      const version = await versionRow(versionId);
      assert.equal(version.status, "Fail");
      assert.match(version.fail_reason ?? "", LEASE_EXPIRED);
    });

    test("a worker error on the last attempt fails the run and settles its kind's object", async () => {
      const { versionId, runId } = await queuedPublish("broken-executor");
      // An executor that cannot start anything: the attempt throws, past the kind's own outcome.
      const worker = new Worker({ res, id: "erring-worker", kinds: ["publish"], pollMs: 20, executor: { run: async () => { throw new Error("cannot spawn the runtime"); } } });
      await worker.start();
      try {
        assert.equal(await waitEnded(runId), "Failed");
      } finally {
        await worker.stop();
      }
      const run = await runRow(runId);
      assert.deepEqual([run.failure_kind, run.failure_reason], ["system", "worker error: cannot spawn the runtime"]);
      assert.deepEqual(await versionRow(versionId), { status: "Fail", fail_reason: "worker error: cannot spawn the runtime" });
    });
  });
}
