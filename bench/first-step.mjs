#!/usr/bin/env node
// Time from `CreateFineTuningTask` to the first training step, end to end: a real server with
// its embedded worker (SQLite), a tiny Llama (hidden 32, 2 layers) and a small SFT dataset
// imported through the API. Measures, per task: the answer of CreateFineTuningTask, the claim
// (Running), the first metric row (first optimizer step done), and Done. The first task also
// tokenizes; the second reuses the token cache. Runs the BUILT code (`npx tsc -b` first).
//   node bench/first-step.mjs            → prints a table and writes bench/results/first-step.md

import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

process.env.SAILFIN_POLL_MS ??= "50";
const { loadServerConfig, startServer } = await import("@sailfin/server");
const { writeTinyModel } = await import("@sailfin/engine");
const { SailfinClient } = await import("@sailfin/sdk");

const ADMIN = { accessKey: "benchadminkey002", secretKey: "bench-admin-secret-0002" };
const RESULTS = new URL("./results/first-step.md", import.meta.url);

const home = await mkdtemp(join(tmpdir(), "sailfin-bench-first-step-"));
const config = loadServerConfig({
  flags: { port: "0", host: "127.0.0.1", home },
  env: { SAILFIN_ACCESS_KEY: ADMIN.accessKey, SAILFIN_SECRET_KEY: ADMIN.secretKey, SAILFIN_LOG_LEVEL: "silent" },
});
const server = await startServer(config, () => {}, { worker: true });
if (server.worker === null) throw new Error("no embedded worker (no Python with torch?)");
const client = new SailfinClient({ baseUrl: server.url, ...ADMIN, retries: 0 });
const v2 = (resource, action, body) => client.call(resource, action, body);
const until = async (what, fn, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
};

try {
  await writeTinyModel(join(home, "buckets", "hub", "tiny"), { architecture: "llama", hiddenSize: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64 });
  const setId = await v2("model", "CreateCustomModelSet", { modelSetName: "bench-tiny", modelType: "Text2Text" });
  const { modelId } = await v2("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Import", importMeta: { bucket: "hub", objectPath: "tiny" } });
  await until("model import", async () => (await v2("model", "DescribeModel", { modelId })).status === "Ready");

  const words = ["red", "blue", "green", "gold"];
  const lines = Array.from({ length: 2_000 }, (_, i) => JSON.stringify([{ prompt: `say ${words[i % 4]} ${i}`, response: [[`${words[i % 4]} ${i} ${words[i % 4]}`]] }]));
  await mkdir(join(home, "buckets", "data"), { recursive: true });
  await writeFile(join(home, "buckets", "data", "sft.jsonl"), `${lines.join("\n")}\n`);
  const ds = await v2("dataset", "CreateDataset", { datasetName: "bench-sft", dataFormat: "PromptResponse", storageType: "sysStorage" });
  await v2("dataset", "CreateImportTask", { versionId: ds.versionId, files: ["bos:/data/sft.jsonl"] });
  await until("dataset import", async () => (await v2("dataset", "DescribeDatasetVersion", { versionId: ds.versionId })).importStatus === "Finished");
  await v2("dataset", "PublishDatasetVersion", { versionId: ds.versionId });
  await until("dataset release", async () => (await v2("dataset", "DescribeDatasetVersion", { versionId: ds.versionId })).publishStatus === "Published");

  const rows = [];
  for (const label of ["first task (tokenizes)", "second task (token cache)"]) {
    const { jobId } = await v2("finetuning", "CreateFineTuningJob", { name: "bench", model: "bench-tiny", trainMode: "SFT" });
    const t0 = performance.now();
    const { taskId } = await v2("finetuning", "CreateFineTuningTask", {
      jobId, parameterScale: "LoRA", hyperParameterConfig: { maxSeqLen: 128, batchSize: 8, epoch: 1, loggingSteps: 1 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId: ds.versionId }], splitRatio: 10 },
    });
    const created = performance.now() - t0;
    await until("Running", async () => (await v2("finetuning", "DescribeFineTuningTask", { taskId })).runStatus !== "Waiting");
    const running = performance.now() - t0;
    await until("first step", async () => (await v2("finetuning", "DescribeFineTuningTaskMetrics", { taskId })).metrics.length > 0);
    const firstStep = performance.now() - t0;
    const done = await until("Done", async () => {
      const task = await v2("finetuning", "DescribeFineTuningTask", { taskId });
      return ["Waiting", "Running"].includes(task.runStatus) ? null : task;
    });
    if (done.runStatus !== "Done") throw new Error(`task ended ${done.runStatus}: ${JSON.stringify(done)}`);
    rows.push({ label, created, running, firstStep, finished: performance.now() - t0 });
  }
  const ms = (x) => `${x.toFixed(0)} ms`;
  const table = [
    "| task | CreateFineTuningTask answered | claimed (Running) | first training step | Done |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.label} | ${ms(r.created)} | ${ms(r.running)} | ${ms(r.firstStep)} | ${ms(r.finished)} |`),
  ].join("\n");
  const note = `Tiny Llama (hidden 32, 2 layers), 2,000 PromptResponse samples, LoRA, maxSeqLen 128, batch 8, 1 epoch; ` +
    `SQLite; embedded worker polling every ${process.env.SAILFIN_POLL_MS} ms; ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}); ` +
    `times from sending CreateFineTuningTask, observed by polling the API every 5 ms. The worker writes metric rows in batches ` +
    `every 0.5 s, so the first-step column is late by up to 0.5 s; the rest of it is the runtime's start (Python, torch import, model load).`;
  const text = `# Time from CreateFineTuningTask to the first training step\n\n${note}\n\n${table}\n`;
  console.log(text);
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(RESULTS, text);
} finally {
  await server.close();
  await rm(home, { recursive: true, force: true });
}
