import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { downloadQuery, exportDownloadUrl } from "@sailfin/engine";
import { rawCall, startTestServer, testDialects, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { importDataset, uploadObject } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type ImportedModel, type TinyModelFolders } from "./fixtures/model-imports.js";
import { pollUntil, untarDigests, unzipText } from "./fixtures/archives.js";
import { startS3Server, type S3TestServer } from "./fixtures/s3-server.js";

/**
 * Dataset and model exports (issue 13 §1; reference §17) through raw V1 and V2 calls on a real
 * server: the runs the server's own worker carries out, the shapes the reference lists, bad
 * input naming its field, the signed download link, and archives whose content equals the
 * source, read back with Python's zipfile and tarfile. On S3 artifacts (real SeaweedFS) the
 * links are presigned S3 URLs, fetched bare.
 */

const ISO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
const SQL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const line = (i: number) => JSON.stringify([{ prompt: `问题 ${i}`, response: [[`answer ${i}`]] }]);
const CONTENT = `${[1, 2, 3].map(line).join("\n")}\n`;

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny?.remove(); });

/** An artifact's bytes, read through the server's store. */
async function readAll(server: TestServer, key: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await server.server.res.artifacts.get(key)) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** sha256 of each file of a local folder, keyed `<top>/<name>` as the model tar holds them. */
async function folderDigests(dir: string, top: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[`${top}/${name}`] = createHash("sha256").update(await readFile(join(dir, name))).digest("hex");
  return out;
}

