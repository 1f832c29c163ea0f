import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MODEL_FAMILIES, type ModelFamily } from "@sailfin/engine";
import type { Worker } from "@sailfin/worker";
import { pollUntil, startTestServer, testAxes, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { learnableLines, lossMetrics, startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * Issue 14's "done when": every architecture import accepts goes the whole way through the API on
 * the real server, worker and runtime — a tiny random model of the family is imported, shows its
 * family in DescribeFineTuningSupportModels, is fine-tuned full and LoRA (a few steps), both runs
 * are published (LoRA merged into the weights), and the base and published versions are evaluated
 * by real generation. One server and worker for all families, to keep it quick.
 * SAILFIN_TEST_FAMILIES (comma list) narrows the families, e.g. to run one while debugging.
 */

const FAMILIES: ModelFamily[] = (() => {
  const wanted = process.env.SAILFIN_TEST_FAMILIES;
  if (wanted === undefined || wanted.trim() === "") return [...MODEL_FAMILIES];
  const list = wanted.split(",").map((f) => f.trim());
  for (const f of list) if (!(MODEL_FAMILIES as readonly string[]).includes(f)) throw new Error(`SAILFIN_TEST_FAMILIES: unknown family ${f}`);
  return list as ModelFamily[];
})();

const ARCHITECTURE: Record<ModelFamily, string> = {
  llama: "LlamaForCausalLM", qwen2: "Qwen2ForCausalLM", qwen3: "Qwen3ForCausalLM", ernie4_5: "Ernie4_5ForCausalLM", mistral: "MistralForCausalLM",
  gemma2: "Gemma2ForCausalLM", gemma3_text: "Gemma3ForCausalLM",
};

let tiny: TinyModelFolders;
before(async () => {
  // Mistral's and Gemma's window (16 tokens) is shorter than the training rows, so the window mask is exercised.
  tiny = await writeTinyModels(Object.fromEntries(FAMILIES.map((family) => [family, { ...TINY, architecture: family, seed: 5, slidingWindow: 16 }])));
});
after(() => tiny.remove());

// The runtime path is the same on every dialect and store (other suites cover those); one axis is enough here.
const { dialect, artifacts, label } = testAxes()[0]!;
describe(`every architecture through the API (${label})`, () => {
  let server: TestServer;
  let worker: Worker;
  let trainVersion = "";
  let evalVersion = "";
  const v2 = <T = any>(resource: string, action: string, body: unknown) => server.admin.v2<T>(resource, action, body);

  before(async () => {
    server = await startTestServer(dialect, {}, artifacts);
    worker = await startTestWorker(server, "arch-worker");
    trainVersion = (await releasedDataset(server, { name: "arch-train", format: "PromptResponse", lines: learnableLines(16) })).versionId;
    evalVersion = (await releasedDataset(server, { name: "arch-eval", format: "PromptResponse", lines: learnableLines(3) })).versionId;
  });
  after(async () => { await worker?.stop(); await server?.close(); });

  for (const family of FAMILIES) {
    test(`${family}: imports, trains full and LoRA, publishes and evaluates`, async () => {
      const name = `arch-${family}`;
      await stageFolder(server, tiny.dir(family), "hub", name);
      const base = await importBaseModel(server, name, { bucket: "hub", objectPath: name });

      const listed = (await v2<any[]>("finetuning", "DescribeFineTuningSupportModels", {})).find((m) => m.model === name);
      assert.ok(listed !== undefined, `${name} is a support model`);
      assert.equal(listed.modelSpec.family, family);
      assert.equal(listed.modelSpec.architecture, ARCHITECTURE[family]);
      assert.equal(listed.modelSpec.slidingWindow, family === "mistral" || family.startsWith("gemma") ? 16 : null);
      assert.equal(listed.modelSpec.maxPositionEmbeddings, 512);

      const { jobId } = await v2("finetuning", "CreateFineTuningJob", { name: `j-${family}`, model: name, trainMode: "SFT" });
      const taskIds: Record<string, string> = {};
      for (const [scale, learningRate] of [["FullFineTuning", 0.003], ["LoRA", 0.01]] as const) {
        taskIds[scale] = (await v2("finetuning", "CreateFineTuningTask", {
          jobId, parameterScale: scale,
          hyperParameterConfig: { epoch: 2, maxSeqLen: 128, batchSize: 4, learningRate, loggingSteps: 1, warmupRatio: 0 },
          datasetConfig: { sourceType: "Platform", versions: [{ versionId: trainVersion }] },
        })).taskId;
      }
      const published: string[] = [];
      for (const [scale, taskId] of Object.entries(taskIds)) {
        const task = await waitForTask(server, taskId, (t) => ["Done", "Failed", "Stopped"].includes(t.runStatus), 180_000);
        assert.equal(task.runStatus, "Done", `${family} ${scale}: ${JSON.stringify(task)}`);
        const losses = await lossMetrics(server, taskId);
        assert.ok(losses.length >= 2 && losses.every((p) => Number.isFinite(p.loss)), `${family} ${scale}: ${JSON.stringify(losses)}`);
        const setId = await v2<string>("model", "CreateCustomModelSet", { modelSetName: `${name}-${scale}`, modelType: "Text2Text" });
        const { modelId } = await v2("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Train", trainMeta: { taskId } });
        const version = await pollUntil(() => v2("model", "DescribeModel", { modelId }), (m) => m.status !== "Creating", `${family} ${scale} publish`);
        assert.equal(version.status, "Ready", `${family} ${scale} publish: ${JSON.stringify(version)}`);
        published.push(modelId);
      }
      // A published version is a base model of the same family (LoRA merged into full weights).
      const after = await v2<any[]>("finetuning", "DescribeFineTuningSupportModels", {});
      for (const scale of Object.keys(taskIds)) {
        assert.equal(after.find((m) => m.model === `${name}-${scale}`)?.modelSpec.architecture, ARCHITECTURE[family], `${family} ${scale}`);
      }

      const evalId = await v2<string>("eval", "CreateEvalTask", {
        taskName: `e-${family}`, evalObjectType: "model",
        evalObjectConfig: {
          evalModelConfig: {
            versionId: evalVersion,
            evalModelConfigList: [base.versionId, ...published].map((modelId) => ({ modelId, promptTemplate: "{input}", inferenceParams: { max_output_tokens: 4 } })),
          },
        },
        evalConfig: { evalMode: "rule" },
      });
      const done = await pollUntil(() => v2("eval", "DescribeEvalTask", { taskId: evalId }), (e) => !["Queued", "Running", "Stopping"].includes(e.state), `${family} evaluation`, 180_000);
      assert.equal(done.state, "Successed", `${family} evaluation: ${JSON.stringify(done)}`);
      const report = await v2("eval", "DescribeEvalTaskReport", { taskId: evalId });
      assert.deepEqual(report.reports.map((r: any) => [r.modelId, r.samples, r.failedSamples]), [base.versionId, ...published].map((id) => [id, 3, 0]));
      assert.ok(report.reports.every((r: any) => typeof r.effectMetric.rouge_l === "number"), JSON.stringify(report));
    });
  }
});
