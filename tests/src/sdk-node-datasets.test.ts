import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { NodeSdk, pollSdk } from "./node-sdk.js";
import { uploadObject } from "./fixtures/dataset-imports.js";
import { expectReachedRoutes } from "./sdk-node-coverage.js";
import {
  ID, expectPageShape, expectV1DatasetCreated, expectV1DatasetInfo, expectV1DatasetStatus, expectV2Dataset, expectV2DatasetVersion,
  expectV2ImportTask,
} from "./sdk-expect.js";

/**
 * Datasets through the official Node SDK's `consoleAction`, both dialects: the V1 family
 * (`/wenxinworkshop/dataset/*`, whose envelope adds `status`/`success` and whose errors add
 * `status: 400, success: false`) and V2 `/v2/dataset`. Imports and releases run in the server's
 * background; no worker is needed.
 */

const lines = (tag: string) => ["你好", "what is sailfin?", "2+2"].map((q, i) => JSON.stringify([{ prompt: `${tag} ${q}`, response: [[`answer ${i}`]] }])).join("\n") + "\n";
const DATASET = "/wenxinworkshop/dataset";

for (const dialect of testDialects()) {
  describe(`official Node SDK consoleAction: datasets (${dialect})`, () => {
    let server: TestServer;
    let sdk: NodeSdk;
    before(async () => {
      server = await startTestServer(dialect);
      sdk = new NodeSdk(server.url, ADMIN);
    });
    after(async () => { await server?.close(); });

    test("V1: create (sysBos, usrBos, a second version), import, info, statusList, release, delete", async () => {
      const uri = await uploadObject(server, "node-data", "v1/chat.jsonl", lines("v1"));
      const created = (await sdk.v1(`${DATASET}/create`, { name: "node_v1_set", projectType: 20, templateType: 2000, dataType: 4, storageType: "sysBos", remark: "v1" })).result;
      expectV1DatasetCreated(created, { name: "node_v1_set", versionId: 1, projectType: 20, templateType: 2000, dataType: 4 });
      assert.equal(created.importStatus, -1, "nothing imported yet");
      assert.equal(created.releaseStatus, 0);
      assert.equal(created.remark, "v1");
      assert.deepEqual(created.storageInfo, { storageId: "sailfin", storageName: "sailfin", storagePath: `/datasets/${created.datasetId}/`, rawStoragePath: "", region: "local" });
      const datasetId: string = created.datasetId;
      const num: number = created.id;

      assert.equal((await sdk.v1(`${DATASET}/import`, { datasetId, annotated: true, importFrom: 1, files: [uri] })).result, true);
      const info = (await pollSdk(() => sdk.v1(`${DATASET}/info`, { datasetId }), (b) => ![-1, 0, 1].includes(b.result.versionInfo.importStatus), "V1 import")).result;
      expectV1DatasetInfo(info, { name: "node_v1_set", id: num, datasetPK: datasetId, versionId: 1, importStatus: 2, releaseStatus: 0, entityCount: 3 });
      const v = info.versionInfo;
      assert.equal(v.importErrorInfo.errorCount, 0);
      assert.equal(v.importErrorInfo.records, 3);
      assert.deepEqual(v.importErrorInfo.errors, []);
      assert.equal(v.importRecordCount, 1);
      assert.equal(v.storageType, "sysBos");
      assert.equal(v.releaseStoragePath, "");
      assert.equal(v.releaseTime, "0000-00-00 00:00:00");
      assert.equal(v.contentHash, "", "the hash is fixed at release");
      assert.equal(v.memorySizeBytes, Buffer.byteLength(lines("v1")), "the bytes imported");
      assert.equal(v.characterCount > 0, true);

      // Keyed by the ids as sent: the `ds-` string and the number.
      const statuses = (await sdk.v1(`${DATASET}/statusList`, { datasetIds: [datasetId, num] })).result;
      assert.deepEqual(Object.keys(statuses).sort(), [datasetId, String(num)].sort());
      for (const entry of Object.values(statuses)) expectV1DatasetStatus(entry, { importStatus: 2, releaseStatus: 0, entityCount: 3 });

      assert.equal((await sdk.v1(`${DATASET}/release`, { datasetId })).result, true);
      const released = (await pollSdk(() => sdk.v1(`${DATASET}/info`, { datasetId: num }), (b) => b.result.versionInfo.releaseStatus !== 1, "V1 release")).result;
      expectV1DatasetInfo(released, { name: "node_v1_set", id: num, datasetPK: datasetId, versionId: 1, releaseStatus: 2 });
      assert.equal(released.versionInfo.releaseProgress, 100);
      assert.match(released.versionInfo.contentHash, /^[0-9a-f]{64}$/);
      assert.match(released.versionInfo.releaseTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const frozen = await sdk.v1Error(`${DATASET}/import`, { datasetId, files: [uri] });
      assert.equal(frozen.body.error_code, 500001, "a released version cannot change (a conflict, at HTTP 200)");
      assert.match(frozen.body.error_msg, /released/);

      // A second version of the same group, named by the group's name.
      const second = (await sdk.v1(`${DATASET}/create`, { name: "node_v1_set", versionId: 2, projectType: 20, templateType: 2000, storageType: "sysBos" })).result;
      expectV1DatasetCreated(second, { name: "node_v1_set", versionId: 2, projectType: 20, templateType: 2000, dataType: 4 });
      assert.equal(second.groupId, created.groupId);
      assert.equal(second.groupIdStr, created.groupIdStr);
      assert.deepEqual((await sdk.v1(`${DATASET}/delete`, { datasetId: second.id })).result, { versionCount: 1 });

      const user = (await sdk.v1(`${DATASET}/create`, { name: "node_v1_bos", projectType: 20, templateType: 2000, storageType: "usrBos", storageId: "node-data", rawStoragePath: "/out/" })).result;
      expectV1DatasetCreated(user, { name: "node_v1_bos", versionId: 1, projectType: 20, templateType: 2000, dataType: 4 });
      assert.deepEqual(user.storageInfo, { storageId: "node-data", storageName: "node-data", storagePath: "/node-data/out/", rawStoragePath: "out/", region: "local" });
      assert.equal((await sdk.v1(`${DATASET}/info`, { datasetId: user.datasetId })).result.versionInfo.storageType, "usrBos");
      assert.deepEqual((await sdk.v1(`${DATASET}/delete`, { datasetId: user.datasetId })).result, { versionCount: 0 });

      assert.deepEqual((await sdk.v1(`${DATASET}/delete`, { datasetId })).result, { versionCount: 0 });
      const gone = await sdk.v1Error(`${DATASET}/info`, { datasetId });
      assert.equal(gone.body.error_code, 500001);
      assert.match(gone.body.error_msg, /param\[datasetId\]/);
      const querySet = await sdk.v1Error(`${DATASET}/create`, { name: "node_v1_query", projectType: 401, templateType: 40200, storageType: "sysBos" });
      assert.match(querySet.body.error_msg, /templateType/);
    });

    test("V2: create, list (filter, pages), import task, version, publish, a new version, version pages, delete", async () => {
      const uri = await uploadObject(server, "node-data", "v2/chat.jsonl", lines("v2"));
      const created = (await sdk.v2("dataset", "CreateDataset", { datasetName: "node_v2_set", dataFormat: "PromptResponse", storageType: "sysStorage", description: "first" })).result;
      expectV2Dataset(created, { datasetName: "node_v2_set", dataFormat: "PromptResponse", storageType: "sysStorage", versionCount: 1, latestVersion: 1 });
      assert.match(created.versionId, ID.dataset);
      assert.equal(created.version, 1);
      assert.equal(created.storagePath, "");
      const { datasetId, versionId } = created as { datasetId: string; versionId: string };

      const other = (await sdk.v2("dataset", "CreateDataset", { datasetName: "node_v2_other", dataFormat: "Text", storageType: "BOS", storagePath: "bos:/node-data/text/" })).result;
      expectV2Dataset(other, { datasetName: "node_v2_other", dataFormat: "Text", storageType: "BOS", versionCount: 1, latestVersion: 1 });
      assert.equal(other.storagePath, "bos:/node-data/text/");
      const filtered = (await sdk.v2("dataset", "DescribeDatasets", { maxKeys: 100, filter: { datasetName: "node_v2_set" } })).result;
      assert.deepEqual(filtered.datasets.map((d: any) => d.datasetId), [datasetId]);
      expectV2Dataset(filtered.datasets[0], { datasetId, datasetName: "node_v2_set", dataFormat: "PromptResponse", storageType: "sysStorage", versionCount: 1, latestVersion: 1 });
      assert.deepEqual(filtered.pageInfo, { marker: "", maxKeys: 100, isTruncated: false });
      const byFormat = (await sdk.v2("dataset", "DescribeDatasets", { filter: { dataFormat: "Text" } })).result;
      assert.deepEqual(byFormat.datasets.map((d: any) => d.datasetId), [other.datasetId]);
      const first = (await sdk.v2("dataset", "DescribeDatasets", { maxKeys: 1 })).result;
      assert.deepEqual(first.datasets.map((d: any) => d.datasetId), [other.datasetId], "newest first");
      expectPageShape(first.pageInfo, ID.dataset);
      assert.equal(first.pageInfo.isTruncated, true);
      const page2 = (await sdk.v2("dataset", "DescribeDatasets", { maxKeys: 1, marker: first.pageInfo.nextMarker })).result;
      assert.deepEqual(page2.datasets.map((d: any) => d.datasetId), [datasetId]);
      assert.equal(page2.pageInfo.marker, first.pageInfo.nextMarker);

      const empty = await sdk.v2Error("dataset", "PublishDatasetVersion", { versionId });
      assert.equal(empty.status, 409, "nothing imported yet");
      assert.equal(empty.body.code, "ResourceInUse");

      const taskId = (await sdk.v2("dataset", "CreateImportTask", { versionId, files: [uri] })).result;
      assert.match(taskId, ID.importTask);
      const task = (await pollSdk(() => sdk.v2("dataset", "DescribeImportTask", { taskId }), (b) => b.result.importStatus !== "Running", "V2 import")).result;
      expectV2ImportTask(task, { taskId, datasetId, versionId, files: [uri], importStatus: "Finished" });
      assert.equal(task.errorMessage, "");
      assert.equal(task.importErrorInfo.errorCount, 0);

      const version = (await sdk.v2("dataset", "DescribeDatasetVersion", { versionId })).result;
      expectV2DatasetVersion(version, {
        datasetId, datasetName: "node_v2_set", versionId, version: 1, dataFormat: "PromptResponse", importStatus: "Finished", publishStatus: "Unpublished", sampleCount: 3,
      });
      assert.equal(version.importProgress, 100);
      assert.equal(version.publishTime, "");
      assert.equal(version.storageSize, Buffer.byteLength(lines("v2")), "the bytes imported");
      assert.equal((await sdk.v2("dataset", "PublishDatasetVersion", { versionId })).result, true);
      const published = (await pollSdk(() => sdk.v2("dataset", "DescribeDatasetVersion", { versionId }), (b) => b.result.publishStatus !== "Publishing", "V2 publish")).result;
      expectV2DatasetVersion(published, { datasetId, datasetName: "node_v2_set", versionId, version: 1, dataFormat: "PromptResponse", publishStatus: "Published", sampleCount: 3 });

      const next = (await sdk.v2("dataset", "CreateDatasetVersion", { datasetId, description: "second" })).result;
      expectV2DatasetVersion(next, { datasetId, datasetName: "node_v2_set", version: 2, dataFormat: "PromptResponse", importStatus: "NotStarted", publishStatus: "Unpublished", sampleCount: 0 });
      assert.equal(next.description, "second");
      assert.equal(next.importErrorInfo, null);
      const nextId: string = next.versionId;
      const versions = (await sdk.v2("dataset", "DescribeDatasetVersions", { datasetId, maxKeys: 1 })).result;
      assert.deepEqual(versions.versions.map((v: any) => v.versionId), [nextId], "newest first");
      assert.deepEqual(versions.pageInfo, { marker: "", maxKeys: 1, isTruncated: true, nextMarker: versionId });
      const oldest = (await sdk.v2("dataset", "DescribeDatasetVersions", { datasetId, pageReverse: true })).result;
      assert.deepEqual(oldest.versions.map((v: any) => v.version), [1, 2], "pageReverse: oldest first");
      for (const v of oldest.versions) expectV2DatasetVersion(v, { datasetId, datasetName: "node_v2_set", version: v.version, dataFormat: "PromptResponse" });
      const listed = (await sdk.v2("dataset", "DescribeDatasets", { filter: { datasetName: "node_v2_set" } })).result.datasets[0];
      assert.equal(listed.versionCount, 2);
      assert.equal(listed.latestVersion, 2);

      assert.equal((await sdk.v2("dataset", "DeleteDatasetVersion", { versionId: nextId })).result, true);
      assert.deepEqual((await sdk.v2("dataset", "DescribeDatasetVersions", { datasetId })).result.versions.map((v: any) => v.versionId), [versionId]);
      assert.equal((await sdk.v2("dataset", "DeleteDataset", { datasetId: other.datasetId })).result, true);
      assert.equal((await sdk.v2("dataset", "DeleteDataset", { datasetId })).result, true);
      const gone = await sdk.v2Error("dataset", "DescribeDatasetVersion", { versionId });
      assert.equal(gone.status, 400, "a missing object is Qianfan's 400 InappropriateJSON naming the field");
      assert.equal(gone.body.code, "InappropriateJSON");
      assert.match(gone.body.message, /param\[versionId\]/);
      const noPath = await sdk.v2Error("dataset", "CreateDataset", { datasetName: "node_bos", dataFormat: "Text", storageType: "BOS" });
      assert.match(noPath.body.message, /storagePath/);
      const badFormat = await sdk.v2Error("dataset", "CreateDataset", { datasetName: "node_bad", dataFormat: "Pictures", storageType: "sysStorage" });
      assert.match(badFormat.body.message, /dataFormat/);
    });

    test("every route this file declares was reached through consoleAction", () => {
      expectReachedRoutes(sdk, "sdk-node-datasets.test.ts");
    });
  });
}
