import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consoleAction } from "@baiducloud/qianfan";
import type { Worker } from "@sailfin/worker";
import { ADMIN, pollUntil, rawCall, startTestServer, testAxes, v1Raw, v2Ok, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { startFakeJudge, type FakeJudge } from "./fixtures/fake-judge.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * Compression, evaluation and result export end to end, driven by the official Node SDK's
 * `consoleAction` where Qianfan's users would use it: a tiny model is fine-tuned on a skill (say
 * a word three times), published, quantized to int8 by the real runtime, and the base,
 * fine-tuned and quantized versions are evaluated by real generation, scored by the rule
 * metrics and a (local, fake) judge; the results are exported and the zip is read back.
 */

const MODEL = "tiny-eval";
const WORDS = ["red", "blue", "green", "gold"];
const line = (w: string) => JSON.stringify([{ prompt: `say ${w}`, response: [[`${w} ${w} ${w}`]] }]);

const OPERATOR_JUDGE_KEY = "sk-operator-judge";
let tiny: TinyModelFolders;
let judge: FakeJudge;
before(async () => {
  tiny = await writeTinyModels({ llama: { ...TINY, hiddenSize: 64, intermediate: 128 } });
  // The judge likes answers that repeat a word three times (the answer follows "Answer to score:").
  judge = await startFakeJudge({
    behaviour: "score",
    score: (prompt) => (/^(\w+) \1 \1$/m.test((prompt.split("Answer to score:")[1] ?? "").split("\n\n")[0]!.trim()) ? 9 : 2),
  });
});
after(async () => { await tiny.remove(); await judge.close(); });

