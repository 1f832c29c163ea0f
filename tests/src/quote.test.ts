import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Worker } from "@sailfin/worker";
import { startTestServer, testDialects, v2Raw, type TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels, type TinyModelFolders } from "./fixtures/model-imports.js";
import { learnableLines, startTestWorker, waitForTask } from "./fixtures/worker-fixtures.js";

/**
 * DescribeFineTuningTaskQuote (Sailfin extension): the tokens and steps a prospective task
 * trains, checked against the real run that follows, and an ETA once this installation has
 * measured the model shape's throughput.
 */

let tiny: TinyModelFolders;
before(async () => { tiny = await writeTinyModels({ llama: TINY }); });
after(async () => { await tiny.remove(); });

for (const dialect of testDialects()) {
  describe(`fine-tuning quote (${dialect})`, () => {
    let server: TestServer;
    let worker: Worker | null = null;
    let body: Record<string, unknown>;

    const v2 = async (action: string, b: unknown): Promise<any> => {
      const r = await v2Raw(server, "finetuning", action, b);
      assert.equal(r.status, 200, `${action}: ${r.text}`);
      return r.body.result;
    };

    before(async () => {
      server = await startTestServer(dialect);
      await stageFolder(server, tiny.dir("llama"), "hub", "llama");
      await importBaseModel(server, "tiny-quote", { bucket: "hub", objectPath: "llama" });
      const data = await releasedDataset(server, { name: "quote-data", format: "PromptResponse", lines: learnableLines(30) });
      const { jobId } = await v2("CreateFineTuningJob", { name: "quote", model: "tiny-quote", trainMode: "SFT" });
      body = {
        jobId, parameterScale: "LoRA",
        hyperParameterConfig: { epoch: 3, batchSize: 4, maxSeqLen: 128, learningRate: 0.01, loggingSteps: 1, warmupRatio: 0 },
        datasetConfig: { sourceType: "Platform", versions: [{ versionId: data.versionId }], splitRatio: 20 },
      };
    });
    after(async () => { await worker?.stop(); await server?.close(); });

    test("before any run: tokens × epochs and steps, ETA unknown; the steps are the ones the task then trains", async () => {
      const quote = await v2("DescribeFineTuningTaskQuote", body);
      assert.equal(quote.epochs, 3);
      assert.ok(quote.trainedTokensPerEpoch > 0);
      assert.equal(quote.trainedTokens, quote.trainedTokensPerEpoch * 3);
      assert.equal(quote.stepsPerEpoch, Math.ceil(quote.examples / 4));
      assert.equal(quote.totalSteps, quote.stepsPerEpoch * 3);
      assert.equal(quote.tokensPerSecond, null);
      assert.equal(quote.etaSeconds, null);
      assert.equal(quote.cached, false, "the first quote tokenizes");
      assert.equal((await v2("DescribeFineTuningTaskQuote", body)).cached, true, "and caches the shards for the task");

      worker = await startTestWorker(server, `quote-worker-${dialect}`);
      const { taskId } = await v2("CreateFineTuningTask", body);
      const task = await waitForTask(server, taskId, (t) => ["Done", "Failed", "Stopped"].includes(t.runStatus), 120_000);
      assert.equal(task.runStatus, "Done", JSON.stringify(task));
      const { metrics } = await v2("DescribeFineTuningTaskMetrics", { taskId });
      assert.equal(Math.max(...metrics.map((m: any) => m.step)), quote.totalSteps, "the quote's steps are the run's steps");

      const after = await v2("DescribeFineTuningTaskQuote", body);
      assert.ok(after.tokensPerSecond > 0, JSON.stringify(after));
      assert.equal(after.throughputRuns, 1);
      assert.equal(after.etaSeconds, Math.round(after.trainedTokens / after.tokensPerSecond));
    });

    test("a body the create would refuse is refused the same way, naming the field", async () => {
      const bad = { ...body, hyperParameterConfig: { epoch: 0 } };
      const quote = await v2Raw(server, "finetuning", "DescribeFineTuningTaskQuote", bad);
      const create = await v2Raw(server, "finetuning", "CreateFineTuningTask", bad);
      assert.equal(quote.status, 400);
      assert.equal(quote.body.code, create.body.code);
      assert.match(quote.body.message, /hyperParameterConfig\.epoch/);
      const missing = await v2Raw(server, "finetuning", "DescribeFineTuningTaskQuote", { ...body, jobId: "job-000000000000" });
      assert.match(missing.body.message, /jobId/);
    });
  });
}
