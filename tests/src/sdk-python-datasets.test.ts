import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { PythonSdk, okBody, okRef, pollPython, pyEnum, pythonSdkMissing, sdkExtraMissing } from "./python-sdk.js";
import { uploadObject } from "./fixtures/dataset-imports.js";
import { expectReachedRoutes } from "./sdk-python-coverage.js";
import {
  ID, expectPageShape, expectRequestId, expectV1DatasetCreated, expectV1DatasetInfo, expectV1DatasetStatus, expectV1Envelope,
  expectV2Dataset, expectV2DatasetVersion, expectV2ImportTask,
} from "./sdk-expect.js";

/**
 * Datasets through the official Python SDK (`qianfan==0.4.12.3`): the V1 `Data` helpers, the
 * `Data.V2` helpers, and the higher-level `qianfan.dataset.Dataset` / `QianfanDataSource` as far
 * as they can work against a self-hosted server. The typed helpers take the SDK's enums (they
 * call `.value`), passed as `pyEnum(...)`.
 */

const missing = pythonSdkMissing();
const lines = (tag: string) => ["你好", "what is sailfin?", "2+2"].map((q, i) => JSON.stringify([{ prompt: `${tag} ${q}`, response: [[`answer ${i}`]] }])).join("\n") + "\n";

