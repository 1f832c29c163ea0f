import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { PythonSdk, okBody, okRef, pollPython, pyEnum, pythonSdkMissing, sdkExtraMissing } from "./python-sdk.js";
import { importDataset, uploadObject } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { untarDigests, unzipText } from "./fixtures/archives.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";

/**
 * Dataset and model exports through the official Python SDK (`qianfan==0.4.12.3`): the V1
 * `Data` export helpers, `Data.V2`'s export tasks, `Model.V2`'s model export, and the SDK's own
 * dataset download (`qianfan.dataset.Dataset.load(qianfan_dataset_id=…)` then reading rows:
 * info → export → poll info.exportStatus → exportRecord → a bare GET of downloadUrl → unzip).
 */

const missing = pythonSdkMissing();
const CONTENT = `${["你好", "what is sailfin?", "2+2"].map((q, i) => JSON.stringify([{ prompt: q, response: [[`answer ${i}`]] }])).join("\n")}\n`;

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny?.remove(); });

for (const dialect of testDialects()) {
  describe(`official Python SDK: exports (${dialect})`, { skip: missing ?? false }, () => {
    let server: TestServer;
    let py: PythonSdk;
    before(async () => {
      server = await startTestServer(dialect);
      py = new PythonSdk({ ...ADMIN, baseUrl: server.url });
    });
    after(async () => {
      await py?.close();
      await server?.close();
    });

    test("Data V1: create_dataset_export_task, get_dataset_info (exportStatus), get_dataset_export_records, GET downloadUrl, get_dataset_import_error_detail", async () => {
      const uri = await uploadObject(server, "py-exp", "v1/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "py_v1_export", format: "PromptResponse", files: [uri] });
      const created = okBody(await py.helper("Data.create_dataset_export_task", {
        dataset_id: data.versionId, export_destination_type: pyEnum("DataExportDestinationType.PlatformBos"),
      }));
      assert.equal(created.result, true);
      const info = await pollPython(() => py.helper("Data.get_dataset_info", { dataset_id: data.versionId }),
        (b) => [2, 3].includes(b.result.versionInfo.exportStatus), "V1 export");
      assert.equal(info.result.versionInfo.exportStatus, 2);
      assert.equal(info.result.versionInfo.exportRecordCount, 1);
      const records = okBody(await py.helper("Data.get_dataset_export_records", { dataset_id: data.versionId })).result;
      assert.equal(records.length, 1);
      assert.equal(records[0].status, 2);
      assert.equal(records[0].recordNum, 3);
      const download = await fetch(records[0].downloadUrl);
      assert.equal(download.status, 200);
      assert.deepEqual(await unzipText(new Uint8Array(await download.arrayBuffer())), { "py_v1_export_V1.jsonl": CONTENT });

      const badUri = await uploadObject(server, "py-exp", "v1/bad.jsonl", `${CONTENT}{"x": 1}\n`);
      const bad = await importDataset(server, { name: "py_bad_import", format: "PromptResponse", files: [badUri] });
      const detail = okBody(await py.helper("Data.get_dataset_import_error_detail", { dataset_id: bad.versionId, error_code: 1 })).result;
      assert.deepEqual(detail.content.map((c: any) => [c.sequence, c.textLocation, c.sampleName]), [[1, 4, "bad.jsonl"]]);
    });

    test("Data.V2: create_dataset_version_export_task, get_dataset_version_export_task_info", async () => {
      const uri = await uploadObject(server, "py-exp", "v2/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "py_v2_export", format: "PromptResponse", files: [uri] });
      const taskId = okBody(await py.helper("Data.V2.create_dataset_version_export_task", {
        version_id: data.versionId, storage_type: pyEnum("V2.StorageType.SysStorage"),
      })).result;
      assert.match(taskId, /^task-/);
      const done = await pollPython(() => py.helper("Data.V2.get_dataset_version_export_task_info", { task_id: taskId }),
        (b) => b.result.exportStatus !== "Exporting", "V2 export");
      assert.equal(done.result.exportStatus, "ExportFinished");
      assert.equal(done.result.progress, "100%");
      assert.equal(done.result.sampleCount, 3);
      const download = await fetch(done.result.downloadUrl);
      assert.deepEqual(await unzipText(new Uint8Array(await download.arrayBuffer())), { "py_v2_export_V1.jsonl": CONTENT });

      const toBucket = okBody(await py.helper("Data.V2.create_dataset_version_export_task", {
        version_id: data.versionId, storage_type: pyEnum("V2.StorageType.Bos"), storage_path: "bos:/py-out/exports/",
      })).result;
      const inBucket = await pollPython(() => py.helper("Data.V2.get_dataset_version_export_task_info", { task_id: toBucket }),
        (b) => b.result.exportStatus !== "Exporting", "V2 bucket export");
      assert.match(inBucket.result.storagePath, /^bos:\/py-out\/exports\/py_v2_export_V1_\d+\.zip$/);
    });

    test("Model.V2: create_model_export_model, describe_model_export_model; the tar equals the version's folder", async () => {
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      const model = await importBaseModel(server, "py_export_llama", { bucket: "hub", objectPath: "llama/" });
      const before = okBody(await py.helper("Model.V2.describe_model_export_model", { model_id: model.versionId })).result;
      assert.deepEqual(before, { hasRecord: false });
      const created = okBody(await py.helper("Model.V2.create_model_export_model", { model_id: model.versionId })).result;
      assert.match(created.exportId, /^amexp-/);
      const done = await pollPython(() => py.helper("Model.V2.describe_model_export_model", { model_id: model.versionId }),
        (b) => b.result.status !== "Doing", "model export");
      assert.equal(done.result.status, "Done");
      const bytes = new Uint8Array(await (await fetch(done.result.downloadUrl)).arrayBuffer());
      assert.equal(done.result.md5, createHash("md5").update(bytes).digest("hex"));
      assert.equal(done.result.fileSize, bytes.length);
      const digests = await untarDigests(bytes);
      assert.ok(Object.keys(digests).includes(`${model.versionId}/config.json`), JSON.stringify(Object.keys(digests)));
    });

    test("qianfan.dataset.Dataset.load(qianfan_dataset_id, is_download_to_local) downloads the rows through export and exportRecord", async (t) => {
      const uri = await uploadObject(server, "py-exp", "hl/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "py_hl_export", format: "PromptResponse", files: [uri] });
      const loaded = await py.helper("qianfan.dataset.Dataset.load", { qianfan_dataset_id: data.versionId, is_download_to_local: true });
      if (sdkExtraMissing(t, loaded)) return;
      const dataset = okRef(loaded);
      const paths = (loaded.sent ?? []).map((s) => new URL(s.url).pathname);
      assert.ok(paths.includes("/wenxinworkshop/dataset/export") && paths.includes("/wenxinworkshop/dataset/exportRecord"), JSON.stringify(paths));
      const rows = okRef(await py.onRef(dataset.ref, "list", {})).value;
      assert.equal(JSON.stringify(rows).includes("what is sailfin?"), true, JSON.stringify(rows));
    });

    test("every route this file declares was reached through the SDK", () => {
      expectReachedRoutes(py, "sdk-python-exports.test.ts");
    });
  });
}
