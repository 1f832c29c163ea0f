#!/usr/bin/env node
// The quickstart: starts `sailfin serve` on the embedded defaults (with its embedded worker) and
// walks the main job with the real CLI and API: a tiny model imported, the demo dataset uploaded,
// validated and released, a fine-tuning task trained while its loss is shown, the result
// published and the new model version printed with its lineage; then compressed to W8A16,
// base, fine-tuned and compressed versions evaluated on held-out data, and the results exported;
// last, the fine-tuned version deployed as a service and asked one question through the V2 chat
// API (`sailfin chat`, i.e. POST /v2/chat/completions). `npm run quickstart` builds first.
// Before anything starts it makes sure the training runtime (PyTorch) is there: installed with
// scripts/setup-runtime-deps.sh when it can (root on Debian/Ubuntu), else it stops at once with
// the command to run.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SailfinClient } from "@sailfin/sdk";
import { readDatasetTexts } from "@sailfin/data";
import { writeTinyModel } from "@sailfin/engine";
import { RuntimeMissingError, ensureRuntime } from "@sailfin/worker";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "packages/cli/bin/sailfin.js");
const home = resolve(process.env.SAILFIN_HOME ?? ".sailfin");
const port = process.env.SAILFIN_PORT ?? "8866";
const say = (line = "") => process.stdout.write(`${line}\n`);
const step = (text) => say(`\n==> ${text}`);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
/** How long a task may report a `waitingReason` (no worker will run it) before the quickstart gives up. */
const WAITING_GRACE_MS = 5_000;
/** Throws once `value.waitingReason` has held for WAITING_GRACE_MS: waiting longer would be waiting forever. */
function stuckWatch(what) {
  let since = null;
  return (value) => {
    if (!value.waitingReason) { since = null; return; }
    since ??= Date.now();
    if (Date.now() - since > WAITING_GRACE_MS) throw new Error(`${what} cannot start: ${value.waitingReason}`);
  };
}
/** Polls `read` every second until `done(value)`; gives up after 15 minutes, or when no worker will run it. */
async function poll(what, read, done) {
  const started = Date.now();
  const stuck = stuckWatch(what);
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    stuck(value);
    if (Date.now() - started > 15 * 60_000) throw new Error(`${what} still not finished after 15 minutes`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

step("checking the training runtime (Python with PyTorch)");
let python;
try {
  python = await ensureRuntime(process.env, say);
} catch (error) {
  if (!(error instanceof RuntimeMissingError)) throw error;
  process.stderr.write(`quickstart: cannot train on this machine yet: ${error.message}\n`);
  process.exit(1);
}
say(`using ${python}`);

step(`starting sailfin serve (home ${home}, port ${port})`);
const server = spawn(process.execPath, [bin, "serve", "--home", home, "--port", port], {
  stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, SAILFIN_PYTHON: python },
});
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
  const api = new SailfinClient({ baseUrl: url, ...credentials, retries: 0 });

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
  const existing = await api.call("model", "DescribeCustomModelSets", { maxKeys: 100 });
  const imported = existing.customModelSetList.find((s) => s.modelSetName === modelName);
  if (imported && imported.modelIds.length > 0) say(`${modelName} is already registered (${imported.modelIds.join(", ")})`);
  else cli(["models", "import", modelDir, "--name", modelName]);

  step("the demo dataset: upload, validate line by line, release");
  const dataset = cli(["datasets", "upload", join(root, "examples/demo-sft.jsonl"), "--name", "demo-sft", "--format", "PromptResponse", "--json"], { json: true });
  say(`released dataset version ${dataset.versionId}: ${dataset.sampleCount} samples, sha256 ${dataset.contentHash}`);

  step("a fine-tuning job and an SFT task (V2 API, as the official SDKs call it)");
  const { jobId } = await api.call("finetuning", "CreateFineTuningJob", { name: "quickstart", model: modelName, trainMode: "SFT" });
  const { taskId } = await api.call("finetuning", "CreateFineTuningTask", {
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
  const stuck = stuckWatch("the fine-tuning task");
  for (;;) {
    task = await api.call("finetuning", "DescribeFineTuningTask", { taskId });
    const { metrics } = await api.call("finetuning", "DescribeFineTuningTaskMetrics", { taskId, sinceStep: shown });
    for (const m of metrics) {
      if (m.loss === null || m.loss === undefined || m.step <= shown) continue;
      say(`  step ${String(m.step).padStart(4)}  loss ${m.loss.toFixed(4)}  lr ${(m.lr ?? 0).toExponential(2)}  ${Math.round(m.tokensPerSecond ?? 0)} tok/s  (${task.runProgress ?? task.runStatus})`);
      shown = m.step;
    }
    if (["Done", "Failed", "Stopped"].includes(task.runStatus)) break;
    stuck(task);
    if (Date.now() - started > 15 * 60_000) throw new Error("training did not finish within 15 minutes");
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (task.runStatus !== "Done") throw new Error(`task ended ${task.runStatus}: ${task.failureReason ?? ""}`);
  const checkpoints = task.checkpointList.map((c) => `step ${c.step}: training loss ${c.trainingLoss?.toFixed(4)}, perplexity ${c.perplexity?.toFixed(3)}`);
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s; checkpoints: ${checkpoints.join("; ")}`);

  step("publish the result as a new model version");
  const setName = "quickstart-sft";
  const sets = await api.call("model", "DescribeCustomModelSets", { maxKeys: 100 });
  const modelSetId = sets.customModelSetList.find((s) => s.modelSetName === setName)?.modelSetId
    ?? (await api.call("model", "CreateCustomModelSet", { modelSetName: setName, modelType: "Text2Text" }));
  const { modelId } = await api.call("model", "CreateCustomModel", { modelSetId, sourceType: "Train", trainMeta: { taskId } });
  let version;
  for (;;) {
    version = await api.call("model", "DescribeModel", { modelId });
    if (version.status !== "Creating") break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (version.status !== "Ready") throw new Error(`publishing failed: ${version.failReason ?? version.status}`);
  const detail = await api.callV1("/wenxinworkshop/modelrepo/modelVersionDetail", { modelVersionId: modelId });
  say(JSON.stringify({ modelVersionId: detail.modelVersionIdStr, modelName: detail.modelName, version: detail.version, state: detail.state, sourceType: detail.sourceType, sourceExtra: detail.sourceExtra }, null, 2));

  step("compress the new version to W8A16 (int8 weight-only quantization)");
  const compSets = await api.call("model", "DescribeCustomModelSets", { maxKeys: 100 });
  const compSetId = compSets.customModelSetList.find((s) => s.modelSetName === "quickstart-w8a16")?.modelSetId
    ?? (await api.call("model", "CreateCustomModelSet", { modelSetName: "quickstart-w8a16", modelType: "Text2Text" }));
  const compTaskId = await api.call("model", "CreateModelCompTask", {
    name: "quickstart-w8a16", sourceModelId: modelId, modelSetId: compSetId, config: { strategy: "Quantization", weight: "W8A16C16" },
  });
  const comp = await poll("the compression", () => api.call("model", "DescribeModelCompTask", { modelCompTaskId: compTaskId }), (c) => !["creating", "running", "stopping"].includes(c.status));
  if (comp.status !== "succeeded") throw new Error(`compression ${comp.status}: ${comp.failedReason ?? ""}`);
  say(`${compTaskId} succeeded: ${comp.modelId}, ${kib(comp.sizeBeforeBytes)} → ${kib(comp.sizeAfterBytes)}, held-out perplexity ${comp.perplexityBefore?.toFixed(3)} → ${comp.perplexityAfter?.toFixed(3)} (${comp.perplexityDeltaPercent}%)`);

  step("evaluate base, fine-tuned and compressed versions on the held-out demo data");
  const evalData = cli(["datasets", "upload", join(root, "examples/demo-eval.jsonl"), "--name", "demo-eval", "--format", "PromptResponse", "--json"], { json: true });
  const baseSet = (await api.call("model", "DescribeCustomModelSets", { maxKeys: 100 })).customModelSetList.find((s) => s.modelSetName === modelName);
  const baseModelId = baseSet.modelIds[baseSet.modelIds.length - 1];
  const versions = [["base", baseModelId], ["fine-tuned", modelId], ["w8a16", comp.modelId]];
  const evalId = await api.call("eval", "CreateEvalTask", {
    taskName: "quickstart", evalObjectType: "model",
    evalObjectConfig: { evalModelConfig: { versionId: evalData.versionId, evalModelConfigList: versions.map(([, id]) => ({ modelId: id, promptTemplate: "{input}", inferenceParams: { max_output_tokens: 8 } })) } },
    evalConfig: { evalMode: "rule" },
  });
  const evaluation = await poll("the evaluation", () => api.call("eval", "DescribeEvalTask", { taskId: evalId }), (e) => !["Queued", "Running", "Stopping"].includes(e.state));
  if (evaluation.state !== "Successed") throw new Error(`evaluation ${evaluation.state}: ${evaluation.failReason ?? ""}`);
  const report = await api.call("eval", "DescribeEvalTaskReport", { taskId: evalId });
  say(`${"version".padEnd(12)}${"model".padEnd(18)}${"accuracy".padStart(9)}${"BLEU-4".padStart(9)}${"ROUGE-L".padStart(9)}${"size".padStart(11)}`);
  for (const [label, id] of versions) {
    const r = report.reports.find((x) => x.modelId === id);
    const m = r?.effectMetric ?? {};
    say(`${label.padEnd(12)}${id.padEnd(18)}${(m.accuracy ?? 0).toFixed(3).padStart(9)}${(m.bleu4 ?? 0).toFixed(3).padStart(9)}${(m.rouge_l ?? 0).toFixed(3).padStart(9)}${kib(r?.sizeBytes ?? 0).padStart(11)}`);
  }

  step("export the per-sample results (V1 eval/result/export, as seed 002) and download the zip");
  const { exportID } = await api.callV1("/wenxinworkshop/modelrepo/eval/result/export", { id: evalId, exportType: "local", exportOpt: "total" });
  const info = await poll("the export", () => api.callV1("/wenxinworkshop/modelrepo/eval/result/export/info", { exportID }), (x) => ["Done", "Fail"].includes(x.state));
  if (info.state !== "Done") throw new Error(`export ${info.state}: ${info.failReason ?? ""}`);
  const zip = Buffer.from(await (await fetch(info.downloadUrl)).arrayBuffer());
  const zipPath = join(home, "demo", `${info.exportIDStr}.zip`);
  writeFileSync(zipPath, zip);
  say(`export ${info.exportIDStr}: ${info.state}, ${kib(zip.length)} written to ${zipPath} (data.jsonl in Qianfan's layout, results.jsonl, results.csv)`);

  step("deploy the fine-tuned version as a service and ask it a question through the V2 chat API");
  // One endpoint per version: a second quickstart run publishes a new version and deploys it beside the first.
  const endpoint = `quickstart-${modelId.slice("amv-".length)}`;
  const deployed = cli(["services", "deploy", modelId, "--name", "quickstart", "--endpoint", endpoint, "--wait", "--json"], { json: true });
  if (deployed.runStatus !== "Serving") throw new Error(`the service ${deployed.serviceId} is ${deployed.runStatus}: ${deployed.failureReason ?? ""}`);
  say(`${deployed.serviceId} is Serving at ${deployed.url}`);
  const question = "What is 3 + 4?";
  say(`(the demo data teaches "${question}" → "7")`);
  cli(["chat", endpoint, "--message", question, "--temperature", "0", "--max-tokens", "8"]);

  step("done");
  say(`The new model version ${modelId} is Ready: merged weights, config and tokenizer in ${join(home, "models", modelId)}.`);
  say(`Start the server again with \`npx sailfin serve\` (the service comes back with it); the admin keys are in ${join(home, "credentials.json")}.`);
  say(`Ask it again with \`npx sailfin chat ${endpoint}\`, or point the \`openai\` SDK at ${url}/v2 with an API key (\`npx sailfin keys api-key create\`).`);
  const consolePage = await fetch(`${url}/console/`);
  if (consolePage.ok) say(`Then open the web console at ${url}/console/ and sign in with those keys: the task's page, with its loss curve, is ${url}/console/tasks/${taskId}.`);
  else say(`The web console is not built (GET /console/ answered ${consolePage.status}): \`npm run build\` builds it.`);
} catch (error) {
  // A step that cannot go on (a task no worker runs, a failed run): its reason, not a stack trace.
  process.stderr.write(`quickstart: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  server.kill("SIGTERM");
}
