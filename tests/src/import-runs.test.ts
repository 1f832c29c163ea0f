import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Store } from "@sailfin/store";
import {
  claimRun, completeRun, createDataset, executeDatasetImport, startDatasetImport, type EngineResources,
} from "@sailfin/engine";
import { loadServerConfig, openEngine } from "@sailfin/server";
import { startServerKindsWorker, workerSettingsFromEnv } from "@sailfin/worker";
import { createTestDatabase, startTestServer, testDialects, type TestServer } from "./harness.js";
import { SseReader, type SseMessage } from "./fixtures/sse.js";
import { importDataset, SAMPLE_LINES, uploadObject } from "./fixtures/dataset-imports.js";
import { TINY, importModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * Issue 12: dataset and model imports are runs in the queue (`dataset-import`, `model-import`).
 * Their state changes are in the live event stream like any run's, a server without a training
 * worker still runs them, and an import whose worker lost its lease is finished by the next
 * holder exactly once: the first holder's late completion is fenced off.
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

const transitions = (messages: SseMessage[]) =>
  messages.map((m) => (m.event === "state" ? `${m.data.from ?? "-"}>${m.data.to}` : `${m.event} ${m.data.status}`));

for (const dialect of testDialects()) {
  describe(`imports are runs (${dialect})`, () => {
    let server: TestServer;
    let tiny: TinyModelFolders;
    before(async () => {
      server = await startTestServer(dialect, { SAILFIN_EVENTS_POLL_MS: "30" });
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

  describe(`an import whose worker lost its lease (${dialect})`, () => {
    let home: string;
    let drop: (() => Promise<void>) | undefined;
    let store: Store;
    let res: EngineResources;
    before(async () => {
      home = await mkdtemp(join(tmpdir(), "sailfin-import-runs-"));
      const database = dialect === "postgres" ? await createTestDatabase() : undefined;
      drop = database?.drop;
      const config = loadServerConfig({
        flags: { home }, env: { SAILFIN_LOG_LEVEL: "silent", ...(database === undefined ? {} : { DATABASE_URL: database.url }) },
      });
      ({ store, res } = await openEngine(config));
    });
    after(async () => {
      await store?.close();
      await drop?.();
      await rm(home, { recursive: true, force: true });
    });

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
      const stored = await res.db.selectFrom("dataset_versions").select(["import_status", "record_count", "data_path"]).where("id", "=", version.id).executeTakeFirstOrThrow();
      assert.deepEqual(stored, { import_status: 2, record_count: 4, data_path: `datasets/${version.id}/data.jsonl` });
    });
  });
}
