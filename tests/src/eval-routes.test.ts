import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { nowIso } from "@sailfin/contract";
import { downloadQuery } from "@sailfin/engine";
import { rawCall, startTestServer, testDialects, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset, type ReleasedDataset } from "./fixtures/dataset-imports.js";
import { startFakeJudge } from "./fixtures/fake-judge.js";
import { TINY, importBaseModel, importModel, stageFolder, writeTinyModels, type ImportedModel, type TinyModelFolders } from "./fixtures/model-imports.js";

/**
 * The evaluation routes of both dialects (reference §8, seed 002): validation that names the
 * request's own fields, the shapes of detail/report/result list/export info, stopping and
 * deleting, and the signed download link. No worker runs here, so evaluations stay Queued; the
 * finished ones are made by `finishEval` below, which writes what the worker would (the worker
 * itself is tested with the real runtime elsewhere).
 */

const ISO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
const EXPORT_INFO_KEYS = ["id", "idStr", "exportID", "exportIDStr", "state", "exportType", "volumeId", "exportPath", "downloadUrl"];

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`evaluation routes (${dialect})`, () => {
    let server: TestServer;
    let model: ImportedModel;
    let broken: ImportedModel;
    let promptData: ReleasedDataset;
    let textData: ReleasedDataset;

    const v1 = (op: string, body: unknown) => v1Raw(server, `/wenxinworkshop/modelrepo/eval/${op}`, body);
    const v2 = (action: string, body: unknown) => v2Raw(server, "eval", action, body);
    async function ok1(op: string, body: unknown): Promise<any> {
      const r = await v1(op, body);
      assert.equal(r.status, 200);
      assert.equal(r.body.error_code, undefined, `${op}: ${r.text}`);
      return r.body.result;
    }
    const ok2 = (action: string, body: unknown) => v2Ok(server, "eval", action, body);
    async function fails1(op: string, body: unknown, field: string, code = 500001): Promise<string> {
      const r = await v1(op, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.error_code, code, r.text);
      assert.ok(r.body.error_msg.startsWith(`param[${field}] invalid`), `expected param[${field}]: ${r.body.error_msg}`);
      return r.body.error_msg as string;
    }
    async function fails2(action: string, body: unknown, field: string, code = "InappropriateJSON", status = 400): Promise<string> {
      const r = await v2(action, body);
      assert.equal(r.status, status, `${action} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.code, code, r.text);
      assert.ok(r.body.message.includes(`param[${field}] invalid`), `expected param[${field}]: ${r.body.message}`);
      return r.body.message as string;
    }

    const unit1 = (extra: Record<string, unknown> = {}) => ({ modelId: model.setNum, modelVersionId: model.versionNum, ...extra });
    const create1 = (extra: Record<string, unknown> = {}) => ({
      name: "eval-v1", description: "d", datasetId: promptData.num, versionEvalInfo: [unit1()],
      evalStandardConf: { evalMode: "rule", scoreModes: ["similarity", "accuracy"] }, computeResourceConf: { vmType: 1, vmNumber: 8 }, ...extra,
    });
    const modelConfig = (extra: Record<string, unknown> = {}) => ({ modelId: model.versionId, promptTemplate: "Q: {input}", ...extra });
    const create2 = (extra: Record<string, unknown> = {}, evalModelConfig: Record<string, unknown> = {}) => ({
      taskName: "eval-v2", evalObjectType: "model",
      evalObjectConfig: { evalModelConfig: { versionId: promptData.versionId, evalModelConfigList: [modelConfig()], ...evalModelConfig } },
      evalConfig: { evalMode: "rule" }, ...extra,
    });

    /**
     * Makes a Queued evaluation look finished, as the worker leaves one: two results per unit
     * (bleu4 0.2 and 0.8), the unit outcomes and Succeeded. Returns the result numbers.
     */
    async function finishEval(evalId: string): Promise<number[]> {
      const db = server.server.res.db;
      const run = await db.selectFrom("runs").selectAll().where("id", "=", evalId).executeTakeFirstOrThrow();
      const spec = JSON.parse(run.spec) as { units: Array<{ index: number; modelVersionNum: number }> };
      for (const unit of spec.units) {
        for (const [sample, bleu4] of [0.2, 0.8].entries()) {
          await db.insertInto("eval_results").values({
            eval_run_num: run.num, unit_index: unit.index, model_version_num: unit.modelVersionNum, sample_index: sample,
            prompt: `question ${sample}`, prediction: `guess ${sample}`, reference: `answer ${sample}`, finish_reason: "stop",
            metrics: JSON.stringify({ bleu4, rouge_1: bleu4, rouge_2: bleu4, rouge_l: bleu4 }), judge_score: null, judge_error: null, created_at: nowIso(),
          }).execute();
        }
      }
      const result = {
        partly: false,
        units: spec.units.map((u) => ({
          index: u.index, state: "Done", message: "", samples: 2, failedSamples: 0, generatedTokens: 20, tokensPerSecond: 12.5, sizeBytes: 4096,
          effectMetric: { bleu4: 0.5, rouge_1: 0.5, rouge_2: 0.5, rouge_l: 0.5 },
        })),
      };
      await db.updateTable("runs").set({ status: "Succeeded", progress: 100, started_at: nowIso(), finished_at: nowIso(), result: JSON.stringify(result) })
        .where("num", "=", run.num).execute();
      return (await db.selectFrom("eval_results").select("num").where("eval_run_num", "=", run.num).orderBy("num", "asc").execute()).map((r) => Number(r.num));
    }

    /** Makes an export finished, with a file in the artifact store, as the worker leaves one. */
    async function finishExport(exportId: string, bytes: Buffer): Promise<void> {
      const res = server.server.res;
      const key = `exports/${exportId}/results.zip`;
      await res.artifacts.put(key, bytes);
      const result = { key, exportPath: `eval_result_export/${exportId}.zip`, fileName: `${exportId}.zip`, rows: 2, bytes: bytes.length };
      await res.db.updateTable("runs").set({ status: "Succeeded", progress: 100, finished_at: nowIso(), result: JSON.stringify(result) })
        .where("id", "=", exportId).execute();
    }

    before(async () => {
      // The judge URL the create tests name is an operator endpoint; there is no default one.
      server = await startTestServer(dialect, { SAILFIN_JUDGE_ENDPOINTS: JSON.stringify({ local: { url: "http://127.0.0.1:9/v1" } }) });
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      await stageFolder(server, tiny.dir("llama"), "hub", "broken", ["tokenizer.json"]);
      model = await importBaseModel(server, "eval-model", { bucket: "hub", objectPath: "llama" });
      broken = await importModel(server, "eval-broken", { bucket: "hub", objectPath: "broken" });
      assert.equal(broken.version.status, "Fail");
      promptData = await releasedDataset(server, { name: "eval-prompts", format: "PromptResponse" });
      textData = await releasedDataset(server, { name: "eval-text", format: "Text" });
    });
    after(async () => { await server.close(); });

    test("V1 create and detail: ids in both forms, the units, the dataset version, echoes", async () => {
      const created = await ok1("create", create1());
      assert.equal(typeof created.evalId, "number");
      assert.match(created.evalIdStr, /^ame-[a-z0-9]{12}$/);
      for (const id of [created.evalId, created.evalIdStr, String(created.evalId)]) {
        const detail = await ok1("detail", { id });
        assert.equal(detail.evaluationId, created.evalId);
        assert.equal(detail.evaluationIdStr, created.evalIdStr);
      }
      const detail = await ok1("detail", { id: created.evalIdStr });
      assert.equal(detail.name, "eval-v1");
      assert.equal(detail.description, "d");
      assert.equal(detail.state, "Pending");
      assert.equal(detail.datasetId, promptData.num);
      assert.equal(detail.datasetIdStr, promptData.versionId);
      assert.equal(detail.datasetName, "eval-prompts");
      assert.deepEqual(detail.computeResourceConf, { vmType: 1, vmNumber: 8 });
      assert.deepEqual(detail.evalStandardConf, { evalMode: "rule", scoreModes: ["similarity", "accuracy"] });
      assert.match(detail.createTime, ISO_OFFSET);
      assert.equal(detail.finishTime, "");
      assert.equal(detail.progress, 0);
      assert.equal(detail.failReason, undefined);
      assert.deepEqual(detail.evalUnits, [{
        modelVersionId: model.versionNum, modelVersionIdStr: model.versionId, modelId: model.setNum, modelIdStr: model.setId,
        modelName: "eval-model", modelVersion: "1", modelSource: "Import", state: "Pending", modelVersionDesc: "", message: "", modelTags: [],
      }]);
      // The same evaluation through V2.
      const task = await ok2("DescribeEvalTask", { taskId: created.evalIdStr });
      assert.equal(task.state, "Queued");
      assert.equal(task.evalType, "auto");
      assert.equal(task.datasetVersionId, promptData.versionId);
      assert.equal(task.models[0].modelId, model.versionId);
    });

    test("V1 create refuses what cannot be evaluated, naming the request's field", async () => {
      await fails1("create", create1({ datasetId: textData.num }), "datasetId");
      await fails1("create", create1({ datasetId: "ds-doesnotexist0000" }), "datasetId");
      await fails1("create", create1({ versionEvalInfo: [{ modelVersionId: broken.versionNum }] }), "versionEvalInfo[0].modelVersionId");
      await fails1("create", create1({ versionEvalInfo: [unit1(), { modelVersionId: 999_999 }] }), "versionEvalInfo[1].modelVersionId");
      await fails1("create", create1({ versionEvalInfo: [unit1({ modelId: broken.setNum })] }), "versionEvalInfo[0].modelId");
      const noInput = await fails1("create", create1({
        versionEvalInfo: [unit1({ prompt: { enable: true, content: "Q: {input}" } }), unit1({ prompt: { enable: true, content: "no placeholder" } })],
      }), "versionEvalInfo[1].prompt.content");
      assert.match(noInput, /\{input\}/);
      // A disabled template is not used, so it is not checked either.
      await ok1("create", create1({ versionEvalInfo: [unit1({ prompt: { enable: false, content: "no placeholder" } })] }));
      await fails1("create", create1({ versionEvalInfo: [unit1({ prompt: { enable: true } })] }), "versionEvalInfo[0].prompt.content");
      await fails1("create", create1({ versionEvalInfo: Array.from({ length: 6 }, () => unit1()) }), "versionEvalInfo");
      await fails1("create", create1({ versionEvalInfo: [] }), "versionEvalInfo");
      await fails1("create", create1({ versionEvalInfo: [unit1({ params: { temperature: 2 } })] }), "versionEvalInfo[0].params.temperature");
      assert.match(await fails1("create", create1({ evalStandardConf: { evalMode: "rule,people" } }), "evalStandardConf.evalMode"), /people/);
      await fails1("create", create1({ evalStandardConf: { evalMode: "manual", evaluationDimension: [{ dimension: "a", minScore: 3, maxScore: 3 }] } }), "evalStandardConf.evaluationDimension[0].maxScore");
      await fails1("create", create1({ evalStandardConf: { evalMode: "rule,model", apiName: "judge" } }), "evalStandardConf.apiUrl");
      await fails1("create", create1({ evalStandardConf: { evalMode: "model", apiUrl: "ftp://judge" } }), "evalStandardConf.apiUrl");
      await fails1("create", create1({ id: 5 }), "id");
      // With an endpoint the same request is accepted, and its judge settings are echoed.
      const conf = { evalMode: "rule,model", apiUrl: "http://127.0.0.1:9/v1", apiName: "judge", prompt: { minScore: 1, maxScore: 5 } };
      const created = await ok1("create", create1({ evalStandardConf: conf }));
      assert.deepEqual((await ok1("detail", { id: created.evalId })).evalStandardConf, conf);
    });

    test("a judge URL the operator did not allow is refused in both dialects, and nothing is sent to it", async () => {
      const internal = await startFakeJudge({ behaviour: "score" });
      try {
        for (const apiUrl of [internal.url, `${internal.url.replace(/\/v1$/, "")}/admin?x=`, "http://127.0.0.1:9/admin?x=", "http://127.0.0.1:9/v1/../admin"]) {
          const v1msg = await fails1("create", create1({ evalStandardConf: { evalMode: "rule,model", apiUrl } }), "evalStandardConf.apiUrl");
          assert.match(v1msg, /not a judge endpoint this server allows/);
          await fails2("CreateEvalTask", create2({ evalConfig: { evalMode: "model", autoModelEvalConfig: { apiUrl } } }), "evalConfig.autoModelEvalConfig.apiUrl");
        }
        assert.equal(internal.requests.length, 0, "the server never called the refused URL");
        // A host the operator lets callers name is accepted (the worker calls it without the operator's key).
        const open = await startTestServer(dialect, { SAILFIN_JUDGE_ALLOW_CALLER_URLS: "127.0.0.1" });
        try {
          await stageFolder(open, tiny.dir("llama"), "hub", "llama");
          const openModel = await importBaseModel(open, "eval-model", { bucket: "hub", objectPath: "llama" });
          const openData = await releasedDataset(open, { name: "eval-prompts", format: "PromptResponse" });
          const r = await v2Raw(open, "eval", "CreateEvalTask", create2({ evalConfig: { evalMode: "model", autoModelEvalConfig: { apiUrl: internal.url } } }, {
            versionId: openData.versionId, evalModelConfigList: [modelConfig({ modelId: openModel.versionId })],
          }));
          assert.equal(r.status, 200, r.text);
          const elsewhere = await v2Raw(open, "eval", "CreateEvalTask", create2({ evalConfig: { evalMode: "model", autoModelEvalConfig: { apiUrl: "http://localhost:9/v1" } } }, {
            versionId: openData.versionId, evalModelConfigList: [modelConfig({ modelId: openModel.versionId })],
          }));
          assert.equal(elsewhere.status, 400, elsewhere.text);
        } finally {
          await open.close();
        }
      } finally {
        await internal.close();
      }
    });

    test("unknown configuration keys are dropped, not stored or shown back; deep nesting is no 500", async () => {
      // 5,000 levels: JSON.stringify (which stores a spec) overflows its stack on this.
      const deep = `${'{"a":'.repeat(5_000)}{}${"}".repeat(5_000)}`;
      const specOf = async (id: string) => JSON.parse((await server.server.res.db.selectFrom("runs").select("spec").where("id", "=", id).executeTakeFirstOrThrow()).spec);
      const v2body = JSON.stringify(create2({ evalConfig: { evalMode: "rule", extra: "DEEP", autoRuleEvalConfig: { stopWordsPath: "", x: 1 } } })).replace('"DEEP"', deep);
      const r2 = await rawCall(server.url, { path: "/v2/eval", query: { Action: "CreateEvalTask" }, body: v2body });
      assert.equal(r2.status, 200, r2.text.slice(0, 500));
      const echo2 = (await specOf(r2.body.result)).echo;
      assert.deepEqual(echo2.evalConfig, { evalMode: "rule", autoRuleEvalConfig: { stopWordsPath: "" } });

      const v1body = JSON.stringify(create1({ evalStandardConf: { evalMode: "rule", junk: "DEEP", prompt: { metric: "m", other: true } } })).replace('"DEEP"', deep);
      const r1 = await rawCall(server.url, { path: "/wenxinworkshop/modelrepo/eval/create", body: v1body });
      assert.equal(r1.body.error_code, undefined, r1.text.slice(0, 500));
      const detail = await ok1("detail", { id: r1.body.result.evalId });
      assert.deepEqual(detail.evalStandardConf, { evalMode: "rule", prompt: { metric: "m" } });
      assert.deepEqual(detail.computeResourceConf, { vmType: 1, vmNumber: 8 });
      // computeResourceConf is only echoed: flat values only, so nothing deep is kept.
      const deepResources = JSON.stringify(create1({ computeResourceConf: { vmType: "DEEP" } })).replace('"DEEP"', deep);
      const refused = await rawCall(server.url, { path: "/wenxinworkshop/modelrepo/eval/create", body: deepResources });
      assert.equal(refused.status, 200);
      assert.equal(refused.body.error_code, 500001, refused.text.slice(0, 300));
      assert.match(refused.body.error_msg, /^param\[computeResourceConf\.vmType\] invalid/);
    });

    test("a compression's unknown config keys are dropped, not stored or shown back; deep nesting is no 500", async () => {
      const deep = `${'{"a":'.repeat(5_000)}{}${"}".repeat(5_000)}`;
      const body = JSON.stringify({
        name: "strict-config", sourceModelId: model.versionId, modelSetId: model.setId,
        config: { strategy: "Quantization", weight: "W8A16C16", extra: "DEEP" },
      }).replace('"DEEP"', deep);
      const created = await rawCall(server.url, { path: "/v2/model", query: { Action: "CreateModelCompTask" }, body });
      assert.equal(created.status, 200, created.text.slice(0, 500));
      const described = await v2Raw(server, "model", "DescribeModelCompTask", { modelCompTaskId: created.body.result });
      assert.equal(described.status, 200, described.text.slice(0, 500));
      assert.deepEqual(described.body.result.config, { strategy: "Quantization", weight: "W8A16C16", quantConf: "wint8" });
      await v2Raw(server, "model", "CancelModelCompTask", { modelCompTaskId: created.body.result });
    });

    test("V2 CreateEvalTask refuses what cannot be evaluated, naming the request's field", async () => {
      const cfg = "evalObjectConfig.evalModelConfig";
      await fails2("CreateEvalTask", create2({}, { versionId: textData.versionId }), `${cfg}.versionId`);
      await fails2("CreateEvalTask", create2({}, { evalModelConfigList: [modelConfig({ modelId: broken.versionId })] }), `${cfg}.evalModelConfigList[0].modelId`);
      await fails2("CreateEvalTask", create2({}, { evalModelConfigList: [modelConfig(), modelConfig({ modelId: "amv-missing00000" })] }), `${cfg}.evalModelConfigList[1].modelId`);
      await fails2("CreateEvalTask", create2({}, { evalModelConfigList: [modelConfig(), modelConfig({ promptTemplate: "no placeholder" })] }), `${cfg}.evalModelConfigList[1].promptTemplate`);
      await fails2("CreateEvalTask", create2({}, { evalModelConfigList: Array.from({ length: 6 }, () => modelConfig()) }), `${cfg}.evalModelConfigList`);
      await fails2("CreateEvalTask", create2({}, { evalModelConfigList: [modelConfig({ inferenceParams: { top_p: 1.5 } })] }), `${cfg}.evalModelConfigList[0].inferenceParams.top_p`);
      await fails2("CreateEvalTask", create2({}, { storageType: "BOS", storagePath: "bos:/b/p" }), `${cfg}.storageType`);
      await fails2("CreateEvalTask", create2({ evalObjectType: "inferDataset" }), "evalObjectConfig.evalInferDatasetConfig");
      await fails2("CreateEvalTask", create2({ evalObjectConfig: {} }), cfg);
      await fails2("CreateEvalTask", create2({ evalConfig: { evalMode: "manual,judge" } }), "evalConfig.evalMode");
      await fails2("CreateEvalTask", create2({ evalConfig: { evalMode: "model", autoModelEvalConfig: { apiName: "judge" } } }), "evalConfig.autoModelEvalConfig.apiUrl");
      await fails2("CreateEvalTask", create2({ evalConfig: { evalMode: "model", autoModelEvalConfig: { apiUrl: "http://127.0.0.1:9/v1", prompt: { minScore: 5, maxScore: 1 } } } }), "evalConfig.autoModelEvalConfig.prompt.maxScore");
      // A server started with SAILFIN_JUDGE_URL uses it for a missing apiUrl.
      const judged = await startTestServer(dialect, { SAILFIN_JUDGE_URL: "http://127.0.0.1:9/v1" });
      try {
        await stageFolder(judged, tiny.dir("llama"), "hub", "llama");
        const judgedModel = await importBaseModel(judged, "eval-model", { bucket: "hub", objectPath: "llama" });
        const judgedData = await releasedDataset(judged, { name: "eval-prompts", format: "PromptResponse" });
        const r = await v2Raw(judged, "eval", "CreateEvalTask", create2({ evalConfig: { evalMode: "model" } }, {
          versionId: judgedData.versionId, evalModelConfigList: [modelConfig({ modelId: judgedModel.versionId })],
        }));
        assert.equal(r.status, 200, r.text);
        const id = r.body.result as string;
        assert.match(id, /^ame-[a-z0-9]{12}$/);
        const spec = JSON.parse((await judged.server.res.db.selectFrom("runs").select("spec").where("id", "=", id).executeTakeFirstOrThrow()).spec);
        assert.equal(spec.judge.url, "http://127.0.0.1:9/v1");
      } finally {
        await judged.close();
      }
    });

    test("V2 create, describe, list with keyFilter, stop a queued evaluation", async () => {
      const id = await ok2("CreateEvalTask", create2({ taskName: "listed-one", description: "v2" }, {
        evalModelConfigList: [modelConfig({ inferenceParams: { temperature: 0.5, top_p: 0.9, penalty_score: 1.1, system: "be brief" }, stop: ["\n\n"] })],
      }));
      const task = await ok2("DescribeEvalTask", { taskId: id });
      assert.equal(task.taskId, id);
      assert.equal(task.taskName, "listed-one");
      assert.equal(task.evalObjectType, "model");
      assert.equal(task.progress, 0);
      assert.match(task.createTime, ISO_OFFSET);
      assert.deepEqual(task.models, [{ modelId: model.versionId, modelName: "eval-model-V1", modelSetId: model.setId, state: "Queued", message: "" }]);
      const spec = JSON.parse((await server.server.res.db.selectFrom("runs").select("spec").where("id", "=", id).executeTakeFirstOrThrow()).spec);
      assert.deepEqual(spec.units[0].params, { temperature: 0.5, topP: 0.9, penaltyScore: 1.1, maxOutputTokens: 64, stop: ["\n\n"], system: "be brief" });
      assert.equal(spec.units[0].promptTemplate, "Q: {input}");

      const listed = await ok2("DescribeEvalTasks", { keyFilter: "listed-one", maxKeys: 5 });
      assert.deepEqual(listed.taskList.map((t: any) => t.taskId), [id]);
      assert.equal(listed.pageInfo.maxKeys, 5);
      assert.deepEqual((await ok2("DescribeEvalTasks", { evalType: "manual" })).taskList, [], "no manual evaluation was created here");
      // LIKE's wildcards in a name are matched literally (SQLite has no default escape character).
      const odd = await ok2("CreateEvalTask", create2({ taskName: "odd_name%1" }));
      assert.deepEqual((await ok2("DescribeEvalTasks", { keyFilter: "d_name%" })).taskList.map((t: any) => t.taskId), [odd]);
      assert.deepEqual((await ok2("DescribeEvalTasks", { keyFilter: "dd%name" })).taskList, []);

      await fails2("DescribeEvalTaskReport", { taskId: id }, "taskId");
      await fails2("CreateEvalResultExportTask", { evalId: id, storageType: "sysStorage", exportContent: ["prompt"] }, "evalId");
      assert.deepEqual(await ok2("StopEvalTask", { taskId: id }), {});
      assert.equal((await ok2("DescribeEvalTask", { taskId: id })).state, "Stopped");
      assert.deepEqual(await ok2("StopEvalTask", { taskId: id }), {}, "stopping twice is harmless");
      assert.match(await fails2("CreateEvalResultExportTask", { evalId: id, storageType: "sysStorage", exportContent: ["prompt"] }, "evalId"), /has not finished \(Stopped\)/);
      assert.equal(await ok2("DeleteEvalTask", { taskId: id }), true);
      await fails2("DescribeEvalTask", { taskId: id }, "taskId");
      await fails2("DeleteEvalTask", { taskId: id }, "taskId");
    });

    test("V1 cancel, report and export of an unfinished evaluation; delete guards", async () => {
      const created = await ok1("create", create1());
      await fails1("report", { id: created.evalId }, "id");
      assert.match(await fails1("result/export", { id: created.evalId }, "id"), /has not finished \(Pending\)/);
      await fails1("delete", { evalIds: [created.evalIdStr] }, "evalIds");
      assert.deepEqual(await ok1("cancel", { id: created.evalIdStr }), { result: true, errorMessage: "" });
      assert.equal((await ok1("detail", { id: created.evalId })).state, "Stopped");
      assert.equal(await ok1("delete", { evalIds: [created.evalId] }), true);
      await fails1("detail", { id: created.evalId }, "id");
    });

    test("report, result list and exports of a finished evaluation", async () => {
      const created = await ok1("create", create1({ versionEvalInfo: [unit1(), unit1()] }));
      const resultNums = await finishEval(created.evalIdStr);
      assert.equal(resultNums.length, 4);

      const detail = await ok1("detail", { id: created.evalId });
      assert.equal(detail.state, "Done");
      assert.equal(detail.progress, 100);
      assert.match(detail.finishTime, ISO_OFFSET);
      assert.deepEqual(detail.evalUnits.map((u: any) => u.state), ["Done", "Done"]);

      const report = await ok1("report", { id: created.evalIdStr });
      assert.equal(report.length, 2);
      assert.deepEqual(report[1], {
        modelName: "eval-model", modelVersion: "1", modelVersionSource: "Import", evalMode: "rule", evaluationName: "eval-v1",
        id: 2, modelVersionId: model.versionNum, modelVersionIdStr: model.versionId, modelId: model.setNum, modelIdStr: model.setId, evaluationJobId: 2, userId: "", projectId: "",
        evaluationId: created.evalId, effectMetric: { bleu4: 0.5, rouge_1: 0.5, rouge_2: 0.5, rouge_l: 0.5 },
        sizeBytes: 4096, samples: 2, failedSamples: 0, tokensPerSecond: 12.5,
      });
      const v2Report = await ok2("DescribeEvalTaskReport", { taskId: created.evalIdStr });
      assert.equal(v2Report.state, "Successed");
      assert.deepEqual(v2Report.reports[0], {
        modelId: model.versionId, modelName: "eval-model-V1", effectMetric: { bleu4: 0.5, rouge_1: 0.5, rouge_2: 0.5, rouge_l: 0.5 },
        sizeBytes: 4096, samples: 2, failedSamples: 0, tokensPerSecond: 12.5,
      });

      const all = await ok1("result/list", { id: created.evalId });
      assert.equal(all.total, 4);
      assert.equal(all.pageNo, 1);
      assert.equal(all.pageSize, 20);
      assert.deepEqual(all.results[0], {
        id: resultNums[0], modelVersionId: model.versionNum, evalUnitIndex: 0, sampleIndex: 0, prompt: "question 0", prediction: "guess 0",
        completion: "answer 0", metrics: { bleu4: 0.2, rouge_1: 0.2, rouge_2: 0.2, rouge_l: 0.2 }, judgeScore: null, judgeError: null,
      });
      const page2 = await ok1("result/list", { id: created.evalIdStr, pageNo: 2, pageSize: 3 });
      assert.deepEqual(page2.results.map((r: any) => r.id), [resultNums[3]]);
      assert.equal((await ok1("result/list", { id: created.evalId, pageSize: 1000 })).pageSize, 100);
      const high = await ok1("result/list", { id: created.evalId, bleu4: { start: 0.5 }, orderBy: "bleu4", order: "desc" });
      assert.equal(high.total, 2);
      assert.deepEqual(high.results.map((r: any) => r.metrics.bleu4), [0.8, 0.8]);
      const ofVersion = await ok1("result/list", { id: created.evalId, modelVersionIds: [model.versionId] });
      assert.equal(ofVersion.total, 4);
      assert.equal((await ok1("result/list", { id: created.evalId, judgeScore: { start: 1 } })).total, 0, "no judge scores in a rule evaluation");

      // Export requests are checked before anything is queued.
      await fails1("result/export", { id: created.evalId, exportOpt: "part" }, "resultIds");
      await fails1("result/export", { id: created.evalId, exportOpt: "part", resultIds: Array.from({ length: 101 }, (_, i) => i + 1) }, "resultIds");
      await fails1("result/export", { id: created.evalId, exportOpt: "part", resultIds: [resultNums[0], 999_999] }, "resultIds[1]");
      await fails1("result/export", { id: created.evalId, resultIds: [resultNums[0]] }, "resultIds");
      assert.match(await fails1("result/export", { id: created.evalId, exportContent: ["prompt", "answers"] }, "exportContent"), /answers/);
      await fails1("result/export", { id: created.evalId, exportType: "storage" }, "volumeId");
      await fails2("CreateEvalResultExportTask", { evalId: created.evalIdStr, storageType: "sysStorage", exportContent: "prompt,score" }, "exportContent");
      await fails2("CreateEvalResultExportTask", { evalId: created.evalIdStr, storageType: "BOS", exportContent: ["prompt"] }, "bucket");

      const exported = await ok1("result/export", { id: created.evalIdStr, exportOpt: "part", resultIds: resultNums.slice(0, 2) });
      assert.equal(typeof exported.exportID, "number");
      assert.match(exported.exportIDStr, /^amemt-[a-z0-9]{12}$/);
      const pending = await ok1("result/export/info", { exportID: exported.exportID });
      assert.deepEqual(Object.keys(pending), EXPORT_INFO_KEYS);
      assert.deepEqual(pending, {
        id: created.evalId, idStr: created.evalIdStr, exportID: exported.exportID, exportIDStr: exported.exportIDStr,
        state: "Pending", exportType: "local", volumeId: "", exportPath: "", downloadUrl: "",
      });
      // A pending export cannot be downloaded, even with a well-made link.
      const early = await fetch(`${server.url}/sailfin/v1/exports/${exported.exportIDStr}/download?${downloadQuery(server.server.res, exported.exportIDStr)}`);
      assert.equal(early.status, 404);

      const zip = Buffer.from("PK\u0003\u0004 not really a zip, but bytes to stream back");
      await finishExport(exported.exportIDStr, zip);
      const done = await ok1("result/export/info", { exportID: exported.exportIDStr });
      assert.equal(done.state, "Done");
      assert.equal(done.exportPath, `eval_result_export/${exported.exportIDStr}.zip`);
      assert.ok(done.downloadUrl.startsWith(`${server.url}/sailfin/v1/exports/${exported.exportIDStr}/download?expires=`), done.downloadUrl);
      // No credentials: the link's signature is enough.
      const download = await fetch(done.downloadUrl);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get("content-type"), "application/zip");
      assert.equal(download.headers.get("content-length"), String(zip.length));
      assert.match(download.headers.get("content-disposition") ?? "", new RegExp(`attachment; filename="${exported.exportIDStr}\\.zip"`));
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip);

      // A tampered, foreign or expired link is refused with 403.
      const url = new URL(done.downloadUrl);
      const signature = url.searchParams.get("signature")!;
      const tampered = new URL(url);
      tampered.searchParams.set("signature", `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`);
      const longer = new URL(url);
      longer.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
      const otherExport = new URL(url.toString().replace(exported.exportIDStr, "amemt-000000000000"));
      const expired = `${server.url}/sailfin/v1/exports/${exported.exportIDStr}/download?${downloadQuery(server.server.res, exported.exportIDStr, Date.now() - 2 * 3600_000)}`;
      const bare = `${server.url}/sailfin/v1/exports/${exported.exportIDStr}/download`;
      for (const bad of [tampered.toString(), longer.toString(), otherExport.toString(), expired, bare]) {
        const r = await fetch(bad);
        assert.equal(r.status, 403, bad);
        assert.deepEqual({ ...(await r.json()) as object, requestId: undefined }, {
          requestId: undefined, code: "AccessDenied", message: "the download link is invalid or has expired",
        });
      }

      // V2: by export id, or the evaluation's latest export.
      const v2Id = await ok2("CreateEvalResultExportTask", { evalId: created.evalIdStr, storageType: "BOS", bucket: "results", exportContent: ["prompt", "system"] });
      assert.match(v2Id, /^amemt-[a-z0-9]{12}$/);
      const latest = await ok2("DescribeEvalResultExportTask", { evalId: created.evalIdStr });
      assert.equal(latest.exportTaskId, v2Id);
      assert.equal(latest.state, "Pending");
      assert.equal(latest.storageType, "BOS");
      assert.equal(latest.bucket, "results");
      assert.equal(latest.downloadUrl, "");
      const first = await ok2("DescribeEvalResultExportTask", { exportTaskId: exported.exportIDStr });
      assert.equal(first.state, "Done");
      assert.equal(first.storageType, "sysStorage");
      assert.ok(first.downloadUrl.includes("/download?expires="));
      assert.equal((await ok1("result/export/info", { exportID: v2Id })).volumeId, "results");
      await fails2("DescribeEvalResultExportTask", {}, "exportTaskId");

      // Finished: stopping is a conflict; deleting waits for the queued export.
      // The refusals name the state in each dialect's own word, not the internal Succeeded.
      assert.match(await fails1("cancel", { id: created.evalId }, "id"), /has already finished \(Done\)/);
      assert.match(await fails2("StopEvalTask", { taskId: created.evalIdStr }, "taskId", "ResourceInUse", 409), /has already finished \(Successed\)/);
      await fails1("delete", { evalIds: [created.evalId] }, "evalIds");
      await server.server.res.db.updateTable("runs").set({ status: "Failed", failure_reason: "bucket is read-only", finished_at: nowIso() }).where("id", "=", v2Id).execute();
      const failed = await ok1("result/export/info", { exportID: v2Id });
      assert.equal(failed.state, "Fail");
      assert.equal(failed.failReason, "bucket is read-only");
      assert.equal(await ok1("delete", { evalIds: [created.evalIdStr] }), true);
      await fails1("result/export/info", { exportID: exported.exportID }, "exportID");
      assert.equal((await fetch(done.downloadUrl)).status, 404, "a deleted export's link leads nowhere");
    });

    test("model/list shows text-generation models with their Ready versions only", async () => {
      const list = await ok1("model/list", {});
      const entry = list.find((m: any) => m.modelIdStr === model.setId);
      assert.ok(entry, JSON.stringify(list));
      assert.equal(entry.modelId, model.setNum);
      assert.equal(entry.modelName, "eval-model");
      assert.equal(entry.modelType, 0);
      assert.deepEqual(entry.modelVersionList.map((v: any) => [v.modelVersionId, v.modelVersionIdStr, v.version, v.sourceType]),
        [[model.versionNum, model.versionId, "1", "Import"]]);
      assert.equal(list.find((m: any) => m.modelIdStr === broken.setId), undefined, "a set whose only version failed is not evaluable");
    });
  });
}