for (const dialect of testDialects()) {
  describe(`dataset and model exports (${dialect})`, () => {
    let server: TestServer;
    let model: ImportedModel;
    const v1 = (op: string, body: unknown) => v1Raw(server, `/wenxinworkshop/dataset/${op}`, body);
    const v2 = (resource: string, action: string, body: unknown) => v2Raw(server, resource, action, body);
    async function ok1(op: string, body: unknown): Promise<any> {
      const r = await v1(op, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.error_code, undefined, `${op}: ${r.text}`);
      assert.equal(r.body.success, true, r.text);
      return r.body.result;
    }
    const ok2 = (resource: string, action: string, body: unknown) => v2Ok(server, resource, action, body);
    async function fails1(op: string, body: unknown, field: string): Promise<void> {
      const r = await v1(op, body);
      assert.ok(r.body.error_code !== undefined, `${op} ${JSON.stringify(body)} should fail: ${r.text}`);
      assert.ok(r.body.error_msg.includes(`param[${field}]`), `expected param[${field}]: ${r.body.error_msg}`);
    }
    async function fails2(resource: string, action: string, body: unknown, field: string): Promise<void> {
      const r = await v2(resource, action, body);
      assert.equal(r.status, 400, `${action} ${JSON.stringify(body)}: ${r.text}`);
      assert.ok(r.body.message.includes(`param[${field}]`), `expected param[${field}]: ${r.body.message}`);
    }
    const exportDone = (taskId: string) => pollUntil(() => ok2("dataset", "DescribeExportTask", { taskId }), (t) => t.exportStatus !== "Exporting", `export ${taskId}`);

    before(async () => {
      server = await startTestServer(dialect);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      model = await importBaseModel(server, "export_llama", { bucket: "hub", objectPath: "llama/" });
    });
    after(async () => { await server?.close(); });

    test("V2 CreateExportTask (sysStorage) → DescribeExportTask → the link downloads a zip of the records", async () => {
      const uri = await uploadObject(server, "src", "v2/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "v2_export", format: "PromptResponse", files: [uri] });
      const taskId = await ok2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "sysStorage" });
      assert.match(taskId, /^task-[a-z0-9]{12}$/);
      const done = await exportDone(taskId);
      assert.deepEqual(Object.keys(done).sort(), [
        "createTime", "creator", "downloadUrl", "errorMessage", "exportStatus", "finishTime", "progress", "sampleCount", "sizeMB", "storagePath",
        "storageType", "taskId", "versionId",
      ]);
      assert.equal(done.exportStatus, "ExportFinished", JSON.stringify(done));
      assert.equal(done.progress, "100%");
      assert.equal(done.sampleCount, 3);
      assert.equal(done.storageType, "sysStorage");
      assert.equal(done.creator, "admintestkey0001");
      assert.equal(typeof done.sizeMB, "number");
      assert.match(done.createTime, ISO_OFFSET);
      assert.match(done.finishTime, ISO_OFFSET);
      assert.match(done.storagePath, new RegExp(`^/exports/${taskId}/v2_export_V1_\\d+\\.zip$`));
      assert.ok(done.downloadUrl.startsWith(`${server.url}/sailfin/v1/exports/${taskId}/download?expires=`), done.downloadUrl);
      // A bare GET, as the Python SDK downloads it.
      const download = await fetch(done.downloadUrl);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get("content-type"), "application/zip");
      assert.deepEqual(await unzipText(new Uint8Array(await download.arrayBuffer())), { "v2_export_V1.jsonl": CONTENT });

      // A tampered or another export's link is refused.
      const url = new URL(done.downloadUrl);
      url.searchParams.set("signature", "A".repeat(url.searchParams.get("signature")!.length));
      assert.equal((await fetch(url)).status, 403);
      const other = `${server.url}/sailfin/v1/exports/${model.versionId}/download?${downloadQuery(server.server.res, model.versionId)}`;
      assert.equal((await fetch(other)).status, 404, "a signed link to something that is not an export finds nothing");

      // Deleting the version takes its exports along: the old link finds nothing, the task is gone.
      await ok2("dataset", "DeleteDatasetVersion", { versionId: data.versionId });
      assert.equal((await fetch(done.downloadUrl)).status, 404);
      await fails2("dataset", "DescribeExportTask", { taskId }, "taskId");
      assert.equal(await server.server.res.artifacts.stat(done.storagePath.slice(1)), null, "the zip is removed");
    });

    test("V2 CreateExportTask (BOS) writes the zip into the bucket folder; bad input names its field", async () => {
      const uri = await uploadObject(server, "src", "bos/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "bos_export", format: "PromptResponse", files: [uri] });
      const taskId = await ok2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "BOS", storagePath: "bos:/out/ds/" });
      const done = await exportDone(taskId);
      assert.equal(done.exportStatus, "ExportFinished");
      assert.equal(done.downloadUrl, "", "a bucket export is read from the bucket");
      assert.match(done.storagePath, /^bos:\/out\/ds\/bos_export_V1_\d+\.zip$/);
      // The bucket object, as `GET /sailfin/v1/objects/…` serves it.
      const object = await rawCall(server.url, { method: "GET", path: `/sailfin/v1/objects/${done.storagePath.slice("bos:/".length)}` });
      assert.equal(object.status, 200);
      assert.deepEqual(await unzipText(await readAll(server, `buckets/${done.storagePath.slice("bos:/".length)}`)), { "bos_export_V1.jsonl": CONTENT });

      await fails2("dataset", "CreateExportTask", { storageType: "sysStorage" }, "versionId");
      await fails2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "Disk" }, "storageType");
      await fails2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "BOS" }, "storagePath");
      await fails2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "BOS", storagePath: "out/ds/" }, "storagePath");
      await fails2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "BOS", storagePath: "bos:/out/../x/" }, "storagePath");
      await fails2("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "sysStorage", storagePath: "bos:/out/ds/" }, "storagePath");
      await fails2("dataset", "CreateExportTask", { versionId: "ds-doesnotexist0000", storageType: "sysStorage" }, "versionId");
      const empty = await ok2("dataset", "CreateDataset", { datasetName: "never_imported", dataFormat: "PromptResponse", storageType: "sysStorage" });
      await fails2("dataset", "CreateExportTask", { versionId: empty.versionId, storageType: "sysStorage" }, "versionId");
      await fails2("dataset", "DescribeExportTask", {}, "taskId");
      await fails2("dataset", "DescribeExportTask", { taskId: "task-000000000000" }, "taskId");
    });

    test("V1 dataset/export → info.exportStatus → exportRecord → GET downloadUrl (the Python SDK's download flow)", async () => {
      const uri = await uploadObject(server, "src", "v1/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "v1_export", format: "PromptResponse", files: [uri] });
      const before = await ok1("info", { datasetId: data.versionId });
      assert.equal(before.versionInfo.exportRecordCount, 0);
      assert.equal(before.versionInfo.exportStatus, -1);
      assert.deepEqual(await ok1("exportRecord", { datasetId: data.versionId }), []);

      assert.equal(await ok1("export", { datasetId: data.versionId, exportFormat: 0, exportType: 1, exportTo: 0 }), true);
      const info = await pollUntil(() => ok1("info", { datasetId: data.versionId }), (r) => [2, 3].includes(r.versionInfo.exportStatus), "V1 export");
      assert.equal(info.versionInfo.exportStatus, 2);
      assert.equal(info.versionInfo.exportProgress, 100);
      assert.equal(info.versionInfo.exportRecordCount, 1);
      const status = await ok1("statusList", { datasetIds: [data.versionId] });
      assert.equal(status[data.versionId].exportStatus, 2);

      const records = await ok1("exportRecord", { datasetId: data.versionId });
      assert.equal(records.length, 1);
      const [record] = records;
      assert.deepEqual(Object.keys(record).sort(), [
        "creatorName", "downloadUrl", "exportFormat", "exportId", "exportTo", "exportType", "finishTime", "recordNum", "size", "startTime", "status",
        "storageId", "storagePath",
      ]);
      assert.equal(record.status, 2);
      assert.equal(record.recordNum, 3);
      assert.equal(record.exportTo, 0);
      assert.equal(record.exportType, 1);
      assert.equal(record.creatorName, "admintestkey0001");
      assert.match(record.startTime, SQL_TIME, "naive times: the SDK compares them with naive datetimes");
      assert.match(record.finishTime, SQL_TIME);
      assert.ok(record.finishTime >= info.versionInfo.modifyTime, "the export is newer than the version, so the SDK's cache is fresh");
      const download = await fetch(record.downloadUrl);
      assert.equal(download.status, 200);
      assert.deepEqual(await unzipText(new Uint8Array(await download.arrayBuffer())), { "v1_export_V1.jsonl": CONTENT });

      // Into the user's bucket (exportTo 1 + storageId): no link, the file in the bucket.
      assert.equal(await ok1("export", { datasetId: info.versionInfo.id, exportFormat: 0, exportType: 2, exportTo: 1, storageId: "mine" }), true);
      const both = await pollUntil(() => ok1("exportRecord", { datasetId: data.versionId }), (r) => r.length === 2 && r[0].status >= 2, "V1 bucket export");
      assert.equal(both[0].status, 2, JSON.stringify(both[0]));
      assert.equal(both[0].exportTo, 1);
      assert.equal(both[0].storageId, "mine");
      assert.equal(both[0].downloadUrl, "");
      assert.match(both[0].storagePath, /^bos:\/mine\/sailfin\/dataset_export\/v1_export_V1_\d+\.zip$/);

      await fails1("export", { datasetId: data.versionId, exportTo: 1 }, "storageId");
      await fails1("export", { datasetId: data.versionId, exportTo: 1, storageId: "Bad Bucket" }, "storageId");
      await fails1("export", { datasetId: data.versionId, exportTo: 2 }, "exportTo");
      await fails1("export", { datasetId: data.versionId, exportTo: 0, exportType: 3 }, "exportType");
      await fails1("export", { datasetId: 999_999, exportTo: 0 }, "datasetId");
      await fails1("exportRecord", {}, "datasetId");
    });

    test("V1 dataset/importErrorDetail lists the invalid lines the import recorded", async () => {
      const bad = `${line(1)}\n{"not": "a conversation"}\nnot json\n`;
      const uri = await uploadObject(server, "src", "bad/data.jsonl", bad);
      const data = await importDataset(server, { name: "bad_import", format: "PromptResponse", files: [uri] });
      const detail = await ok1("importErrorDetail", { datasetId: data.versionId, errCode: 1 });
      assert.equal(detail.dataType, "file");
      assert.equal(detail.isZip, 0);
      assert.equal(detail.projectType, 20);
      assert.deepEqual(detail.content.map((c: any) => [c.sequence, c.textLocation, c.sampleName, c.sampleFileName]), [
        [1, 2, "data.jsonl", uri], [2, 3, "data.jsonl", uri],
      ]);
      assert.match(detail.content[1].textContent, /^\$: not valid JSON/);
      const clean = await ok1("importErrorDetail", { datasetId: (await importDataset(server, { name: "clean_import", format: "PromptResponse", files: [await uploadObject(server, "src", "ok.jsonl", CONTENT)] })).versionId, errCode: 0 });
      assert.deepEqual(clean.content, []);
      await fails1("importErrorDetail", { datasetId: data.versionId }, "errCode");
      await fails1("importErrorDetail", { datasetId: "ds-doesnotexist0000", errCode: 1 }, "datasetId");
    });

    test("V2 CreateModelExportTask → DescribeModelExportTask: a tar of the version's folder, md5 and size as downloaded", async () => {
      const none = await ok2("model", "DescribeModelExportTask", { modelId: model.versionId });
      assert.deepEqual(none, { hasRecord: false });
      const created = await ok2("model", "CreateModelExportTask", { modelId: model.versionId });
      assert.deepEqual(Object.keys(created), ["exportId"]);
      assert.match(created.exportId, /^amexp-[a-z0-9]{12}$/);
      const done = await pollUntil(() => ok2("model", "DescribeModelExportTask", { modelId: model.versionId }), (r) => r.status !== "Doing", "model export");
      assert.equal(done.status, "Done", JSON.stringify(done));
      assert.equal(done.exportId, created.exportId);
      assert.equal(done.hasRecord, true);
      assert.equal(done.fileType, "tar");
      assert.match(done.fileName, /^export_llama_V1_\d+\.tar$/);
      const download = await fetch(done.downloadUrl);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get("content-type"), "application/x-tar");
      const bytes = new Uint8Array(await download.arrayBuffer());
      assert.equal(done.fileSize, bytes.length);
      assert.equal(done.md5, createHash("md5").update(bytes).digest("hex"));
      assert.deepEqual(await untarDigests(bytes), await folderDigests(tiny.dir("llama"), model.versionId));

      // Into a bucket folder (Sailfin's storagePath extension).
      await ok2("model", "CreateModelExportTask", { modelId: model.versionId, storagePath: "bos:/out/models/" });
      const inBucket = await pollUntil(() => ok2("model", "DescribeModelExportTask", { modelId: model.versionId }), (r) => r.status === "Done" && r.exportId !== created.exportId, "bucket model export");
      assert.equal(inBucket.downloadUrl, "");
      assert.match(inBucket.storagePath, /^bos:\/out\/models\/export_llama_V1_\d+\.tar$/);
      assert.ok(await server.server.res.artifacts.stat(`buckets/${inBucket.storagePath.slice("bos:/".length)}`));

      await fails2("model", "CreateModelExportTask", {}, "modelId");
      await fails2("model", "CreateModelExportTask", { modelId: "amv-doesnotexist" }, "modelId");
      await fails2("model", "CreateModelExportTask", { modelId: model.versionId, storagePath: "nowhere" }, "storagePath");
      await fails2("model", "DescribeModelExportTask", { modelId: "amv-000000000000" }, "modelId");

      // Deleting the version takes its exports in Sailfin's storage along; the bucket's copy is the user's.
      await ok2("model", "DeleteModel", { modelId: model.versionId });
      assert.equal((await fetch(done.downloadUrl)).status, 404);
      assert.ok(await server.server.res.artifacts.stat(`buckets/${inBucket.storagePath.slice("bos:/".length)}`));
    });
  });
}

