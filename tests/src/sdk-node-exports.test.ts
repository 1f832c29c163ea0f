import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, startTestServer, testDialects, type TestServer } from "./harness.js";
import { NodeSdk, pollSdk } from "./node-sdk.js";
import { importDataset, uploadObject } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { untarDigests, unzipText } from "./fixtures/archives.js";
import { expectReachedRoutes } from "./sdk-node-coverage.js";

/**
 * Dataset and model exports through the official Node SDK's `consoleAction`: V1
 * `dataset/export`, `exportRecord`, `importErrorDetail`; V2 `CreateExportTask`,
 * `DescribeExportTask`, `CreateModelExportTask`, `DescribeModelExportTask`; and errors naming
 * the field in each dialect's envelope.
 */

const CONTENT = `${[1, 2].map((i) => JSON.stringify([{ prompt: `q ${i}`, response: [[`a ${i}`]] }])).join("\n")}\n`;
const DATASET = "/wenxinworkshop/dataset";

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny?.remove(); });

for (const dialect of testDialects()) {
  describe(`official Node SDK consoleAction: exports (${dialect})`, () => {
    let server: TestServer;
    let sdk: NodeSdk;
    before(async () => {
      server = await startTestServer(dialect);
      sdk = new NodeSdk(server.url, ADMIN);
    });
    after(async () => { await server?.close(); });

    test("V1: export, info, exportRecord (download), importErrorDetail; bad input names the field", async () => {
      const uri = await uploadObject(server, "node-exp", "v1/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "node_v1_export", format: "PromptResponse", files: [uri] });
      assert.equal((await sdk.v1(`${DATASET}/export`, { datasetId: data.versionId, exportFormat: 0, exportType: 2, exportTo: 0 })).result, true);
      await pollSdk(() => sdk.v1(`${DATASET}/info`, { datasetId: data.versionId }), (r) => r.result.versionInfo.exportStatus >= 2, "V1 export");
      const [record] = (await sdk.v1(`${DATASET}/exportRecord`, { datasetId: data.versionId })).result;
      assert.equal(record.status, 2);
      assert.equal(record.exportType, 2);
      assert.deepEqual(await unzipText(new Uint8Array(await (await fetch(record.downloadUrl)).arrayBuffer())), { "node_v1_export_V1.jsonl": CONTENT });
      const detail = (await sdk.v1(`${DATASET}/importErrorDetail`, { datasetId: data.versionId, errCode: 0 })).result;
      assert.deepEqual(detail.content, []);

      const noBucket = await sdk.v1Error(`${DATASET}/export`, { datasetId: data.versionId, exportTo: 1 });
      assert.equal(noBucket.body.error_code, 500001);
      assert.match(noBucket.body.error_msg, /param\[storageId\]/);
      const noDataset = await sdk.v1Error(`${DATASET}/exportRecord`, { datasetId: "ds-doesnotexist0000" });
      assert.match(noDataset.body.error_msg, /param\[datasetId\]/);
    });

    test("V2: CreateExportTask, DescribeExportTask, CreateModelExportTask, DescribeModelExportTask", async () => {
      const uri = await uploadObject(server, "node-exp", "v2/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "node_v2_export", format: "PromptResponse", files: [uri] });
      const taskId = (await sdk.v2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "sysStorage" })).result;
      const done = await pollSdk(() => sdk.v2("dataset", "DescribeExportTask", { taskId }), (r) => r.result.exportStatus !== "Exporting", "V2 export");
      assert.equal(done.result.exportStatus, "ExportFinished");
      assert.deepEqual(await unzipText(new Uint8Array(await (await fetch(done.result.downloadUrl)).arrayBuffer())), { "node_v2_export_V1.jsonl": CONTENT });
      const bad = await sdk.v2Error("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "BOS", storagePath: "bos:/UPPER/x/" });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /param\[storagePath\]/);

      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      const model = await importBaseModel(server, "node_export_llama", { bucket: "hub", objectPath: "llama/" });
      const { exportId } = (await sdk.v2("model", "CreateModelExportTask", { modelId: model.versionId })).result;
      const exported = await pollSdk(() => sdk.v2("model", "DescribeModelExportTask", { modelId: model.versionId }), (r) => r.result.status !== "Doing", "model export");
      assert.equal(exported.result.exportId, exportId);
      assert.equal(exported.result.status, "Done");
      const files = await untarDigests(new Uint8Array(await (await fetch(exported.result.downloadUrl)).arrayBuffer()));
      assert.ok(`${model.versionId}/config.json` in files);
      const unknown = await sdk.v2Error("model", "DescribeModelExportTask", { modelId: "amv-doesnotexist" });
      assert.match(unknown.body.message, /param\[modelId\]/);
    });

    test("every route this file declares was reached through consoleAction", () => {
      expectReachedRoutes(sdk, "sdk-node-exports.test.ts");
    });
  });
}
