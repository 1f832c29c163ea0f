import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newId, nowIso } from "@sailfin/contract";
import { enqueueRun, findReleasedDatasetVersion } from "@sailfin/engine";
import { ADMIN, rawCall, startTestServer, testDialects, v1Raw, v2Raw, type TestServer } from "./harness.js";
import { runCli } from "./cli-process.js";
import { importDataset, uploadObject } from "./fixtures/dataset-imports.js";
import { settleImports } from "./fixtures/settle-imports.js";

/**
 * Datasets over a real server (both dialects): the V1 `/wenxinworkshop/dataset/*` family, the V2
 * `/v2/dataset` actions, streaming validation through imports, release rules, deletes guarded by
 * running fine-tuning tasks, and the CLI's upload path.
 */

const pr = (q: string, a: string) => JSON.stringify([{ prompt: q, response: [[a]] }]);
const chat = (q: string, a: string) => JSON.stringify({ messages: [{ role: "user", content: q }, { role: "assistant", content: a }] });

for (const dialect of testDialects()) {
  describe(`datasets (${dialect})`, () => {
    let server: TestServer;
    let work: string;
    before(async () => {
      server = await startTestServer(dialect);
      work = await mkdtemp(join(tmpdir(), "sailfin-ds-"));
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    const put = (bucket: string, path: string, text: string | Buffer) => uploadObject(server, bucket, path, text);
    const call = (action: string, body: unknown) => v2Raw(server, "dataset", action, body);
    const ok = async (action: string, body: unknown) => {
      const r = await call(action, body);
      assert.equal(r.status, 200, `${action}: ${r.text}`);
      assert.match(r.body.requestId, /^[0-9a-f-]{36}$/);
      return r.body.result;
    };
    const v1 = (op: string, body: unknown) => v1Raw(server, `/wenxinworkshop/dataset/${op}`, body);
    const v1ok = async (op: string, body: unknown) => {
      const r = await v1(op, body);
      assert.equal(r.status, 200);
      assert.equal(r.body.error_code, undefined, `${op}: ${r.text}`);
      assert.equal(r.body.status, 200);
      assert.equal(r.body.success, true);
      assert.match(r.body.log_id, /^\d+$/);
      return r.body.result;
    };
    const drain = () => settleImports(server);
    const expectV2Error = (r: { status: number; body: any }, status: number, code: string, field?: string) => {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, code);
      if (field !== undefined) assert.ok(r.body.message.includes(`param[${field}]`), r.body.message);
    };
    const expectV1Error = (r: { status: number; body: any }, field: string) => {
      assert.equal(r.status, 200);
      assert.equal(r.body.error_code, 500001, JSON.stringify(r.body));
      assert.ok(r.body.error_msg.includes(`param[${field}]`), r.body.error_msg);
      assert.equal(r.body.success, false);
    };
    /** Creates a V2 dataset, imports `files`, waits; returns ids and the import task. */
    const imported = (format: string, files: string[], name = "ds") => importDataset(server, { name, format, files });

    test("V2 CreateDataset → import → publish, with every response shape", async () => {
      const created = await ok("CreateDataset", { datasetName: "问答数据", dataFormat: "PromptResponse", storageType: "sysStorage", description: "faq" });
      assert.match(created.datasetId, /^ds-[a-z0-9]{16}$/);
      assert.match(created.versionId, /^ds-[a-z0-9]{16}$/);
      assert.notEqual(created.datasetId, created.versionId);
      assert.equal(created.version, 1);
      assert.equal(created.datasetName, "问答数据");
      assert.equal(created.dataFormat, "PromptResponse");
      assert.equal(created.storageType, "sysStorage");
      assert.match(created.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);

      const fresh = await ok("DescribeDatasetVersion", { versionId: created.versionId });
      assert.equal(fresh.importStatus, "NotStarted");
      assert.equal(fresh.publishStatus, "Unpublished");
      assert.equal(fresh.importErrorInfo, null);
      assert.equal(fresh.description, "faq");

      // BOM, CRLF, a blank line and no final newline: all accepted.
      const text = `\ufeff${pr("你好", "你好！")}\r\n${pr("天气怎么样", "晴天")}\r\n\r\n${pr("Q", "A")}`;
      await put("up", "faq/train.jsonl", text);
      const taskId = await ok("CreateImportTask", { versionId: created.versionId, files: ["bos:/up/faq/train.jsonl"] });
      assert.match(taskId, /^dsit-[a-z0-9]{12}$/);
      await drain();
      const task = await ok("DescribeImportTask", { taskId });
      assert.equal(task.importStatus, "Finished");
      assert.equal(task.versionId, created.versionId);
      assert.equal(task.datasetId, created.datasetId);
      assert.deepEqual(task.files, ["bos:/up/faq/train.jsonl"]);
      assert.equal(task.importErrorInfo.errorCount, 0);

      const normalised = `${pr("你好", "你好！")}\n${pr("天气怎么样", "晴天")}\n${pr("Q", "A")}\n`;
      const version = await ok("DescribeDatasetVersion", { versionId: created.versionId });
      assert.equal(version.importStatus, "Finished");
      assert.equal(version.importProgress, 100);
      assert.equal(version.sampleCount, 3);
      assert.equal(version.characterCount, 2 + 3 + 5 + 2 + 2);
      assert.equal(version.storageSize, Buffer.byteLength(normalised));
      assert.equal(version.publishStatus, "Unpublished");
      assert.equal(version.contentHash, "");
      const stored = await readFile(join(server.home, "datasets", created.versionId, "data.jsonl"), "utf8");
      assert.equal(stored, normalised);

      assert.equal(await ok("PublishDatasetVersion", { versionId: created.versionId }), true);
      assert.equal(await ok("PublishDatasetVersion", { versionId: created.versionId }), true, "publishing again is a no-op");
      const published = await ok("DescribeDatasetVersion", { versionId: created.versionId });
      assert.equal(published.publishStatus, "Published");
      assert.equal(published.contentHash, createHash("sha256").update(normalised).digest("hex"));
      assert.notEqual(published.publishTime, "");
      // What fine-tuning reads: by id and by V1 number.
      const forTraining = await findReleasedDatasetVersion(server.server.res, created.versionId);
      assert.equal(forTraining.format, "PromptResponse");
      assert.equal(forTraining.contentHash, published.contentHash);
      assert.equal(forTraining.dataPath, `datasets/${created.versionId}/data.jsonl`);
      assert.equal((await findReleasedDatasetVersion(server.server.res, forTraining.version.num)).version.id, created.versionId);

      // Released versions are immutable.
      expectV2Error(await call("CreateImportTask", { versionId: created.versionId, files: ["bos:/up/faq/train.jsonl"] }), 409, "ResourceInUse", "versionId");

      const events = await server.server.res.db.selectFrom("events").select(["to_state"]).where("object_id", "=", created.versionId).orderBy("num").execute();
      assert.deepEqual(events.map((e) => e.to_state), ["Created", "Importing", "Imported", "Released"]);
    });

    test("a file with several bad lines: every line number and field reported, import failed, release refused", async () => {
      const lines = [
        pr("ok", "fine"),
        "{not json",
        JSON.stringify([{ prompt: "Q", response: [["A"], ["B"]] }]),
        pr("ok2", "fine"),
        JSON.stringify([{ prompt: "Q", response: [["A"]] }, { prompt: "中文", response: [[""]] }]),
        "",
        JSON.stringify([{ prompt: "Q", reponse: [["A"]] }]),
        JSON.stringify({ prompt: "Q", response: [["A"]] }),
      ];
      await put("up", "bad/train.jsonl", lines.join("\n"));
      const { versionId, taskId } = await imported("PromptResponse", ["bos:/up/bad/train.jsonl"], "bad");
      const task = await ok("DescribeImportTask", { taskId });
      assert.equal(task.importStatus, "Failed");
      assert.equal(task.errorMessage, "5 invalid lines");
      assert.deepEqual(task.importErrorInfo.errors.map((e: any) => [e.line, e.field]), [
        [2, "$"], [3, "[0].response"], [5, "[1].response[0][0]"], [7, "[0].reponse"], [8, "$"],
      ]);
      for (const e of task.importErrorInfo.errors) assert.ok(e.reason.length > 0);
      const version = await ok("DescribeDatasetVersion", { versionId });
      assert.equal(version.importStatus, "Failed");
      assert.equal(version.importErrorInfo.errorCount, 5);
      assert.equal(version.sampleCount, 2);
      expectV2Error(await call("PublishDatasetVersion", { versionId }), 409, "ResourceInUse", "versionId");
      await assert.rejects(findReleasedDatasetVersion(server.server.res, versionId), (e: any) => e.id === "InvalidParameter" && e.field === "versionId");
      await assert.rejects(findReleasedDatasetVersion(server.server.res, "ds-nosuchversion000"), (e: any) => e.id === "NotFound");
      const r = await call("PublishDatasetVersion", { versionId });
      assert.match(r.body.message, /5 invalid lines/);

      // The data was not kept, and a corrected re-import of the same version succeeds.
      await assert.rejects(readFile(join(server.home, "datasets", versionId, "data.jsonl")));
      await put("up", "bad/fixed.jsonl", `${pr("ok", "fine")}\n`);
      await ok("CreateImportTask", { versionId, files: ["bos:/up/bad/fixed.jsonl"] });
      await drain();
      assert.equal((await ok("DescribeDatasetVersion", { versionId })).importStatus, "Finished");
      assert.equal(await ok("PublishDatasetVersion", { versionId }), true);
    });

    test("release is refused before any import; an empty file fails the import", async () => {
      const created = await ok("CreateDataset", { datasetName: "empty", dataFormat: "Text", storageType: "sysStorage" });
      const r = await call("PublishDatasetVersion", { versionId: created.versionId });
      expectV2Error(r, 409, "ResourceInUse", "versionId");
      assert.match(r.body.message, /no imported data/);
      const v1r = await v1("release", { datasetId: created.versionId });
      expectV1Error(v1r, "datasetId");
      await put("up", "empty/blank.jsonl", "\n\n");
      await ok("CreateImportTask", { versionId: created.versionId, files: ["bos:/up/empty/blank.jsonl"] });
      await drain();
      const version = await ok("DescribeDatasetVersion", { versionId: created.versionId });
      assert.equal(version.importStatus, "Failed");
      assert.equal(version.importErrorInfo.message, "the files hold no records");
    });

    test("folder imports read every .jsonl/.json file below; errors name their file", async () => {
      await put("up", "folder/a.jsonl", `${chat("一", "二")}\n${chat("三", "四")}\n`);
      await put("up", "folder/sub/b.json", `${chat("五", "六")}\n`);
      await put("up", "folder/readme.txt", "not data");
      const good = await imported("Messages", ["bos:/up/folder/"], "folder");
      const version = await ok("DescribeDatasetVersion", { versionId: good.versionId });
      assert.equal(version.importStatus, "Finished");
      assert.equal(version.sampleCount, 3);
      assert.equal(version.characterCount, 6);

      await put("up", "folder2/a.jsonl", `${chat("一", "二")}\n`);
      await put("up", "folder2/b.jsonl", `${JSON.stringify({ messages: [{ role: "user", content: "Q" }] })}\n`);
      const bad = await imported("Messages", ["bos:/up/folder2"], "folder2");
      const task = await ok("DescribeImportTask", { taskId: bad.taskId });
      assert.equal(task.importStatus, "Failed");
      assert.deepEqual(task.importErrorInfo.errors, [{ file: "bos:/up/folder2/b.jsonl", line: 1, field: "messages[0].role", reason: "the last message must be from the assistant" }]);
    });

    test("path traversal and bad URIs in bucket paths are refused naming the field", async () => {
      const created = await ok("CreateDataset", { datasetName: "trav", dataFormat: "Text", storageType: "sysStorage" });
      for (const uri of ["bos:/b/../x", "bos:/b/a/../../etc", "bos:/b/./x", "/etc/passwd", "bos:/B A/x"]) {
        expectV2Error(await call("CreateImportTask", { versionId: created.versionId, files: ["bos:/up/ok.jsonl", uri] }), 400, "InappropriateJSON", "files[1]");
        expectV1Error(await v1("import", { datasetId: created.versionId, annotated: false, importFrom: 1, files: [uri] }), "files[0]");
      }
      expectV2Error(await call("CreateDataset", { datasetName: "x", dataFormat: "Text", storageType: "BOS", storagePath: "bos:/b/a/../../etc/" }), 400, "InappropriateJSON", "storagePath");
      expectV1Error(await v1("create", { name: "x", versionId: 1, projectType: 401, templateType: 40100, dataType: 4, storageType: "usrBos", storageId: "b", rawStoragePath: "a/../../etc/" }), "rawStoragePath");
      // A missing object is NotFound for the same field; nothing changed on the version.
      expectV2Error(await call("CreateImportTask", { versionId: created.versionId, files: ["bos:/up/no/such.jsonl"] }), 400, "InappropriateJSON", "files[0]");
      assert.equal((await ok("DescribeDatasetVersion", { versionId: created.versionId })).importStatus, "NotStarted");
    });

    test("bad bodies and unknown ids name the field", async () => {
      expectV2Error(await call("CreateDataset", { datasetName: "x", dataFormat: "PromptImage", storageType: "sysStorage" }), 400, "InappropriateJSON", "dataFormat");
      expectV2Error(await call("CreateDataset", { dataFormat: "Text", storageType: "sysStorage" }), 400, "InappropriateJSON", "datasetName");
      expectV2Error(await call("CreateDataset", { datasetName: "x", dataFormat: "Text", storageType: "BOS" }), 400, "InappropriateJSON", "storagePath");
      expectV2Error(await call("CreateDataset", { datasetName: "x", dataFormat: "Text", storageType: "usrBos" }), 400, "InappropriateJSON", "storageType");
      expectV2Error(await call("DescribeDatasetVersion", { versionId: "ds-nosuchversion000" }), 400, "InappropriateJSON", "versionId");
      expectV2Error(await call("DescribeDatasetVersions", { datasetId: "ds-nosuchdataset0000" }), 400, "InappropriateJSON", "datasetId");
      expectV2Error(await call("CreateDatasetVersion", { datasetId: "ds-nosuchdataset0000" }), 400, "InappropriateJSON", "datasetId");
      expectV2Error(await call("DeleteDataset", { datasetId: "ds-nosuchdataset0000" }), 400, "InappropriateJSON", "datasetId");
      expectV2Error(await call("DeleteDatasetVersion", { versionId: "ds-nosuchversion000" }), 400, "InappropriateJSON", "versionId");
      expectV2Error(await call("PublishDatasetVersion", { versionId: "ds-nosuchversion000" }), 400, "InappropriateJSON", "versionId");
      expectV2Error(await call("DescribeImportTask", { taskId: "dsit-nosuchtask00" }), 400, "InappropriateJSON", "taskId");
      expectV2Error(await call("CreateImportTask", { versionId: "ds-nosuchversion000", files: ["bos:/up/x.jsonl"] }), 400, "InappropriateJSON", "versionId");
      expectV2Error(await call("CreateImportTask", { versionId: "ds-x", files: [] }), 400, "InappropriateJSON", "files");
      expectV2Error(await call("DescribeDatasets", { marker: "ds-nosuchdataset0000" }), 400, "InvalidMarker");
      expectV1Error(await v1("info", { datasetId: 987654 }), "datasetId");
      expectV1Error(await v1("info", { datasetId: "ds-nosuchversion000" }), "datasetId");
      expectV1Error(await v1("info", {}), "datasetId");
      expectV1Error(await v1("statusList", { datasetIds: [987654] }), "datasetIds[0]");
      expectV1Error(await v1("delete", { datasetId: 987654 }), "datasetId");
      expectV1Error(await v1("release", { datasetId: true }), "datasetId");
      expectV1Error(await v1("create", { name: "x", projectType: 402, templateType: 40200, dataType: 4, storageType: "sysBos" }), "templateType");
      expectV1Error(await v1("create", { name: "x", projectType: 20, templateType: 40100, dataType: 4, storageType: "sysBos" }), "templateType");
      expectV1Error(await v1("create", { name: "x", projectType: 20, templateType: 2000, dataType: 7, storageType: "sysBos" }), "dataType");
      expectV1Error(await v1("create", { name: "x", projectType: 20, templateType: 2000, dataType: 4, storageType: "usrBos" }), "storageId");
    });

    test("V1 create / import / info / statusList / release / delete, ids as numbers and as strings", async () => {
      const created = await v1ok("create", { name: "v1set", versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: "sysBos" });
      assert.equal(typeof created.id, "number");
      assert.equal(typeof created.groupId, "number");
      assert.equal(created.groupPK, String(created.groupId));
      assert.match(created.groupIdStr, /^ds-[a-z0-9]{16}$/);
      assert.match(created.datasetId, /^ds-[a-z0-9]{16}$/);
      assert.equal(created.versionId, 1);
      assert.equal(created.groupName, "v1set");
      assert.equal(created.displayName, "v1set_V1");
      assert.equal(created.projectType, 20);
      assert.equal(created.templateType, 2000);
      assert.equal(created.dataType, 4);
      assert.equal(created.importStatus, -1);
      assert.equal(created.releaseStatus, 0);
      assert.equal(created.exportStatus, -1);
      assert.equal(created.storageInfo.storageId, "sailfin");
      assert.match(created.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);

      await put("up", "v1/data.jsonl", `${pr("问题一", "回答一")}\n${pr("问题二", "回答二")}\n`);
      assert.equal(await v1ok("import", { datasetId: created.id, annotated: true, importFrom: 1, files: ["bos:/up/v1/data.jsonl"] }), true);
      const refused = await v1("import", { datasetId: created.id, importFrom: 2, files: ["https://x/y.zip"] });
      expectV1Error(refused, "importFrom");
      await drain();

      for (const id of [created.id, String(created.id), created.datasetId]) {
        const info = await v1ok("info", { datasetId: id });
        assert.equal(info.name, "v1set");
        assert.equal(info.groupPK, String(created.groupId));
        assert.equal(info.dataType, 4);
        const v = info.versionInfo;
        assert.equal(v.id, created.id);
        assert.equal(v.datasetId, created.id);
        assert.equal(v.datasetPK, created.datasetId);
        assert.equal(v.groupId, created.groupId);
        assert.equal(v.importStatus, 2);
        assert.equal(v.importProgress, 100);
        assert.equal(v.releaseStatus, 0);
        assert.equal(v.projectType, 20);
        assert.equal(v.templateType, 2000);
        assert.equal(v.entityCount, 2);
        assert.equal(v.characterCount, 12);
        assert.equal(typeof v.memorySize, "number");
        assert.ok(v.memorySizeBytes > 0);
        assert.equal(v.importErrorInfo.errorCount, 0);
        assert.deepEqual(v.importErrorInfo.errors, []);
        assert.match(v.createTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      }

      const statuses = await v1ok("statusList", { datasetIds: [created.id, created.datasetId] });
      assert.deepEqual(Object.keys(statuses).sort(), [String(created.id), created.datasetId].sort());
      assert.equal(statuses[String(created.id)].importStatus, 2);
      assert.equal(statuses[created.datasetId].entityCount, 2);
      assert.equal(statuses[created.datasetId].releaseStatus, 0);

      assert.equal(await v1ok("release", { datasetId: created.datasetId }), true);
      assert.equal((await v1ok("info", { datasetId: created.id })).versionInfo.releaseStatus, 2);
      assert.equal((await v1ok("statusList", { datasetIds: [created.id] }))[String(created.id)].releaseStatus, 2);

      // A second version in the same group (V1 names the version number it creates).
      const second = await v1ok("create", { name: "v1set", versionId: 2, projectType: 20, templateType: 2000, dataType: 4, storageType: "sysBos" });
      assert.equal(second.groupId, created.groupId);
      assert.equal(second.versionId, 2);
      expectV1Error(await v1("create", { name: "v1set", versionId: 5, projectType: 20, templateType: 2000, dataType: 4, storageType: "sysBos" }), "versionId");

      assert.deepEqual(await v1ok("delete", { datasetId: String(second.id) }), { versionCount: 1 });
      assert.deepEqual(await v1ok("delete", { datasetId: created.id }), { versionCount: 0 });
      expectV1Error(await v1("info", { datasetId: created.id }), "datasetId");
      // The group went with its last version.
      expectV2Error(await call("DescribeDatasetVersions", { datasetId: created.groupIdStr }), 400, "InappropriateJSON", "datasetId");
    });

    test("V1 usrBos storage is recorded; V2 BOS storagePath is normalised", async () => {
      const created = await v1ok("create", { name: "bos", versionId: 1, projectType: 401, templateType: 40100, dataType: 4, storageType: "usrBos", storageId: "mybucket", rawStoragePath: "/corpus/" });
      assert.deepEqual(created.storageInfo, { storageId: "mybucket", storageName: "mybucket", storagePath: "/mybucket/corpus/", rawStoragePath: "corpus/", region: "local" });
      const v2set = await ok("CreateDataset", { datasetName: "bos2", dataFormat: "KTO_PromptChosenRejected", storageType: "BOS", storagePath: "bos:/mybucket/dir" });
      assert.equal(v2set.storagePath, "bos:/mybucket/dir/");
      assert.equal(v2set.dataFormat, "DPO_PromptChosenRejected");
      const info = await v1ok("info", { datasetId: v2set.versionId });
      assert.equal(info.versionInfo.projectType, 20);
      assert.equal(info.versionInfo.templateType, 2002);
      assert.equal(info.versionInfo.storageType, "usrBos");
    });

    test("versions: create, list newest first with keyset pages, delete", async () => {
      const created = await ok("CreateDataset", { datasetName: "versions", dataFormat: "Messages", storageType: "sysStorage" });
      const v2 = await ok("CreateDatasetVersion", { datasetId: created.datasetId, description: "second" });
      assert.equal(v2.version, 2);
      assert.equal(v2.datasetId, created.datasetId);
      assert.equal(v2.description, "second");
      const v3 = await ok("CreateDatasetVersion", { datasetId: created.datasetId });
      assert.equal(v3.version, 3);
      const page1 = await ok("DescribeDatasetVersions", { datasetId: created.datasetId, maxKeys: 2 });
      assert.deepEqual(page1.versions.map((v: any) => v.version), [3, 2]);
      assert.equal(page1.pageInfo.isTruncated, true);
      assert.equal(page1.pageInfo.maxKeys, 2);
      const page2 = await ok("DescribeDatasetVersions", { datasetId: created.datasetId, maxKeys: 2, marker: page1.pageInfo.nextMarker });
      assert.deepEqual(page2.versions.map((v: any) => v.version), [1]);
      assert.equal(page2.pageInfo.isTruncated, false);
      assert.equal(await ok("DeleteDatasetVersion", { versionId: v2.versionId }), true);
      const after = await ok("DescribeDatasetVersions", { datasetId: created.datasetId });
      assert.deepEqual(after.versions.map((v: any) => v.version), [3, 1]);
      expectV2Error(await call("DescribeDatasetVersion", { versionId: v2.versionId }), 400, "InappropriateJSON", "versionId");
      const next = await ok("CreateDatasetVersion", { datasetId: created.datasetId });
      assert.equal(next.version, 4, "numbers are never reused");
    });

    test("12 concurrent CreateDatasetVersion on one dataset all succeed with distinct numbers", async () => {
      const created = await ok("CreateDataset", { datasetName: "concurrent-versions", dataFormat: "Messages", storageType: "sysStorage" });
      const answers = await Promise.all(Array.from({ length: 12 }, () => call("CreateDatasetVersion", { datasetId: created.datasetId })));
      assert.deepEqual(answers.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`), []);
      assert.deepEqual(answers.map((r) => r.body.result.version).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 2));
    });

    test("DescribeDatasets pages with markers (newest first, pageReverse, filters)", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await ok("CreateDataset", { datasetName: "paged", dataFormat: "Text", storageType: "sysStorage" })).datasetId);
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await ok("DescribeDatasets", { maxKeys: 2, filter: { datasetName: "paged" }, ...(marker === undefined ? {} : { marker }) });
        assert.ok(page.datasets.length <= 2);
        assert.equal(page.pageInfo.marker, marker ?? "");
        for (const d of page.datasets) {
          assert.equal(d.datasetName, "paged");
          assert.equal(d.versionCount, 1);
          assert.equal(d.latestVersion, 1);
          seen.push(d.datasetId);
        }
        marker = page.pageInfo.isTruncated ? page.pageInfo.nextMarker : undefined;
        pages++;
      } while (marker !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...ids].reverse());
      const reversed = await ok("DescribeDatasets", { maxKeys: 100, pageReverse: true, filter: { datasetName: "paged" } });
      assert.deepEqual(reversed.datasets.map((d: any) => d.datasetId), ids);
      const all = await ok("DescribeDatasets", { maxKeys: 1000 });
      assert.equal(all.pageInfo.maxKeys, 100);
      const texts = await ok("DescribeDatasets", { maxKeys: 100, filter: { dataFormat: "Text" } });
      assert.ok(texts.datasets.every((d: any) => d.dataFormat === "Text"));
      expectV2Error(await call("DescribeDatasets", { filter: { dataFormat: "Nope" } }), 400, "InappropriateJSON", "filter.dataFormat");
    });

    test("deletes are refused while a fine-tuning task that is not finished uses the version", async () => {
      await put("up", "used/data.jsonl", `${pr("Q", "A")}\n`);
      const { versionId, datasetId } = await imported("PromptResponse", ["bos:/up/used/data.jsonl"], "used");
      await ok("PublishDatasetVersion", { versionId });
      const db = server.server.res.db;
      const runId = newId("task");
      const runNum = await enqueueRun(db, ADMIN, {
        id: runId, kind: "finetune", jobNum: 1, trainMode: "SFT", parameterScale: "LoRA", modelVersionNum: 1, spec: {},
        datasetHashes: { [versionId]: "h" },
      });
      await db.updateTable("runs").set({ status: "Running", attempt: 1, started_at: nowIso() }).where("num", "=", runNum).execute();
      const r = await call("DeleteDatasetVersion", { versionId });
      expectV2Error(r, 409, "ResourceInUse", "versionId");
      assert.ok(r.body.message.includes(runId));
      expectV2Error(await call("DeleteDataset", { datasetId }), 409, "ResourceInUse", "datasetId");
      expectV1Error(await v1("delete", { datasetId: versionId }), "datasetId");
      await db.updateTable("runs").set({ status: "Succeeded", finished_at: nowIso() }).where("id", "=", runId).execute();
      assert.equal(await ok("DeleteDataset", { datasetId }), true);
      expectV2Error(await call("DescribeDatasetVersion", { versionId }), 400, "InappropriateJSON", "versionId");
      await assert.rejects(readFile(join(server.home, "datasets", versionId, "data.jsonl")));
    });

    test("an import whose worker died is taken again after its lease expired, and finished once", async () => {
      await put("up", "resume/data.jsonl", `${pr("Q", "A")}\n${pr("Q2", "A2")}\n`);
      const created = await ok("CreateDataset", { datasetName: "resume", dataFormat: "PromptResponse", storageType: "sysStorage" });
      const db = server.server.res.db;
      // What a crash leaves behind: the task and the version importing, the run Running under a lease that expired.
      const version = await db.selectFrom("dataset_versions").select("num").where("id", "=", created.versionId).executeTakeFirstOrThrow();
      const taskId = newId("importTask");
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("dataset_versions").set({ state: "Importing" }).where("num", "=", version.num).execute();
        const task = await trx.insertInto("dataset_imports").values({
          id: taskId, version_num: version.num, files: JSON.stringify(["bos:/up/resume/data.jsonl"]), status: "Running", error: null,
          created_at: nowIso(), finished_at: null,
        }).returning("num").executeTakeFirstOrThrow();
        await enqueueRun(trx, ADMIN, {
          id: taskId, kind: "dataset-import", name: "resume", description: "", spec: { importNum: Number(task.num) },
        });
        await trx.updateTable("runs").set({
          status: "Running", attempt: 1, lease_owner: "dead-worker", lease_token: "lost", lease_expires_at: new Date(Date.now() - 1_000).toISOString(), started_at: nowIso(),
        }).where("id", "=", taskId).execute();
      });
      expectV2Error(await call("CreateImportTask", { versionId: created.versionId, files: ["bos:/up/resume/data.jsonl"] }), 409, "ResourceInUse", "versionId");
      // The server's worker returns the run to the queue at its next poll, claims it and imports.
      await drain();
      assert.equal((await ok("DescribeImportTask", { taskId })).importStatus, "Finished");
      const v = await ok("DescribeDatasetVersion", { versionId: created.versionId });
      assert.equal(v.importStatus, "Finished");
      assert.equal(v.sampleCount, 2);
      const run = await db.selectFrom("runs").select(["status", "attempt"]).where("id", "=", taskId).executeTakeFirstOrThrow();
      assert.deepEqual(run, { status: "Succeeded", attempt: 2 });
      const events = await db.selectFrom("events").select(["object_kind", "to_state", "reason"]).where("object_id", "in", [taskId, created.versionId])
        .where("to_state", "in", ["Queued", "Finished", "Imported", "Succeeded"]).orderBy("num").execute();
      assert.deepEqual(events.map((e) => `${e.object_kind} ${e.to_state}`), [
        "run Queued", "run Queued", "run Succeeded", "datasetVersion Imported", "datasetImport Finished",
      ]);
      assert.equal(events[1]!.reason, "lease of dead-worker expired");
    });

    test("the upload route stores a file the import then reads", async () => {
      const r = await rawCall(server.url, { method: "PUT", path: "/sailfin/v1/objects/up/raw/one.jsonl", body: `${JSON.stringify({ text: "床前明月光" })}\n` });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.result.uri, "bos:/up/raw/one.jsonl");
      const { versionId } = await imported("Text", [r.body.result.uri], "raw");
      const v = await ok("DescribeDatasetVersion", { versionId });
      assert.equal(v.sampleCount, 1);
      assert.equal(v.characterCount, 5);
    });

    test("an object PUT where a folder is, or under an object, is a 409 in the envelope and leaves no temporary", async () => {
      const put = (path: string) => rawCall(server.url, { method: "PUT", path: `/sailfin/v1/objects/clash/${path}`, body: "x" });
      assert.equal((await put("f")).status, 200);
      assert.equal((await put("d/inner")).status, 200);
      for (const path of ["f/child", "f/deeper/child", "d"]) {
        const r = await put(path);
        assert.equal(r.status, 409, `${path}: ${r.text}`);
        assert.equal(r.body.code, "ResourceInUse", r.text);
        assert.match(r.body.message, /param\[objectPath\] invalid: .*cannot also be a folder/, r.text);
        assert.equal(typeof r.body.requestId, "string");
      }
      assert.equal((await server.server.res.artifacts.stat("buckets/clash/f"))?.size, 1, "the object is untouched");
      assert.equal((await server.server.res.artifacts.stat("buckets/clash/d/inner"))?.size, 1);
      const leftovers = (await server.server.res.artifacts.list(".tmp/")).map((o) => o.key);
      assert.deepEqual(leftovers.filter((k) => k.endsWith(".part")), []);
    });

    test("CLI: sailfin datasets upload / list / show", async () => {
      const env = { QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey };
      const good = join(work, "good chat.jsonl");
      await writeFile(good, `${chat("你好", "您好")}\r\n${chat("1+1", "2")}\r\n`);
      const bad = join(work, "bad.jsonl");
      await writeFile(bad, [pr("Q", "A"), JSON.stringify([{ prompt: "Q", response: "A" }]), "oops", JSON.stringify([{ prompt: "Q", response: [["A"], ["B"]] }])].join("\n"));
      // Independent processes run side by side: each CLI start costs ~0.5 s.
      const [up, failed] = await Promise.all([
        runCli(["datasets", "upload", good, "--name", "cli-chat", "--format", "Messages"], env),
        runCli(["datasets", "upload", bad, "--name", "cli-bad", "--format", "PromptResponse"], env),
      ]);
      assert.equal(up.code, 0, up.stderr + up.stdout);
      const released = /released (ds-[a-z0-9]{16})/.exec(up.stdout);
      assert.ok(released, up.stdout);
      const versionId = released[1]!;
      assert.match(up.stdout, /imported 2 records/);
      const version = await ok("DescribeDatasetVersion", { versionId });
      assert.equal(version.publishStatus, "Published");
      assert.equal(version.dataFormat, "Messages");
      assert.match((await ok("DescribeImportTask", { taskId: (await server.server.res.db.selectFrom("dataset_imports").select("id").orderBy("num", "desc").where("files", "like", "%good_chat.jsonl%").executeTakeFirstOrThrow()).id })).files[0], /^bos:\/uploads\/[0-9-]+-[0-9a-f]{12}\/good_chat\.jsonl$/);

      assert.equal(failed.code, 1, failed.stdout);
      assert.match(failed.stdout, /import failed: 3 invalid lines/);
      assert.match(failed.stdout, /^line 2, \[0\]\.response: must be a list holding one list of one string/m);
      assert.match(failed.stdout, /^line 3, \$: not valid JSON/m);
      assert.match(failed.stdout, /^line 4, \[0\]\.response: must hold exactly one answer/m);
      assert.match(failed.stdout, /was not released/);

      const [list, show, showGroup, wrongFormat] = await Promise.all([
        runCli(["datasets", "list", "--json"], env),
        runCli(["datasets", "show", versionId], env),
        runCli(["datasets", "show", version.datasetId, "--json"], env),
        runCli(["datasets", "upload", good, "--name", "x", "--format", "Nope"], env),
      ]);
      assert.equal(list.code, 0, list.stderr);
      const names = (JSON.parse(list.stdout) as any[]).map((d) => d.datasetName);
      assert.ok(names.includes("cli-chat") && names.includes("cli-bad"));
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /publishStatus: Published/);
      assert.match(show.stdout, /sampleCount: 2/);
      assert.equal(showGroup.code, 0, showGroup.stderr);
      assert.equal(JSON.parse(showGroup.stdout)[0].versionId, versionId);
      assert.equal(wrongFormat.code, 1);
      assert.match(wrongFormat.stderr, /param\[dataFormat\]/);
    });
  });
}