for (const dialect of testDialects()) {
  describe(`official Python SDK: datasets (${dialect})`, { skip: missing ?? false }, () => {
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

    test("Data V1 helpers: create_bare_dataset, create_data_import_task, get_dataset_info, get_dataset_status_in_batch, release_dataset, delete_dataset", async () => {
      const uri = await uploadObject(server, "sdk-data", "v1/chat.jsonl", lines("v1"));
      const created = await py.helper("Data.create_bare_dataset", {
        name: "py_v1_set", data_set_type: pyEnum("DataSetType.TextOnly"), project_type: pyEnum("DataProjectType.Conversation"),
        template_type: pyEnum("DataTemplateType.NonSortedConversation"),
      });
      const body = okBody(created);
      expectV1Envelope(body, { datasetFamily: true });
      expectV1DatasetCreated(body.result, { name: "py_v1_set", versionId: 1, projectType: 20, templateType: 2000, dataType: 4 });
      assert.equal(body.result.importStatus, -1);
      assert.equal(body.result.releaseStatus, 0);
      assert.equal(body.result.storageInfo.storageId, "sailfin", "the platform's own storage (sysBos)");
      const datasetId: string = body.result.datasetId;
      const num: number = body.result.id;

      const imported = okBody(await py.helper("Data.create_data_import_task", {
        dataset_id: datasetId, is_annotated: true, import_source: pyEnum("DataSourceType.PrivateBos"), file_url: uri,
      }));
      expectV1Envelope(imported, { datasetFamily: true });
      assert.equal(imported.result, true);
      const info = await pollPython(() => py.helper("Data.get_dataset_info", { dataset_id: datasetId }),
        (b) => ![-1, 0, 1].includes(b.result.versionInfo.importStatus), "V1 import");
      expectV1Envelope(info, { datasetFamily: true });
      expectV1DatasetInfo(info.result, { name: "py_v1_set", id: num, datasetPK: datasetId, versionId: 1, importStatus: 2, releaseStatus: 0, entityCount: 3 });
      assert.equal(info.result.versionInfo.importErrorInfo.errorCount, 0);
      assert.equal(info.result.versionInfo.storageType, "sysBos");

      // Keyed by the ids as sent: the `ds-` string and the number (the SDK types it List[str]; V1 takes both).
      const statuses = okBody(await py.helper("Data.get_dataset_status_in_batch", { dataset_id_list: [datasetId, num] }));
      expectV1Envelope(statuses, { datasetFamily: true });
      assert.deepEqual(Object.keys(statuses.result).sort(), [datasetId, String(num)].sort());
      for (const entry of Object.values(statuses.result)) expectV1DatasetStatus(entry, { importStatus: 2, releaseStatus: 0, entityCount: 3 });

      assert.equal(okBody(await py.helper("Data.release_dataset", { dataset_id: datasetId })).result, true);
      const released = await pollPython(() => py.helper("Data.get_dataset_info", { dataset_id: num }),
        (b) => b.result.versionInfo.releaseStatus !== 1, "V1 release");
      expectV1DatasetInfo(released.result, { name: "py_v1_set", id: num, datasetPK: datasetId, versionId: 1, releaseStatus: 2 });
      assert.equal(released.result.versionInfo.releaseProgress, 100);

      const deleted = okBody(await py.helper("Data.delete_dataset", { dataset_id: datasetId }));
      expectV1Envelope(deleted, { datasetFamily: true });
      assert.deepEqual(deleted.result, { versionCount: 0 });
      const gone = await py.helper("Data.get_dataset_info", { dataset_id: datasetId });
      assert.equal(gone.ok, false);
      assert.equal(gone.type, "APIError", "HTTP 200 with error_code: the SDK raises before its dataset-family check");
      assert.equal(typeof gone.errorCode, "number");
    });

    test("Data V1 refusals: an unsupported template (the SDK's QuerySet) and plain ints where the helper wants enums", async () => {
      const querySet = await py.helper("Data.create_bare_dataset", {
        name: "py_v1_query", data_set_type: pyEnum("DataSetType.TextOnly"), project_type: pyEnum("DataProjectType.QuerySet"),
        template_type: pyEnum("DataTemplateType.QuerySet"),
      });
      assert.equal(querySet.ok, false);
      assert.equal(querySet.type, "APIError");
      assert.match(querySet.error!, /templateType/);
      assert.equal(querySet.sent?.[0]?.status, 200, "V1 business errors are HTTP 200");
      // The helper calls `.value` on its parameters: plain numbers fail inside the SDK, before any request.
      const ints = await py.helper("Data.create_bare_dataset", { name: "py_v1_ints", data_set_type: 4, project_type: 20, template_type: 2000 });
      assert.equal(ints.ok, false);
      assert.match(ints.error!, /has no attribute 'value'/);
      assert.deepEqual(ints.sent, []);
    });

    test("Data.V2 helpers: create, list (filter, pages), import task, version info, publish, new version, version list, delete", async () => {
      const uri = await uploadObject(server, "sdk-data", "v2/chat.jsonl", lines("v2"));
      const created = okBody(await py.helper("Data.V2.create_dataset", {
        dataset_name: "py_v2_set", dataset_format: pyEnum("V2.DatasetFormat.PromptResponse"), storage_type: pyEnum("V2.StorageType.SysStorage"),
      }));
      expectRequestId(created);
      expectV2Dataset(created.result, { datasetName: "py_v2_set", dataFormat: "PromptResponse", storageType: "sysStorage", versionCount: 1, latestVersion: 1 });
      assert.match(created.result.versionId, ID.dataset);
      assert.equal(created.result.version, 1);
      const { datasetId, versionId } = created.result as { datasetId: string; versionId: string };

      const other = okBody(await py.helper("Data.V2.create_dataset", {
        dataset_name: "py_v2_other", dataset_format: pyEnum("V2.DatasetFormat.Text"), storage_type: pyEnum("V2.StorageType.SysStorage"),
      })).result;
      const filtered = okBody(await py.helper("Data.V2.get_dataset_list", { max_keys: 100, filter: { datasetName: "py_v2_set" } }));
      expectRequestId(filtered);
      assert.deepEqual(filtered.result.datasets.map((d: any) => d.datasetId), [datasetId]);
      expectV2Dataset(filtered.result.datasets[0], { datasetId, datasetName: "py_v2_set", dataFormat: "PromptResponse", storageType: "sysStorage", versionCount: 1, latestVersion: 1 });
      expectPageShape(filtered.result.pageInfo);
      assert.equal(filtered.result.pageInfo.maxKeys, 100);
      const first = okBody(await py.helper("Data.V2.get_dataset_list", { max_keys: 1 })).result;
      assert.deepEqual(first.datasets.map((d: any) => d.datasetId), [other.datasetId], "newest first");
      expectPageShape(first.pageInfo, ID.dataset);
      assert.equal(first.pageInfo.isTruncated, true);
      const second = okBody(await py.helper("Data.V2.get_dataset_list", { max_keys: 1, marker: first.pageInfo.nextMarker })).result;
      assert.deepEqual(second.datasets.map((d: any) => d.datasetId), [datasetId]);
      assert.equal(second.pageInfo.marker, first.pageInfo.nextMarker);

      const taskId = okBody(await py.helper("Data.V2.create_dataset_version_import_task", { version_id: versionId, files: [uri] })).result;
      assert.match(taskId, ID.importTask);
      const task = await pollPython(() => py.helper("Data.V2.get_dataset_version_import_task_info", { task_id: taskId }),
        (b) => b.result.importStatus !== "Running", "V2 import");
      expectRequestId(task);
      expectV2ImportTask(task.result, { taskId, datasetId, versionId, files: [uri], importStatus: "Finished" });
      assert.equal(task.result.importErrorInfo.errorCount, 0);

      const version = okBody(await py.helper("Data.V2.get_dataset_version_info", { version_id: versionId }));
      expectRequestId(version);
      expectV2DatasetVersion(version.result, {
        datasetId, datasetName: "py_v2_set", versionId, version: 1, dataFormat: "PromptResponse", importStatus: "Finished", publishStatus: "Unpublished", sampleCount: 3,
      });
      assert.equal(okBody(await py.helper("Data.V2.publish_dataset_version", { version_id: versionId })).result, true);
      const published = await pollPython(() => py.helper("Data.V2.get_dataset_version_info", { version_id: versionId }),
        (b) => b.result.publishStatus !== "Publishing", "V2 publish");
      expectV2DatasetVersion(published.result, { datasetId, datasetName: "py_v2_set", versionId, version: 1, dataFormat: "PromptResponse", publishStatus: "Published" });

      const second2 = okBody(await py.helper("Data.V2.create_dataset_version", { dataset_id: datasetId, description: "second" }));
      expectRequestId(second2);
      expectV2DatasetVersion(second2.result, { datasetId, datasetName: "py_v2_set", version: 2, dataFormat: "PromptResponse", importStatus: "NotStarted", publishStatus: "Unpublished", sampleCount: 0 });
      assert.equal(second2.result.description, "second");
      const v2Id: string = second2.result.versionId;
      const page = okBody(await py.helper("Data.V2.get_dataset_version_list", { dataset_id: datasetId, max_keys: 1 }));
      expectRequestId(page);
      assert.deepEqual(page.result.versions.map((v: any) => v.versionId), [v2Id], "newest first");
      expectPageShape(page.result.pageInfo, ID.dataset);
      assert.equal(page.result.pageInfo.nextMarker, versionId);
      const all = okBody(await py.helper("Data.V2.get_dataset_version_list", { dataset_id: datasetId, page_reverse: true })).result;
      assert.deepEqual(all.versions.map((v: any) => v.version), [1, 2], "pageReverse: oldest first");
      for (const v of all.versions) expectV2DatasetVersion(v, { datasetId, datasetName: "py_v2_set", version: v.version, dataFormat: "PromptResponse" });

      assert.equal(okBody(await py.helper("Data.V2.delete_dataset_version", { version_id: v2Id })).result, true);
      assert.deepEqual(okBody(await py.helper("Data.V2.get_dataset_version_list", { dataset_id: datasetId })).result.versions.map((v: any) => v.versionId), [versionId]);
      assert.equal(okBody(await py.helper("Data.V2.delete_dataset", { dataset_id: other.datasetId })).result, true);
      assert.equal(okBody(await py.helper("Data.V2.delete_dataset", { dataset_id: datasetId })).result, true);
      const gone = await py.helper("Data.V2.get_dataset_version_info", { version_id: versionId });
      assert.equal(gone.ok, false);
      assert.equal(gone.status, 400, "a missing object is Qianfan's 400 InappropriateJSON naming the field");
      assert.match(gone.error!, /InappropriateJSON[\s\S]*param\[versionId\]/);

      // Data.V2.create_dataset calls `.value` on its format: a plain string fails inside the SDK.
      const plain = await py.helper("Data.V2.create_dataset", { dataset_name: "py_plain", dataset_format: "PromptResponse", storage_type: "sysStorage" });
      assert.match(plain.error!, /has no attribute 'value'/);
      assert.deepEqual(plain.sent, []);
    });

    test("qianfan.dataset.Dataset: load(bos_load_args) creates and imports, load(qianfan_dataset_id) reads it back, release_dataset publishes", async (t) => {
      await uploadObject(server, "sdk-data", "hl/chat.jsonl", lines("hl"));
      // create_from_bos_file imports `storage_id + storage_path + file_name`; with the platform's
      // storage (PublicBos) storage_id is not sent to create, so it can carry the `bos:/bucket` part.
      const load = await py.helper("qianfan.dataset.Dataset.load", {
        bos_load_args: {
          name: "py_hl_set", template_type: pyEnum("DataTemplateType.NonSortedConversation"), storage_type: pyEnum("DataStorageType.PublicBos"),
          storage_id: "bos:/sdk-data", storage_path: "/hl/", file_name: "chat.jsonl", is_data_annotated: true,
        },
      });
      if (sdkExtraMissing(t, load)) return;
      const loaded = okRef(load);
      assert.equal(loaded.value.__class__, "Dataset");
      const source = okRef(await py.onRef(loaded.ref, "inner_data_source_cache", {}, { call: false })).value;
      assert.equal(source.__class__, "QianfanDataSource");
      assert.match(source.id, ID.dataset);
      assert.equal(source.name, "py_hl_set");
      assert.equal(source.version, 1);
      assert.equal(source.storage_type, "sysBos");

      const reread = okRef(await py.helper("qianfan.dataset.Dataset.load", { qianfan_dataset_id: source.id }));
      const view = okRef(await py.onRef(reread.ref, "inner_data_source_cache", {}, { call: false })).value;
      for (const key of ["id", "group_id", "name", "version", "set_type", "project_type", "template_type", "storage_type"]) {
        assert.deepEqual(view[key], source[key], key);
      }
      assert.equal(view.info.versionInfo.importStatus, 2, "the import had finished before load returned");
      assert.equal(view.info.versionInfo.entityCount, 3);
      assert.equal(okRef(await py.onRef(reread.ref, "inner_data_source_cache.release_dataset")).value, true);
      const info = okBody(await py.helper("Data.get_dataset_info", { dataset_id: source.id }));
      assert.equal(info.result.versionInfo.releaseStatus, 2);
    });

    // Reading rows (Dataset.load(qianfan_dataset_id, is_download_to_local=True): dataset/export,
    // exportRecord, a zip download) is tested in sdk-python-exports.test.ts.

    test("every route this file declares was reached through the SDK", () => {
      expectReachedRoutes(py, "sdk-python-datasets.test.ts");
    });
  });
}