for (const dialect of testDialects()) {
  describe(`@sailfin/sdk: datasets.createExport/describeExport, models.createExport/describeExport, exports.download (${dialect})`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(dialect); });
    after(async () => { await server?.close(); });

    test("the typed SDK exports a dataset and a model and downloads both", async () => {
      const sdk = server.admin;
      const uri = await uploadObject(server, "src", "sdk/data.jsonl", CONTENT);
      const data = await importDataset(server, { name: "sdk_export", format: "PromptResponse", files: [uri] });
      const taskId = await sdk.datasets.createExport({ versionId: data.versionId, storageType: "sysStorage" });
      const task = await pollUntil(() => sdk.datasets.describeExport({ taskId }), (t) => t.exportStatus !== "Exporting", "SDK dataset export");
      assert.equal(task.exportStatus, "ExportFinished");
      const zip = await sdk.exports.download(task);
      assert.deepEqual(await unzipText(zip.bytes), { "sdk_export_V1.jsonl": CONTENT });

      const tiny2 = await writeTinyModels({ llama: TINY });
      try {
        await stageFolder(server, tiny2.dir("llama"), "hub", "llama");
        const model = await importBaseModel(server, "sdk_llama", { bucket: "hub", objectPath: "llama/" });
        const { exportId } = await sdk.models.createExport({ modelId: model.versionId });
        const done = await pollUntil(() => sdk.models.describeExport({ modelId: model.versionId }), (r) => r.hasRecord && r.status !== "Doing", "SDK model export");
        assert.ok(done.hasRecord && done.exportId === exportId && done.status === "Done");
        const tar = await sdk.exports.download(done);
        assert.match(tar.fileName ?? "", /^sdk_llama_V1_\d+\.tar$/);
        assert.deepEqual(await untarDigests(tar.bytes), await folderDigests(tiny2.dir("llama"), model.versionId));
      } finally {
        await tiny2.remove();
      }
    });
  });
}

