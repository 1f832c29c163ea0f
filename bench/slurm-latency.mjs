#!/usr/bin/env node
// Slurm submit → first training step, against the local executor: a real server (SQLite, no
// embedded worker), a tiny Llama (hidden 32, 2 layers), a small SFT set; then the same
// fine-tuning task run by a Worker whose executor is the LocalExecutor or the SlurmExecutor (on
// the one-node cluster scripts/setup-slurm.sh starts), taken in turn. Times are measured inside
// the worker, from the executor's `run` call (spec.json written, tokens cached) to the runtime's
// `started` event and its first `metrics` line as delivered to `onLine`, and to the job's end:
// what Slurm adds is sbatch, scheduling, slurmd's launch of the batch script and srun's step;
// for Slurm also when squeue first shows the job RUNNING.
// Runs the BUILT code (`npx tsc -b` first); needs the cluster (as root: bash scripts/setup-slurm.sh).
//   node bench/slurm-latency.mjs      → prints a table and writes bench/results/slurm-latency.md

import { execFile, execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { importSftDataset, importTinyModel, startBench, until } from "./common.mjs";

const setupOutput = execFileSync("bash", [new URL("../scripts/setup-slurm.sh", import.meta.url).pathname], { encoding: "utf8" });
process.env.SLURM_CONF = setupOutput.trim().split("\n").at(-1).replace(/^SLURM_CONF=/, "");
const { LocalExecutor, SlurmExecutor, Worker, findPython, slurmJobName } = await import("@sailfin/worker");

const ADMIN = { accessKey: "benchadminkey003", secretKey: "bench-admin-secret-0003" };
const RESULTS = new URL("./results/slurm-latency.md", import.meta.url);
const ROUNDS = 5;

/** Wraps an executor: the times from `run` to the first `started` and `metrics` lines, and to its end. */
function timed(inner, times) {
  return {
    async run(request) {
      const t0 = performance.now();
      const mark = { running: null, started: null, firstStep: null, ended: null };
      // Slurm's side alone: when squeue first shows the job RUNNING (polled every 20 ms).
      const watch = inner instanceof SlurmExecutor ? (async () => {
        const name = slurmJobName(request.jobKey);
        while (mark.running === null && mark.ended === null) {
          const state = await new Promise((resolve) => execFile("squeue", ["-h", `--name=${name}`, "-o", "%T"], (e, out) => resolve(e ? "" : out.trim())));
          if (state === "RUNNING") mark.running = performance.now() - t0;
          else await sleep(20);
        }
      })() : null;
      const result = await inner.run({
        ...request,
        onLine: (line) => {
          const at = performance.now() - t0;
          let event = null;
          try { event = JSON.parse(line).event; } catch { /* a stray line */ }
          if (event === "started") mark.started ??= at;
          if (event === "metrics") mark.firstStep ??= at;
          request.onLine(line);
        },
      });
      mark.ended = performance.now() - t0;
      await watch;
      times.push(mark);
      return result;
    },
  };
}

const bench = await startBench({ name: "slurm", admin: ADMIN, worker: false });
const { v2 } = bench;

try {
  const python = await findPython();
  await importTinyModel(bench);
  const versionId = await importSftDataset(bench, 200);

  const executors = {
    local: new LocalExecutor({ python }),
    slurm: new SlurmExecutor({ python, partition: undefined, nodes: 1, tasksPerNode: 1, timeLimit: "00:10:00", pollMs: 100 }),
  };
  const times = { local: [], slurm: [] };
  // One task per executor per round, in turn, so other load on the machine weighs on both alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ["local", "slurm"]) {
      const worker = new Worker({ res: bench.server.res, executor: timed(executors[name], times[name]), id: `bench-${name}`, pollMs: 20, kinds: ["finetune"] });
      await worker.start();
      try {
        const { jobId } = await v2("finetuning", "CreateFineTuningJob", { name: "bench", model: "bench-tiny", trainMode: "SFT" });
        const { taskId } = await v2("finetuning", "CreateFineTuningTask", {
          jobId, parameterScale: "LoRA", hyperParameterConfig: { maxSeqLen: 128, batchSize: 8, epoch: 1, loggingSteps: 1 },
          datasetConfig: { sourceType: "Platform", versions: [{ versionId }], splitRatio: 10 },
        });
        const done = await until("Done", async () => {
          const task = await v2("finetuning", "DescribeFineTuningTask", { taskId });
          return ["Waiting", "Running"].includes(task.runStatus) ? null : task;
        });
        if (done.runStatus !== "Done") throw new Error(`${name}: task ended ${done.runStatus}: ${JSON.stringify(done)}`);
      } finally {
        await worker.stop();
      }
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const cell = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  const row = (name) => {
    const t = times[name];
    return `| ${name} | ${name === "slurm" ? cell(t.map((m) => m.running)) : "–"} | ${cell(t.map((m) => m.started))} | ${cell(t.map((m) => m.firstStep))} | ${cell(t.map((m) => m.ended))} |`;
  };
  const slurmExtra = median(times.slurm.map((m) => m.firstStep)) - median(times.local.map((m) => m.firstStep));
  const table = [
    "| executor | run (sbatch) → job RUNNING in squeue | run → `started` event | run → first step (`metrics` line) | run → job ended |",
    "|---|---|---|---|---|",
    row("local"), row("slurm"),
  ].join("\n");
  const note = `Tiny Llama (hidden 32, 2 layers), 200 PromptResponse samples, LoRA, maxSeqLen 128, batch 8, 1 epoch (23 steps); ` +
    `${ROUNDS} tasks per executor, taken in turn; median (min–max). Slurm: one node \`localhost\` from scripts/setup-slurm.sh ` +
    `(batch_sched_delay=0), 1 task, the executor polling squeue/scontrol and the event file every 100 ms. ` +
    `${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}). Slurm adds **${slurmExtra.toFixed(0)} ms** (median) before the first step.`;
  const text = `# Slurm submit → first training step, against the local executor\n\n${note}\n\n${table}\n`;
  console.log(text);
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(RESULTS, text);
} finally {
  await bench.close();
}
