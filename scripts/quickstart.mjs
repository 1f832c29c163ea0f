#!/usr/bin/env node
// The quickstart: starts `sailfin serve` on the embedded defaults and walks the main job with the
// real CLI and API: a tiny model imported, the demo dataset uploaded, validated and released, a
// fine-tuning job and task created. Run it with `npm run quickstart` (which builds first).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Client } from "@sailfin/cli";

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

  step("a tiny Qwen2 model (random weights, real architecture and tokenizer) into the model repository");
  const modelDir = join(home, "demo", "tiny-qwen2");
  if (!existsSync(join(modelDir, "config.json"))) cli(["models", "create-tiny", modelDir, "--arch", "qwen2"]);
  const existing = await api.v2("model", "DescribeCustomModelSets", { maxKeys: 100 });
  const imported = existing.customModelSetList.find((s) => s.modelSetName === "tiny-qwen2");
  if (imported && imported.modelIds.length > 0) say(`tiny-qwen2 is already registered (${imported.modelIds.join(", ")})`);
  else cli(["models", "import", modelDir, "--name", "tiny-qwen2"]);

  step("the demo dataset: upload, validate line by line, release");
  const dataset = cli(["datasets", "upload", join(root, "examples/demo-sft.jsonl"), "--name", "demo-sft", "--format", "PromptResponse", "--json"], { json: true });
  say(`released dataset version ${dataset.versionId}: ${dataset.sampleCount} samples, sha256 ${dataset.contentHash}`);

  step("a fine-tuning job and a LoRA SFT task (V2 API, as the official SDKs call it)");
  const { jobId } = await api.v2("finetuning", "CreateFineTuningJob", { name: "quickstart", model: "tiny-qwen2", trainMode: "SFT" });
  const { taskId } = await api.v2("finetuning", "CreateFineTuningTask", {
    jobId,
    parameterScale: "LoRA",
    hyperParameterConfig: { epoch: 3, learningRate: 0.002, batchSize: 8, maxSeqLen: 256, loraRank: 8 },
    datasetConfig: { sourceType: "Platform", versions: [{ versionId: dataset.versionId }], splitRatio: 10 },
  });
  const task = await api.v2("finetuning", "DescribeFineTuningTask", { taskId });
  say(JSON.stringify({ jobId, taskId, runStatus: task.runStatus, model: task.model, parameterScale: task.parameterScale, hyperParameterConfig: task.hyperParameterConfig }, null, 2));

  step("done");
  say(`Task ${taskId} is stored with its resolved configuration and waits in runStatus "${task.runStatus}":`);
  say("the training worker is not part of Sailfin yet, so nothing trains it (see README).");
  say(`Start the server again with \`npx sailfin serve\`; the admin keys are in ${join(home, "credentials.json")}.`);
} finally {
  server.kill("SIGTERM");
}