/** Files of a zip, read back by Python's zipfile (an independent reader). */
function unzip(buffer: Buffer): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "sailfin-zip-"));
  try {
    writeFileSync(join(dir, "x.zip"), buffer);
    const r = spawnSync("/usr/bin/python3", ["-c", "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode('utf-8') for n in z.namelist()}))", join(dir, "x.zip")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, string>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const { dialect, artifacts, label } of testAxes()) {
  describe(`compression, evaluation and export (${label})`, () => {
    let server: TestServer;
    let worker: Worker;
    let baseModelId = "";
    let tunedModelId = "";
    let compModelId = "";
    let evalDatasetVersion = "";

    const sdk = async (route: string, action: string | undefined, data: unknown): Promise<any> => {
      process.env.QIANFAN_ACCESS_KEY = ADMIN.accessKey;
      process.env.QIANFAN_SECRET_KEY = ADMIN.secretKey;
      process.env.QIANFAN_CONSOLE_API_BASE_URL = server.url;
      return consoleAction({ base_api_route: route, data, ...(action === undefined ? {} : { action }) });
    };
    const v2ok = (resource: string, action: string, body: unknown) => v2Ok(server, resource, action, body);

    before(async () => {
      // The main judge is the operator's endpoint (with its key); the others are caller URLs on an allowed host.
      server = await startTestServer(dialect, { SAILFIN_JUDGE_URL: judge.url, SAILFIN_JUDGE_API_KEY: OPERATOR_JUDGE_KEY, SAILFIN_JUDGE_ALLOW_CALLER_URLS: "127.0.0.1" }, artifacts);
      worker = await startTestWorker(server, `eval-worker-${dialect}`);
      await stageFolder(server, tiny.dir("llama"), "hub", "tiny-eval");
      baseModelId = (await importBaseModel(server, MODEL, { bucket: "hub", objectPath: "tiny-eval" })).versionId;
      const train = await releasedDataset(server, { name: "say-train", format: "PromptResponse", lines: Array.from({ length: 48 }, (_, i) => line(WORDS[i % 4]!)) });
      evalDatasetVersion = (await releasedDataset(server, { name: "say-eval", format: "PromptResponse", lines: WORDS.map(line) })).versionId;
      const { jobId } = await v2ok("finetuning", "CreateFineTuningJob", { name: "skill", model: MODEL, trainMode: "SFT" });
      const { taskId } = await v2ok("finetuning", "CreateFineTuningTask", {
        jobId, parameterScale: "FullFineTuning",
        hyperParameterConfig: { epoch: 40, maxSeqLen: 128, batchSize: 8, learningRate: 0.005, loggingSteps: 5, warmupRatio: 0 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: train.versionId }], splitRatio: 10 },
      });
      const task = await waitForTask(server, taskId, (t) => ["Done", "Failed", "Stopped"].includes(t.runStatus), 240_000);
      assert.equal(task.runStatus, "Done", JSON.stringify(task));
      const setId = await v2ok("model", "CreateCustomModelSet", { modelSetName: "skill-sft", modelType: "Text2Text" });
      tunedModelId = (await v2ok("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Train", trainMeta: { taskId } })).modelId;
      await pollUntil(() => v2ok("model", "DescribeModel", { modelId: tunedModelId }), (m) => m.status !== "Creating", "publish");
    });
    after(async () => { await worker?.stop(); await server?.close(); });

    test("CreateModelCompTask (official SDK): int8 version, Acceleration lineage, sizes and perplexity recorded", async () => {
      const setId = (await sdk("/v2/model", "CreateCustomModelSet", { modelSetName: "skill-int8", modelType: "Text2Text" })).result;
      const created = await sdk("/v2/model", "CreateModelCompTask", {
        name: "int8", sourceModelId: tunedModelId, modelSetId: setId, config: { strategy: "Quantization", weight: "w8a16c16" },
      });
      assert.match(created.result, /^amva-[a-z0-9]{12}$/);
      const comp = await pollUntil(async () => (await sdk("/v2/model", "DescribeModelCompTask", { modelCompTaskId: created.result })).result,
        (c) => !["creating", "running"].includes(c.status), "compression");
      assert.equal(comp.status, "succeeded", JSON.stringify(comp));
      assert.deepEqual(comp.config, { strategy: "Quantization", weight: "w8a16c16", quantConf: "wint8" });
      assert.ok(comp.sizeAfterBytes < comp.sizeBeforeBytes, `${comp.sizeAfterBytes} < ${comp.sizeBeforeBytes}`);
      assert.equal(typeof comp.perplexityBefore, "number", "the tuned model's held-out split is measured");
      assert.ok(Math.abs(comp.perplexityDeltaPercent) < 5, `int8 perplexity delta ${comp.perplexityDeltaPercent}%`);
      compModelId = comp.modelId;
      const version = await v2ok("model", "DescribeModel", { modelId: compModelId });
      assert.equal(version.status, "Ready");
      assert.equal(version.sourceInfo.sourceType, "Acceleration");
      assert.equal(version.sourceInfo.accelerationTaskId, created.result);
      assert.equal(version.model, MODEL, "the base model of the fine-tuned version it compressed");
      assert.equal(version.isSupportModelComp, false, "a compressed version is not compressed again");
      assert.equal((await v2ok("model", "DescribeModel", { modelId: tunedModelId })).isSupportModelComp, true);
      const again = await v2Raw(server, "model", "CreateModelCompTask", { name: "again", sourceModelId: compModelId, modelSetId: setId, config: { strategy: "Quantization", weight: "W4A16C16" } });
      assert.equal(again.status, 400);
      assert.match(again.body.message, /sourceModelId.*already compressed/);
      const v1 = await v1Raw(server, "/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: compModelId });
      assert.equal(v1.body.result.sourceType, "Acceleration");
      assert.equal(v1.body.result.sourceExtra.accelerationSourceExtra.taskName, "int8");
      const list = await v2ok("model", "DescribeModelCompTasks", { sourceModelId: tunedModelId });
      assert.deepEqual(list.modelCompTaskList.map((c: any) => c.id), [created.result]);
      // The source version is pinned while the task exists? Only while it runs: deleting the output works.
      const del = await v2Raw(server, "model", "DeleteModelCompTask", { modelCompTaskId: created.result });
      assert.equal(del.status, 200, del.text);
      assert.equal((await v2ok("model", "DescribeModel", { modelId: compModelId })).status, "Ready", "the output version outlives its task");
    });

    test("evaluation: the fine-tuned version beats the base one; rule metrics and judge scores; export unzips to the right rows", async () => {
      assert.ok(compModelId !== "", "needs the compression test");
      const created = await sdk("/wenxinworkshop/modelrepo/eval/create", undefined, {
        name: "skill-eval", datasetId: evalDatasetVersion,
        versionEvalInfo: [baseModelId, tunedModelId, compModelId].map((id) => ({ modelVersionId: id, params: { max_output_tokens: 16 }, prompt: { enable: true, content: "{input}" } })),
        evalStandardConf: { evalMode: "rule,model", apiUrl: judge.url, apiName: "fake-judge" },
        computeResourceConf: { vmType: 1, vmNumber: 8 },
      });
      const evalId = created.result.evalIdStr as string;
      assert.match(evalId, /^ame-/);
      const detail = await pollUntil(async () => (await sdk("/wenxinworkshop/modelrepo/eval/detail", undefined, { id: evalId })).result,
        (d) => !["Pending", "Doing"].includes(d.state), "evaluation");
      assert.equal(detail.state, "Done", JSON.stringify(detail));
      const report = (await sdk("/wenxinworkshop/modelrepo/eval/report", undefined, { id: evalId })).result as any[];
      const metric = (id: string) => report.find((r) => r.modelVersionId === id || r.modelIdStr === id || r.modelVersionIdStr === id)?.effectMetric;
      const base = metric(baseModelId);
      const tuned = metric(tunedModelId);
      const comp = metric(compModelId);
      assert.ok(base && tuned && comp, JSON.stringify(report));
      assert.ok(tuned.rouge_l > base.rouge_l, `fine-tuned ROUGE-L ${tuned.rouge_l} > base ${base.rouge_l}`);
      assert.ok(tuned.accuracy >= 0.75, `the fine-tuned version learned the skill (accuracy ${tuned.accuracy})`);
      assert.ok(Math.abs(comp.rouge_l - tuned.rouge_l) <= 0.25, `int8 keeps the skill (${comp.rouge_l} vs ${tuned.rouge_l})`);
      assert.ok(tuned.avgJudgeScore > base.avgJudgeScore, "the judge agrees");
      assert.ok(judge.requests.length > 0 && judge.requests.every((r) => r.headers.authorization === `Bearer ${OPERATOR_JUDGE_KEY}`), "the operator's endpoint gets its key");
      assert.equal(tuned.scoreDistribution["-1"], 0);

      const results = await v1Raw(server, "/wenxinworkshop/modelrepo/eval/result/list", { id: evalId, pageNo: 1, pageSize: 100 });
      const rows = results.body.result.results as any[];
      assert.equal(rows.length, 12, "3 versions × 4 samples");
      const picked = rows.slice(0, 2).map((r) => r.id);

      const exported = await sdk("/wenxinworkshop/modelrepo/eval/result/export", undefined, {
        id: evalId, exportType: "local", exportOpt: "part", resultIds: picked, exportContent: ["prompt", "prediction", "completion", "metrics"],
      });
      const exportID = exported.result.exportID;
      const info = await pollUntil(async () => (await sdk("/wenxinworkshop/modelrepo/eval/result/export/info", undefined, { exportID })).result,
        (x) => ["Done", "Fail"].includes(x.state), "export");
      assert.equal(info.state, "Done", JSON.stringify(info));
      assert.equal(info.idStr, evalId);
      assert.equal(info.exportIDStr, exported.result.exportIDStr);
      const files = unzip(Buffer.from(await (await fetch(info.downloadUrl)).arrayBuffer()));
      const jsonl = files["results.jsonl"]!.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(jsonl.map((r) => r.resultId), picked);
      assert.ok(jsonl.every((r) => typeof r.prompt === "string" && typeof r.prediction === "string" && typeof r.completion === "string" && typeof r.metrics.bleu4 === "number"));
      assert.equal(files["results.csv"]!.trim().split(/\r?\n/).length, 3, "header + 2 rows");
      // Qianfan's layout beside it (what the Python SDK's EvaluationManager opens): the same rows, judge columns included.
      const qianfan = files["data.jsonl"]!.trim().split("\n").map((l) => JSON.parse(l) as Array<Record<string, string>>);
      assert.deepEqual(qianfan.map((g) => [g.length, g[0]!.Prompt, g[0]!["Completion（模型回答）"]]), jsonl.map((r) => [1, r.prompt, r.prediction]));
      assert.ok(qianfan.every(([r]) => /^\d+\.\d{2}%$/.test(r!["ROUGE-L"]!) && /^[29]$/.test(r!["裁判员模型打分"]!)), JSON.stringify(qianfan));
      // Sailfin's own link (`signature=`) or, on S3, a presigned one (`X-Amz-Signature=`): either refuses a forged signature.
      const tampered = info.downloadUrl.replace(/(signature=)[^&]+/i, "$1AAAA");
      assert.notEqual(tampered, info.downloadUrl);
      assert.equal((await fetch(tampered)).status, 403);

      const storage = await v2ok("eval", "CreateEvalResultExportTask", { evalId, storageType: "BOS", bucket: "exports", exportContent: ["prompt", "prediction"] });
      const stored = await pollUntil(() => v2ok("eval", "DescribeEvalResultExportTask", { exportTaskId: storage }), (x) => ["Done", "Fail"].includes(x.state), "storage export");
      assert.equal(stored.state, "Done", JSON.stringify(stored));
      const object = await rawCall(server.url, { method: "GET", path: `/sailfin/v1/objects/exports/${stored.exportPath}`, credentials: ADMIN });
      assert.equal(object.status, 200);
    });

    test("stop at every state: a queued evaluation, a queued compression", async () => {
      const evalId = await v2ok("eval", "CreateEvalTask", {
        taskName: "to-stop", evalObjectType: "model",
        evalObjectConfig: { evalModelConfig: { versionId: evalDatasetVersion, evalModelConfigList: [{ modelId: baseModelId, promptTemplate: "{input}" }] } },
        evalConfig: { evalMode: "rule" },
      });
      await v2ok("eval", "StopEvalTask", { taskId: evalId });
      const stopped = await pollUntil(() => v2ok("eval", "DescribeEvalTask", { taskId: evalId }), (e) => ["Stopped", "Successed"].includes(e.state), "stop");
      assert.ok(["Stopped", "Successed"].includes(stopped.state));
      const setId = await v2ok("model", "CreateCustomModelSet", { modelSetName: "to-stop", modelType: "Text2Text" });
      const compId = await v2ok("model", "CreateModelCompTask", { name: "s", sourceModelId: baseModelId, modelSetId: setId, config: { strategy: "Quantization", weight: "W4A16C16" } });
      const cancel = await v2Raw(server, "model", "StopModelCompTask", { modelCompTaskId: compId });
      assert.equal(cancel.status, 200, cancel.text);
      assert.equal(cancel.body.result, undefined, "Cancel answers only requestId");
      const comp = await pollUntil(() => v2ok("model", "DescribeModelCompTask", { modelCompTaskId: compId }), (c) => ["stopped", "succeeded"].includes(c.status), "comp stop");
      if (comp.status === "stopped") assert.equal(comp.modelId, "");
    });

    test("a judge answering nonsense: every sample is recorded as failed and the evaluation is PartlyDone, not a crash", async () => {
      const nonsense = await startFakeJudge({ behaviour: "nonsense" });
      try {
        const created = await v1Raw(server, "/wenxinworkshop/modelrepo/eval/create", {
          name: "bad-judge", datasetId: evalDatasetVersion,
          versionEvalInfo: [{ modelVersionId: tunedModelId, params: { max_output_tokens: 4 } }],
          evalStandardConf: { evalMode: "rule,model", apiUrl: nonsense.url },
        });
        const id = created.body.result.evalIdStr;
        const detail = await pollUntil(async () => (await v1Raw(server, "/wenxinworkshop/modelrepo/eval/detail", { id })).body.result,
          (d) => !["Pending", "Doing"].includes(d.state), "evaluation");
        assert.equal(detail.state, "PartlyDone", JSON.stringify(detail));
        const report = (await v1Raw(server, "/wenxinworkshop/modelrepo/eval/report", { id })).body.result;
        assert.equal(report[0].effectMetric.scoreDistribution["-1"], WORDS.length);
        assert.equal(typeof report[0].effectMetric.rouge_l, "number", "rule metrics are still there");
        const v2 = await v2ok("eval", "DescribeEvalTask", { taskId: id });
        assert.equal(v2.state, "Successed");
        const rows = (await v1Raw(server, "/wenxinworkshop/modelrepo/eval/result/list", { id, pageNo: 1, pageSize: 10 })).body.result.results;
        assert.ok(rows.every((r: any) => r.judgeScore === null && r.judgeError === "judge answered with a body that is not JSON"), JSON.stringify(rows));
        assert.ok(nonsense.requests.length > 0 && nonsense.requests.every((r) => r.headers.authorization === undefined), "a caller's URL never gets the operator's key");
      } finally {
        await nonsense.close();
      }
    });

    test("a running evaluation stops (Stopping → Stopped) while its judge is slow; stopping again is harmless; a finished one refuses", async () => {
      const slow = await startFakeJudge({ behaviour: "slow" });
      try {
        const id = await v2ok("eval", "CreateEvalTask", {
          taskName: "slow-judge", evalObjectType: "model",
          evalObjectConfig: { evalModelConfig: { versionId: evalDatasetVersion, evalModelConfigList: [{ modelId: tunedModelId, promptTemplate: "{input}", inferenceParams: { max_output_tokens: 4 } }] } },
          evalConfig: { evalMode: "rule,model", autoModelEvalConfig: { apiUrl: slow.url } },
        });
        await pollUntil(async () => slow.requests.length, (n) => n > 0, "the judge being called");
        assert.equal((await v2ok("eval", "DescribeEvalTask", { taskId: id })).state, "Running");
        await v2ok("eval", "StopEvalTask", { taskId: id });
        const stopping = await v2ok("eval", "DescribeEvalTask", { taskId: id });
        assert.ok(["Stopping", "Stopped"].includes(stopping.state), stopping.state);
        const stopped = await pollUntil(() => v2ok("eval", "DescribeEvalTask", { taskId: id }), (e) => e.state !== "Stopping" && e.state !== "Running", "stop");
        assert.equal(stopped.state, "Stopped");
        await v2ok("eval", "StopEvalTask", { taskId: id });
        const export_ = await v2Raw(server, "eval", "CreateEvalResultExportTask", { evalId: id, storageType: "sysStorage", exportContent: ["prompt"] });
        assert.equal(export_.status, 400, "a stopped evaluation has nothing complete to export");
      } finally {
        await slow.close();
      }
      const done = (await v2ok("eval", "DescribeEvalTasks", { keyFilter: "skill-eval" })).taskList[0];
      const refused = await v2Raw(server, "eval", "StopEvalTask", { taskId: done.taskId });
      assert.equal(refused.status, 409, refused.text);
    });

    test("compression refusals: Sparsity, an unknown weight, a missing source", async () => {
      const setId = await v2ok("model", "CreateCustomModelSet", { modelSetName: "refusals", modelType: "Text2Text" });
      const sparsity = await v2Raw(server, "model", "CreateModelCompTask", { name: "x", sourceModelId: baseModelId, modelSetId: setId, config: { strategy: "Sparsity" } });
      assert.equal(sparsity.status, 400);
      assert.equal(sparsity.body.code, "InappropriateJSON");
      assert.match(sparsity.body.message, /config\.strategy.*not supported/);
      const weight = await v2Raw(server, "model", "CreateModelCompTask", { name: "x", sourceModelId: baseModelId, modelSetId: setId, config: { strategy: "Quantization", weight: "W2" } });
      assert.match(weight.body.message, /config\.weight/);
      const missing = await v2Raw(server, "model", "CreateModelCompTask", { name: "x", sourceModelId: "amv-000000000000", modelSetId: setId, config: { strategy: "Quantization", weight: "INT8-PTQ" } });
      assert.match(missing.body.message, /sourceModelId/);
    });
  });
}