describe("exports on S3 artifacts (real SeaweedFS): presigned download links", () => {
  let s3: S3TestServer;
  let server: TestServer;
  before(async () => {
    s3 = await startS3Server();
    server = await startTestServer("sqlite", { SAILFIN_ARTIFACTS: `s3://${s3.bucket}/server`, ...s3.awsEnv });
  });
  after(async () => {
    await server?.close();
    await s3?.close();
  });

  test("a dataset export's downloadUrl is a presigned S3 GET that a bare fetch reads; a tampered one is refused by S3", async () => {
    const uri = await uploadObject(server, "src", "s3/data.jsonl", CONTENT);
    const data = await importDataset(server, { name: "s3_export", format: "PromptResponse", files: [uri] });
    const taskId = await server.admin.v2<string>("dataset", "CreateExportTask", { versionId: data.versionId, storageType: "sysStorage" });
    const done = await pollUntil(() => server.admin.v2<any>("dataset", "DescribeExportTask", { taskId }), (t) => t.exportStatus !== "Exporting", "S3 export");
    assert.equal(done.exportStatus, "ExportFinished", JSON.stringify(done));
    const url = new URL(done.downloadUrl);
    assert.equal(url.origin, s3.endpoint, "straight from the store, not through Sailfin");
    assert.equal(url.searchParams.get("X-Amz-Expires"), "3600");
    const download = await fetch(url);
    assert.equal(download.status, 200);
    assert.match(download.headers.get("content-disposition") ?? "", /^attachment; filename="s3_export_V1_\d+\.zip"$/);
    assert.deepEqual(await unzipText(new Uint8Array(await download.arrayBuffer())), { "s3_export_V1.jsonl": CONTENT });
    url.searchParams.set("X-Amz-Signature", "0".repeat(64));
    assert.equal((await fetch(url)).status, 403);
  });

  test("every export kind's link comes from one place: an evaluation-result zip is presigned the same way", async () => {
    const zip = Buffer.from("PK\u0003\u0004 an evaluation export's bytes");
    await server.server.res.artifacts.put("exports/amemt-s3linktest01/results.zip", zip);
    const url = await exportDownloadUrl(server.server.res, server.url, "amemt-s3linktest01", { key: "exports/amemt-s3linktest01/results.zip", fileName: "results.zip" });
    assert.equal(new URL(url).origin, s3.endpoint);
    const download = await fetch(url);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip);
  });

  test("a model export's downloadUrl is presigned too; the tar equals the folder", async () => {
    const tiny2 = await writeTinyModels({ llama: TINY });
    try {
      await stageFolder(server, tiny2.dir("llama"), "hub", "llama");
      const model = await importBaseModel(server, "s3_llama", { bucket: "hub", objectPath: "llama/" });
      await server.admin.v2("model", "CreateModelExportTask", { modelId: model.versionId });
      const done = await pollUntil(() => server.admin.v2<any>("model", "DescribeModelExportTask", { modelId: model.versionId }), (r) => r.status !== "Doing", "S3 model export");
      assert.equal(done.status, "Done", JSON.stringify(done));
      assert.equal(new URL(done.downloadUrl).origin, s3.endpoint);
      const bytes = new Uint8Array(await (await fetch(done.downloadUrl)).arrayBuffer());
      assert.equal(done.md5, createHash("md5").update(bytes).digest("hex"));
      assert.deepEqual(await untarDigests(bytes), await folderDigests(tiny2.dir("llama"), model.versionId));
    } finally {
      await tiny2.remove();
    }
  });
});
