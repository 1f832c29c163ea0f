#!/usr/bin/env node
// Time from `CreateFineTuningTask` to the first training step, end to end: a real server with
// its embedded worker (SQLite), a tiny Llama (hidden 32, 2 layers) and a small SFT dataset
// imported through the API. Measures, per task: the answer of CreateFineTuningTask, the claim
// (Running), the first metric row (first optimizer step done), and Done. The first task also
// tokenizes; the second reuses the token cache. Runs the BUILT code (`npx tsc -b` first).
//   node bench/first-step.mjs            → prints a table and writes bench/results/first-step.md

import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { importSftDataset, importTinyModel, startBench, until as untilEvery } from "./common.mjs";

process.env.SAILFIN_POLL_MS ??= "50";
const ADMIN = { accessKey: "benchadminkey002", secretKey: "bench-admin-secret-0002" };
const RESULTS = new URL("./results/first-step.md", import.meta.url);

const bench = await startBench({ name: "first-step", admin: ADMIN, worker: true });
const { v2 } = bench;
/** Polls the API every 5 ms: the times below are observed this way. */
const until = (what, fn) => untilEvery(what, fn, { everyMs: 5 });

try {
  if (bench.server.worker === null) throw new Error("no embedded worker (no Python with torch?)");
  await importTinyModel(bench);
  const versionId = await importSftDataset(bench, 2_000);

  const rows = [];
  for (const label of ["first task (tokenizes)", "second task (token cache)"]) {
    const { jobId } = await v2("finetuning", "CreateFineTuningJob", { name: "bench", model: "bench-tiny", trainMode: "SFT" });
    const t0 = performance.now();
    const { taskId } = await v2("finetuning", "CreateFineTuningTask", {
      jobId, parameterScale: "LoRA", hyperParameterConfig: { maxSeqLen: 128, batchSize: 8, epoch: 1, loggingSteps: 1 },
      datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 10 },
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
  await bench.close();
}
