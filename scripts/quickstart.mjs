#!/usr/bin/env node
// The quickstart: starts `sailfin serve` on the embedded defaults (with its embedded worker) and
// walks the main job with the real CLI and API: a tiny model imported, the demo dataset uploaded,
// validated and released, a fine-tuning task trained while its loss is shown, the result
// published and the new model version printed with its lineage. `npm run quickstart` builds first.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Client } from "@sailfin/cli";
import { readDatasetTexts } from "@sailfin/data";
import { writeTinyModel } from "@sailfin/engine";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "packages/cli/bin/sailfin.js");
const home = resolve(process.env.SAILFIN_HOME ?? ".sailfin");
const port = process.env.SAILFIN_PORT ?? "8866";
const say = (line = "") => process.stdout.write(`${line}\n`);
const step = (text) => say(`\n==> ${text}`);

step(`starting sailfin serve (home ${home}, port ${port})`);
const server = spawn(process.execPath, [bin, "serve", "--home", home, "--port", port], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolveUrl, reject) => {
  let out = "";
  server.stdout.on("data", (chunk) => {
    process.stdout.write(chunk);
    out += chunk;
    const match = /sailfin listening on (\S+)/.exec(out);
    if (match) resolveUrl(match[1]);
  });
  server.on("exit", (code) => reject(new Error(`sailfin serve exited with code ${code} (is port ${port} in use? set SAILFIN_PORT)`)));
});

try {
  const credentials = process.env.SAILFIN_ACCESS_KEY
    ? { accessKey: process.env.SAILFIN_ACCESS_KEY, secretKey: process.env.SAILFIN_SECRET_KEY }
    : JSON.parse(readFileSync(join(home, "credentials.json"), "utf8"));
  const env = {
    ...process.env,
    QIANFAN_CONSOLE_API_BASE_URL: url,
    QIANFAN_ACCESS_KEY: credentials.accessKey,
    QIANFAN_SECRET_KEY: credentials.secretKey,
  };
  const cli = (args, { json = false } = {}) => {
    say(`$ sailfin ${args.join(" ")}`);
    const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (!json) process.stdout.write(r.stdout);
    if (r.status !== 0) throw new Error(`sailfin ${args[0]} ${args[1]} failed (exit ${r.status})`);
    return json ? JSON.parse(r.stdout) : r.stdout;
  };
  const api = new Client({ baseUrl: url, ...credentials });

  step("a tiny Llama model: real architecture, random weights, a BPE tokenizer trained on the demo data");
  const modelName = "tiny-llama";
  const modelDir = join(home, "demo", modelName);
  if (!existsSync(join(modelDir, "config.json"))) {
    await writeTinyModel(modelDir, {
      architecture: "llama", hiddenSize: 128, layers: 4, heads: 4, kvHeads: 2, intermediate: 344, maxPositions: 512, seed: 7,
      tokenizerTexts: await readDatasetTexts(join(root, "examples/demo-sft.jsonl"), "PromptResponse"),
      tokenizerVocabSize: 1024,
    });
    say(`wrote ${modelDir}`);
  }
  const existing = await api.v2("model", "DescribeCustomModelSets", { maxKeys: 100 });
  const imported = existing.customModelSetList.find((s) => s.modelSetName === modelName);
  if (imported && imported.modelIds.length > 0) say(`${modelName} is already registered (${imported.modelIds.join(", ")})`);
  else cli(["models", "import", modelDir, "--name", modelName]);

  step("the demo dataset: upload, validate line by line, release");
  const dataset = cli(["datasets", "upload", join(root, "examples/demo-sft.jsonl"), "--name", "demo-sft", "--format", "PromptResponse", "--json"], { json: true });
  say(`released dataset version ${dataset.versionId}: ${dataset.sampleCount} samples, sha256 ${dataset.contentHash}`);

  step("a fine-tuning job and an SFT task (V2 API, as the official SDKs call it)");
  const { jobId } = await api.v2("finetuning", "CreateFineTuningJob", { name: "quickstart", model: modelName, trainMode: "SFT" });
  const { taskId } = await api.v2("finetuning", "CreateFineTuningTask", {
    jobId,
    parameterScale: "FullFineTuning",
    hyperParameterConfig: { epoch: 40, learningRate: 0.003, batchSize: 8, maxSeqLen: 128, warmupRatio: 0.05, saveStep: 1000, loggingSteps: 10 },
    datasetConfig: { sourceType: "Platform", versions: [{ versionId: dataset.versionId }], splitRatio: 10 },
  });
  say(`job ${jobId}, task ${taskId}`);

  step("training (the embedded worker runs the PyTorch runtime)");
  let task;
  let shown = 0;
  const started = Date.now();
  for (;;) {
    task = await api.v2("finetuning", "DescribeFineTuningTask", { taskId });
    const { metrics } = await api.v2("finetuning", "DescribeFineTuningTaskMetrics", { taskId, sinceStep: shown });
    for (const m of metrics) {
      if (m.loss === null || m.loss === undefined || m.step <= shown) continue;
      say(`  step ${String(m.step).padStart(4)}  loss ${m.loss.toFixed(4)}  lr ${(m.lr ?? 0).toExponential(2)}  ${Math.round(m.tokensPerSecond ?? 0)} tok/s  (${task.runProgress ?? task.runStatus})`);
      shown = m.step;
    }
    if (["Done", "Failed", "Stopped"].includes(task.runStatus)) break;
    if (Date.now() - started > 15 * 60_000) throw new Error("training did not finish within 15 minutes");
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (task.runStatus !== "Done") throw new Error(`task ended ${task.runStatus}: ${task.failureReason ?? ""}`);
  const checkpoints = task.checkpointList.map((c) => `step ${c.step}: training loss ${c.trainingLoss?.toFixed(4)}, perplexity ${c.perplexity?.toFixed(3)}`);
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s; checkpoints: ${checkpoints.join("; ")}`);

  step("publish the result as a new model version");
  const setName = "quickstart-sft";
  const sets = await api.v2("model", "DescribeCustomModelSets", { maxKeys: 100 });
  const modelSetId = sets.customModelSetList.find((s) => s.modelSetName === setName)?.modelSetId
    ?? (await api.v2("model", "CreateCustomModelSet", { modelSetName: setName, modelType: "Text2Text" }));
  const { modelId } = await api.v2("model", "CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId } });
  let version;
  for (;;) {
    version = await api.v2("model", "DescribeModel", { modelId });
    if (version.status !== "Creating") break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (version.status !== "Ready") throw new Error(`publishing failed: ${version.failReason ?? version.status}`);
  const detail = await api.v1("/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: modelId });
  say(JSON.stringify({ modelVersionId: detail.modelVersionIdStr, modelName: detail.modelName, version: detail.version, state: detail.state, sourceType: detail.sourceType, sourceExtra: detail.sourceExtra }, null, 2));

  step("done");
  say(`The new model version ${modelId} is Ready: merged weights, config and tokenizer in ${join(home, "models", modelId)}.`);
  say(`Start the server again with \`npx sailfin serve\`; the admin keys are in ${join(home, "credentials.json")}.`);
} finally {
  server.kill("SIGTERM");
}
