#!/usr/bin/env node
// The web console's task page, in Debian's chromium against a real server and a real training
// run: (1) live: how long after the worker records a metric row its point is on the chart
// (runtime → database → SSE poll → EventSource → uPlot), at the default SAILFIN_EVENTS_POLL_MS
// of 500, and the main-thread long tasks while points stream in; (2) cold: opening the finished
// task's page until every point is drawn, history of BENCH_STEPS steps. Runs the BUILT code and
// console (`npm run build` first): `node bench/console.mjs` (~1 min). Writes bench/results/console.md.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { loadServerConfig, startServer } from "@sailfin/server";
import { writeTinyModel } from "@sailfin/engine";
import { SailfinClient } from "@sailfin/sdk";
import { pct, summary } from "./stats.mjs";

const ADMIN = { accessKey: "benchadminkey001", secretKey: "bench-admin-secret-0001" };
const STEPS = Number(process.env.BENCH_STEPS ?? 1500);
const COLD_RUNS = 5;
const root = new URL("..", import.meta.url).pathname;
const DIST = join(root, "apps/console/dist");
const RESULTS = new URL("./results/console.md", import.meta.url);
if (!existsSync(join(DIST, "index.html"))) throw new Error("apps/console/dist is missing: run `npm run build` first");

const home = await mkdtemp(join(tmpdir(), "sailfin-bench-console-"));
const config = loadServerConfig({
  flags: { port: "0", host: "127.0.0.1", home },
  env: { SAILFIN_ACCESS_KEY: ADMIN.accessKey, SAILFIN_SECRET_KEY: ADMIN.secretKey, SAILFIN_LOG_LEVEL: "silent", SAILFIN_CONSOLE_DIR: DIST },
});
const server = await startServer(config, () => {}, { worker: true });
const browser = await chromium.launch({ executablePath: process.env.SAILFIN_CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
const lines = [];
try {
  // A tiny model and the demo data, through the real CLI, as a user would.
  const env = { ...process.env, QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey };
  // Asynchronous: the server answering it runs in this very process.
  const cli = async (...args) => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, "packages/cli/bin/sailfin.js"), ...args, "--json"], { env, encoding: "utf8" });
    return JSON.parse(stdout);
  };
  const modelDir = join(home, "tiny");
  await writeTinyModel(modelDir, { architecture: "llama", hiddenSize: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64 });
  await cli("models", "import", modelDir, "--name", "tiny");
  const dataset = await cli("datasets", "upload", join(root, "examples/demo-sft.jsonl"), "--name", "demo", "--format", "PromptResponse");
  const api = new SailfinClient({ baseUrl: server.url, ...ADMIN, retries: 0 });
  const { jobId } = await api.call("finetuning", "CreateFineTuningJob", { name: "bench", model: "tiny", trainMode: "SFT" });

  // Signed in once; every page of the context shares the session cookie.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const signIn = await context.newPage();
  await signIn.goto(`${server.url}/console/`);
  await signIn.getByLabel("Access key").fill(ADMIN.accessKey);
  await signIn.getByLabel("Secret key").fill(ADMIN.secretKey);
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await signIn.getByRole("heading", { name: "Overview" }).waitFor();
  await signIn.close();
  // In every page: the wall-clock time each chart size was first seen, and the long tasks.
  await context.addInitScript(() => {
    window.__seen = [];
    window.__long = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ type: "longtask", buffered: true });
    new MutationObserver(() => {
      const chart = document.querySelector("[data-testid=loss-chart]");
      const points = chart === null ? 0 : Number(chart.getAttribute("data-points"));
      const last = window.__seen.at(-1);
      if (points > 0 && (last === undefined || points > last.points)) window.__seen.push({ points, wall: Date.now(), sinceNav: performance.now() });
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-points"] });
  });

  // (1) Live: the page open from the start while the task trains, one logged step per point.
  // Epochs for about BENCH_STEPS steps, from the quote's steps per epoch (rows are packed).
  const body = (epoch) => ({
    jobId, parameterScale: "FullFineTuning",
    hyperParameterConfig: { epoch, learningRate: 0.003, batchSize: 1, maxSeqLen: 128, loggingSteps: 1, saveStep: 100000, warmupRatio: 0 },
    datasetConfig: { sourceType: "Platform", versions: [{ versionId: dataset.versionId }], splitRatio: 10 },
  });
  const { stepsPerEpoch } = await api.call("finetuning", "DescribeFineTuningTaskQuote", body(1));
  const { taskId } = await api.call("finetuning", "CreateFineTuningTask", body(Math.min(50, Math.max(1, Math.round(STEPS / stepsPerEpoch)))));
  const live = await context.newPage();
  await live.goto(`${server.url}/console/tasks/${taskId}`);
  const started = Date.now();
  for (;;) {
    const task = await api.call("finetuning", "DescribeFineTuningTask", { taskId });
    if (["Done", "Failed", "Stopped"].includes(task.runStatus)) {
      if (task.runStatus !== "Done") throw new Error(`task ${task.runStatus}: ${task.failureReason ?? ""}`);
      break;
    }
    if (Date.now() - started > 10 * 60_000) throw new Error("training took over 10 minutes");
    await new Promise((r) => setTimeout(r, 500));
  }
  const trainSeconds = (Date.now() - started) / 1000;
  const run = await server.res.db.selectFrom("runs").select("num").where("id", "=", taskId).executeTakeFirstOrThrow();
  const rows = await server.res.db.selectFrom("run_metrics").select(["step", "at"]).where("run_num", "=", run.num).orderBy("step").execute();
  const steps = [...new Set(rows.map((r) => r.step))].length;
  await live.waitForFunction((n) => window.__seen.at(-1)?.points >= n, steps, { timeout: 30_000 });
  const seen = await live.evaluate(() => window.__seen);
  const liveLong = await live.evaluate(() => window.__long);
  // Point i is drawn when the chart first holds i points; rows first seen at page load are history, not live.
  const firstSeen = seen[0].points;
  const latency = [];
  let cursor = 0;
  rows.forEach((row, i) => {
    const n = i + 1;
    if (n <= firstSeen) return;
    while (seen[cursor].points < n) cursor++;
    latency.push(seen[cursor].wall - Date.parse(row.at));
  });
  await live.close();

  // (2) Cold: a fresh page of the finished task until every point is drawn.
  const cold = [];
  const coldLong = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const page = await context.newPage();
    await page.goto(`${server.url}/console/tasks/${taskId}`);
    await page.waitForFunction((n) => window.__seen.at(-1)?.points >= n, steps, { timeout: 30_000 });
    cold.push(await page.evaluate((n) => window.__seen.find((s) => s.points >= n).sinceNav, steps));
    coldLong.push((await page.evaluate(() => window.__long)).reduce((a, b) => a + b, 0));
    await page.close();
  }

  const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length / 1024;
  const assets = readFileSync(join(DIST, "index.html"), "utf8").match(/assets\/[^"]+\.js/g) ?? [];
  const entryKiB = assets.reduce((sum, a) => sum + gz(join(DIST, a)), 0);

  lines.push(`# Web console task page (${new Date().toISOString().slice(0, 10)})`, "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}; chromium headless; SQLite; SAILFIN_EVENTS_POLL_MS 500 (default).`,
    `Run: tiny Llama (hidden 32, 2 layers), ${steps} logged steps in ${trainSeconds.toFixed(1)} s (${(steps / trainSeconds).toFixed(0)} points/s).`, "",
    "| what | figure |", "|---|---|",
    `| metric row recorded → point on the chart (${latency.length} points) | ${summary(latency)} |`,
    `| long tasks (> 50 ms) on the page's main thread while streaming | ${liveLong.length}, ${liveLong.reduce((a, b) => a + b, 0).toFixed(0)} ms in all |`,
    `| cold open of the finished task, navigation → all ${steps} points drawn (${COLD_RUNS} runs) | ${summary(cold)} |`,
    `| long tasks per cold open | median ${pct(coldLong, 50).toFixed(0)} ms in all |`,
    `| script loaded by index.html (gzip -9) | ${entryKiB.toFixed(1)} KiB |`, "");
  console.log(lines.join("\n"));
  await writeFile(RESULTS, `${lines.join("\n")}\n`);
} finally {
  await browser.close();
  await server.close();
  await rm(home, { recursive: true, force: true });
}
