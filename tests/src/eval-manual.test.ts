import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "@sailfin/worker";
import { pollUntil, startTestServer, testDialects, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { unzipText } from "./fixtures/archives.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { startTestWorker } from "./fixtures/worker-fixtures.js";

/**
 * Evaluation of answers datasets (`evalObjectType: inferDataset`) and manual evaluation
 * (`evalMode: manual`) against a real server, worker and runtime: the answers are scored by the
 * rule metrics without generation (values computed by hand), and a manual evaluation generates
 * answers, writes them as a released result dataset, waits in DoingWithManualBegin while people
 * score through the extension actions, and ends Done with the mean per dimension.
 */

const INFER = "evalObjectConfig.evalInferDatasetConfig";
const answerLine = (prompt: string, reference: string, completion?: string) =>
  JSON.stringify([{ prompt, response: [[reference]], ...(completion === undefined ? {} : { completion }) }]);

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`inferDataset and manual evaluation (${dialect})`, () => {
    let server: TestServer;
    let worker: Worker;
    let modelId = "";
    let promptsId = "";
    let answersId = "";

    const ok2 = (action: string, body: unknown) => v2Ok(server, "eval", action, body);
    async function fails2(action: string, body: unknown, field: string, code = "InappropriateJSON", status = 400): Promise<string> {
      const r = await v2Raw(server, "eval", action, body);
      assert.equal(r.status, status, `${action} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.code, code, r.text);
      assert.ok(r.body.message.includes(`param[${field}] invalid`), `expected param[${field}]: ${r.body.message}`);
      return r.body.message as string;
    }
    const v1 = async (op: string, body: unknown) => (await v1Raw(server, `/wenxinworkshop/modelrepo/eval/${op}`, body)).body;
    const inferTask = (versionIds: string[], evalConfig: Record<string, unknown> = { evalMode: "rule" }) => ({
      taskName: "answers", evalObjectType: "inferDataset",
      evalObjectConfig: { evalInferDatasetConfig: { evalInferDatasetConfigList: versionIds.map((inferDatasetVersionId) => ({ inferDatasetVersionId })) } },
      evalConfig,
    });
    const settled = (taskId: string) => pollUntil(() => ok2("DescribeEvalTask", { taskId }), (t) => ["Successed", "Failed", "Stopped", "RunningWithManualBegin"].includes(t.state), "evaluation");

    before(async () => {
      server = await startTestServer(dialect);
      worker = await startTestWorker(server, `eval-manual-${dialect}`);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      modelId = (await importBaseModel(server, "tiny-manual", { bucket: "hub", objectPath: "llama" })).versionId;
      promptsId = (await releasedDataset(server, { name: "manual-prompts", format: "PromptResponse", lines: ["red", "blue", "gold"].map((w) => answerLine(`say ${w}`, `${w} ${w}`)) })).versionId;
      // Sample 1 answered exactly (every metric 1), sample 2 with nothing in common (every metric 0): each mean is 0.5.
      answersId = (await releasedDataset(server, {
        name: "answers", format: "PromptResponse",
        lines: [answerLine("colours?", "red green blue gold silver", "red green blue gold silver"), answerLine("metals?", "copper iron", "blue")],
      })).versionId;
    });
    after(async () => { await worker?.stop(); await server?.close(); });

    test("inferDataset: the given answers are scored without generation; report and data.jsonl export as for models", async () => {
      const taskId = await ok2("CreateEvalTask", inferTask([answersId]));
      const task = await settled(taskId);
      assert.equal(task.state, "Successed", JSON.stringify(task));
      assert.equal(task.evalObjectType, "inferDataset");
      assert.equal(task.evalType, "auto");
      assert.equal(task.models[0].modelId, answersId);
      const report = await ok2("DescribeEvalTaskReport", { taskId });
      assert.deepEqual(report.reports[0].effectMetric, { accuracy: 0.5, f1Score: 0.5, rouge_1: 0.5, rouge_2: 0.5, rouge_l: 0.5, bleu4: 0.5 });
      assert.equal(report.reports[0].samples, 2);
      assert.equal(report.reports[0].tokensPerSecond, 0, "nothing was generated");
      const results = (await v1("result/list", { id: taskId })).result.results;
      assert.deepEqual(results.map((r: any) => [r.prompt, r.prediction, r.completion]), [
        ["colours?", "red green blue gold silver", "red green blue gold silver"], ["metals?", "blue", "copper iron"],
      ]);

      const exportId = await ok2("CreateEvalResultExportTask", { evalId: taskId, storageType: "sysStorage", exportContent: ["prompt", "prediction", "completion", "metrics"] });
      const exported = await pollUntil(() => ok2("DescribeEvalResultExportTask", { exportTaskId: exportId }), (e) => ["Done", "Fail"].includes(e.state), "export");
      assert.equal(exported.state, "Done", JSON.stringify(exported));
      const files = await unzipText(new Uint8Array(await (await fetch(exported.downloadUrl)).arrayBuffer()));
      const rows = files["data.jsonl"]!.trim().split("\n").map((l) => JSON.parse(l)[0]);
      assert.deepEqual(rows.map((r: any) => [r.Prompt, r["Completion（模型回答）"], r["Response（参考答案）"], r["ROUGE-1"]]), [
        ["colours?", "red green blue gold silver", "red green blue gold silver", "100.00%"], ["metals?", "blue", "copper iron", "0.00%"],
      ]);
    });

    test("inferDataset refusals name the field; a dataset without answers fails, saying so", async () => {
      await fails2("CreateEvalTask", { ...inferTask([]), evalObjectConfig: {} }, INFER);
      await fails2("CreateEvalTask", inferTask([]), `${INFER}.evalInferDatasetConfigList`);
      await fails2("CreateEvalTask", inferTask(["ds-missing000000"]), `${INFER}.evalInferDatasetConfigList[0].inferDatasetVersionId`);
      const text = await releasedDataset(server, { name: "plain-text", format: "Text" });
      await fails2("CreateEvalTask", inferTask([answersId, text.versionId]), `${INFER}.evalInferDatasetConfigList[1].inferDatasetVersionId`);
      const taskId = await ok2("CreateEvalTask", inferTask([promptsId]));
      const task = await settled(taskId);
      assert.equal(task.state, "Failed");
      assert.match(task.failReason, /sample 1 has no completion/);
    });

    test("manual: answers → result dataset → DoingWithManualBegin → scored per dimension → Done with the means", async () => {
      const created = await v1("create", {
        name: "manual-v1", datasetId: promptsId, versionEvalInfo: [{ modelVersionId: modelId, params: { max_output_tokens: 4 } }],
        evalStandardConf: { evalMode: "manual", evaluationDimension: [{ dimension: "满意度" }, { dimension: "fluency", minScore: 0, maxScore: 10 }] },
      });
      const evalId = created.result.evalIdStr as string;
      const detail = await pollUntil(async () => (await v1("detail", { id: evalId })).result, (d) => !["Pending", "Doing"].includes(d.state), "manual answers");
      assert.equal(detail.state, "DoingWithManualBegin", JSON.stringify(detail));
      assert.equal(detail.evalUnits[0].state, "DoingWithManualBegin");
      const conf = detail.evalStandardConf;
      assert.match(conf.resultDatasetIdStr, /^ds-/);
      assert.equal(typeof conf.resultDatasetId, "number");
      const v2task = await ok2("DescribeEvalTask", { taskId: evalId });
      assert.equal(v2task.state, "RunningWithManualBegin");
      assert.equal(v2task.evalType, "manual");
      assert.equal(v2task.resultDatasetId, conf.resultDatasetIdStr);
      assert.deepEqual((await ok2("DescribeEvalTasks", { evalType: "manual" })).taskList.map((t: any) => t.taskId), [evalId]);
      assert.ok(!(await ok2("DescribeEvalTasks", { evalType: "auto" })).taskList.some((t: any) => t.taskId === evalId));

      // The result dataset is released: one object per line, prompt, reference and the model's answer as completion.
      const version = await server.admin.v2<any>("dataset", "DescribeDatasetVersion", { versionId: conf.resultDatasetIdStr });
      assert.equal(version.publishStatus, "Published");
      const row = await server.server.res.db.selectFrom("dataset_versions").select(["data_path", "record_count"]).where("id", "=", conf.resultDatasetIdStr).executeTakeFirstOrThrow();
      assert.equal(Number(row.record_count), 3);
      const chunks: Buffer[] = [];
      for await (const chunk of await server.server.res.artifacts.get(row.data_path!)) chunks.push(chunk as Buffer);
      const lines = Buffer.concat(chunks).toString("utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => [l.prompt, l.response]), [["say red", [["red red"]]], ["say blue", [["blue blue"]]], ["say gold", [["gold gold"]]]]);
      for (const l of lines) assert.equal(typeof l.completion, "string");

      const samples = await ok2("DescribeEvalManualSamples", { taskId: evalId });
      assert.equal(samples.total, 6);
      assert.equal(samples.scored, 0);
      assert.deepEqual(samples.dimensions.map((d: any) => [d.dimension, d.minScore, d.maxScore]), [["满意度", 1, 5], ["fluency", 0, 10]]);
      assert.deepEqual(samples.samples.map((s: any) => s.prompt), ["say red", "say blue", "say gold"]);
      const [a, b, c] = samples.samples.map((s: any) => s.resultId as number);

      // Bad paths, in the V2 envelope, naming the field.
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [{ dimension: "humour", score: 3 }] }, "scores[0].dimension");
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [{ dimension: "满意度", score: 6 }] }, "scores[0].score");
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [{ dimension: "fluency", score: -1 }] }, "scores[0].score");
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: 999_999_999, scores: [{ dimension: "满意度", score: 3 }] }, "resultId");
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [] }, "scores");

      assert.deepEqual(await ok2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [{ dimension: "满意度", score: 5 }, { dimension: "fluency", score: 8 }] }), { finished: false });
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [{ dimension: "fluency", score: 2 }] }, "scores[0].dimension", "ResourceInUse", 409);
      await ok2("ScoreEvalSample", { taskId: evalId, resultId: b, scores: [{ dimension: "满意度", score: 2 }] });
      await ok2("ScoreEvalSample", { taskId: evalId, resultId: b, scores: [{ dimension: "fluency", score: 4 }] });
      assert.equal((await ok2("DescribeEvalManualSamples", { taskId: evalId })).scored, 4);
      assert.deepEqual(await ok2("ScoreEvalSample", { taskId: evalId, resultId: c, scores: [{ dimension: "满意度", score: 3 }, { dimension: "fluency", score: 6 }] }), { finished: true });

      const done = (await v1("detail", { id: evalId })).result;
      assert.equal(done.state, "Done");
      assert.equal((await ok2("DescribeEvalTask", { taskId: evalId })).state, "Successed");
      const report = (await v1("report", { id: evalId })).result;
      assert.equal(report[0].effectMetric.manualAvgScore, 3.3333, "(5 + 2 + 3) / 3, to four places");
      assert.deepEqual(report[0].effectMetric.manualScoreDistribution, [
        { dimension: "满意度", avgScore: 3.3333, scored: 3, scoreDistribution: { 5: 1, 2: 1, 3: 1 } },
        { dimension: "fluency", avgScore: 6, scored: 3, scoreDistribution: { 8: 1, 4: 1, 6: 1 } },
      ]);
      await fails2("ScoreEvalSample", { taskId: evalId, resultId: a, scores: [{ dimension: "满意度", score: 1 }] }, "taskId", "ResourceInUse", 409);
      await fails2("FinishEvalManualScoring", { taskId: evalId }, "taskId", "ResourceInUse", 409);
      const cancel = await v1("cancel", { id: evalId });
      assert.equal(cancel.error_code, 500001, "a manual evaluation cannot be stopped");
    });

    test("manual over an answers dataset, finished by its owner before every answer is scored; a non-manual evaluation has nothing to score", async () => {
      const taskId = await ok2("CreateEvalTask", inferTask([answersId], {
        evalMode: "rule,manual", manualEvalConfig: { evaluationDimension: [{ dimension: "满意度", scoreRange: [0, 3] }] },
      }));
      assert.equal((await settled(taskId)).state, "RunningWithManualBegin");
      const samples = await ok2("DescribeEvalManualSamples", { taskId });
      assert.deepEqual(samples.samples.map((s: any) => s.prediction), ["red green blue gold silver", "blue"]);
      await ok2("ScoreEvalSample", { taskId, resultId: String(samples.samples[0].resultId), scores: [{ dimension: "满意度", score: 3 }] });
      assert.equal(await ok2("FinishEvalManualScoring", { taskId }), true);
      const task = await ok2("DescribeEvalTask", { taskId });
      assert.equal(task.state, "Successed");
      const metric = (await ok2("DescribeEvalTaskReport", { taskId })).reports[0].effectMetric;
      assert.equal(metric.rouge_1, 0.5, "the rule metrics are kept beside the manual scores");
      assert.equal(metric.manualAvgScore, 3);
      assert.deepEqual(metric.manualScoreDistribution, [{ dimension: "满意度", avgScore: 3, scored: 1, scoreDistribution: { 3: 1 } }]);

      const auto = await ok2("CreateEvalTask", inferTask([answersId]));
      await settled(auto);
      assert.match(await fails2("DescribeEvalManualSamples", { taskId: auto }, "taskId"), /not a manual evaluation/);
      await fails2("ScoreEvalSample", { taskId: auto, resultId: 1, scores: [{ dimension: "满意度", score: 3 }] }, "taskId");
      await fails2("CreateEvalTask", inferTask([answersId], { evalMode: "manual", manualEvalConfig: { evaluationDimension: [{ dimension: "a", minScore: 5, maxScore: 1 }] } }),
        "evalConfig.manualEvalConfig.evaluationDimension[0].maxScore");
      await fails2("CreateEvalTask", inferTask([answersId], { evalMode: "manual", manualEvalConfig: { evaluationDimension: [{ dimension: "a" }, { dimension: "a" }] } }),
        "evalConfig.manualEvalConfig.evaluationDimension[1].dimension");
      await fails2("CreateEvalTask", inferTask([answersId], { evalMode: "rule,people" }), "evalConfig.evalMode");
    });
  });
}
