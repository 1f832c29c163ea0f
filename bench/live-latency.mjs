#!/usr/bin/env node
// Live-delivery latency: how long after a row is written a client sees it — a metric point
// through the SSE stream (GET /sailfin/v1/events/<taskId>), a state change through a signed
// webhook — at the server's default poll intervals (SAILFIN_EVENTS_POLL_MS 500,
// SAILFIN_WEBHOOK_POLL_MS 1000), and how long the `sailfin` CLI takes to answer. Runs the BUILT
// code (`npm run build` first): `node bench/live-latency.mjs`. Writes bench/results/live-latency.md.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { bceTimestamp, nowIso, signRequest } from "@sailfin/contract";
import { loadServerConfig, startServer } from "@sailfin/server";
import { appendEvent } from "@sailfin/store";
import { SailfinClient } from "@sailfin/sdk";
import { pct, summary } from "./stats.mjs";

const ADMIN = { accessKey: "benchadminkey001", secretKey: "bench-admin-secret-0001" };
const POINTS = Number(process.env.BENCH_POINTS ?? 100);
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 37); // not a divisor of the poll interval: arrivals spread over it
const RESULTS = new URL("./results/live-latency.md", import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const home = await mkdtemp(join(tmpdir(), "sailfin-bench-live-"));
const config = loadServerConfig({
  flags: { port: "0", host: "127.0.0.1", home },
  env: { SAILFIN_ACCESS_KEY: ADMIN.accessKey, SAILFIN_SECRET_KEY: ADMIN.secretKey, SAILFIN_LOG_LEVEL: "silent" },
});
const server = await startServer(config, () => {});
const db = server.res.db;
const lines = [];
try {
  // A fine-tuning run row to stream (no runtime needed: the rows are what the stream reads).
  const taskId = "task-benchlive0001";
  const now = nowIso();
  const { num } = await db.insertInto("runs").values({
    id: taskId, kind: "finetune", job_num: 0, name: "", description: "", status: "Running", train_mode: "SFT", parameter_scale: "LoRA",
    base_model_version_num: 0, spec: "{}", dataset_hashes: "{}", increment_run_num: null, increment_step: null, progress: 0,
    cancel_requested: 0, priority: 0, attempt: 1, max_attempts: 3, available_at: now, lease_owner: null, lease_token: null,
    lease_expires_at: null, failure_kind: null, failure_reason: null, created_at: now, started_at: now, finished_at: null, result: null,
  }).returning("num").executeTakeFirstOrThrow();

  // SSE: one signed GET, then POINTS metric rows written GAP_MS apart; latency = seen - written.
  const url = new URL(`${server.url}/sailfin/v1/events/${taskId}`);
  const timestamp = bceTimestamp();
  const headers = { host: url.host, "x-bce-date": timestamp };
  const authorization = signRequest({ ...ADMIN, method: "GET", path: url.pathname, query: {}, headers, timestamp });
  const response = await fetch(url, { headers: { ...headers, authorization, accept: "text/event-stream" } });
  const written = new Map();
  const sseLatency = [];
  const reader = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!/^event: metric$/m.test(frame)) continue;
        const data = JSON.parse(/^data: (.*)$/m.exec(frame)[1]);
        sseLatency.push(performance.now() - written.get(data.step));
        if (sseLatency.length === POINTS) return;
      }
    }
  })();
  for (let step = 1; step <= POINTS; step++) {
    await db.insertInto("run_metrics").values({
      run_num: Number(num), step, epoch: step / POINTS, loss: 2 - step / POINTS, lr: 1e-4, grad_norm: 1, tokens_per_s: 1000, eval_loss: null, at: nowIso(),
    }).execute();
    written.set(step, performance.now());
    await sleep(GAP_MS);
  }
  await reader;
  await response.body.cancel().catch(() => undefined);
  lines.push(`| SSE metric point (poll ${config.eventsPollMs} ms) | ${POINTS} | ${summary(sseLatency)} |`);

  // Webhook: a receiver on this machine; state events appended GAP_MS × 3 apart.
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => { received.push({ at: performance.now(), body: JSON.parse(body) }); res.writeHead(200).end(); });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const client = new SailfinClient({ baseUrl: server.url, ...ADMIN, retries: 0 });
  await client.call("webhook", "CreateWebhook", { url: `http://127.0.0.1:${receiver.address().port}/hook` });
  const sent = new Map();
  const EVENTS = 30;
  for (let i = 0; i < EVENTS; i++) {
    const reason = `bench ${i}`;
    await db.transaction().execute((trx) => appendEvent(trx, { objectKind: "run", objectId: taskId, actor: "bench", from: "Running", to: "Running", reason }));
    sent.set(reason, performance.now());
    await sleep(GAP_MS * 3);
  }
  const deadline = Date.now() + 15_000;
  while (received.length < EVENTS && Date.now() < deadline) await sleep(50);
  const hookLatency = received.filter((r) => sent.has(r.body.event.reason)).map((r) => r.at - sent.get(r.body.event.reason));
  lines.push(`| Webhook delivery (poll ${config.webhooks.pollMs} ms) | ${hookLatency.length} of ${EVENTS} | ${summary(hookLatency)} |`);
  receiver.close();

  // The CLI as people run it: a cold `node` process each time.
  const bin = new URL("../packages/cli/bin/sailfin.js", import.meta.url).pathname;
  const env = { ...process.env, QIANFAN_CONSOLE_API_BASE_URL: server.url, QIANFAN_ACCESS_KEY: ADMIN.accessKey, QIANFAN_SECRET_KEY: ADMIN.secretKey };
  for (const [label, args] of [["`sailfin --help`", ["--help"]], ["`sailfin jobs list --json`", ["jobs", "list", "--json"]]]) {
    const times = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      // Asynchronous: the server answering the CLI runs in this process.
      await promisify(execFile)(process.execPath, [bin, ...args], { env, encoding: "utf8" });
      times.push(performance.now() - started);
    }
    lines.push(`| CLI ${label}, cold process | 7 | ${summary(times)} |`);
  }
} finally {
  await server.close();
  await rm(home, { recursive: true, force: true });
}

const report = [
  "# Live delivery latency and CLI response time",
  "",
  `\`node bench/live-latency.mjs\` — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; ${cpus().length} CPU(s) (${cpus()[0]?.model ?? "?"}); Node ${process.version}; SQLite; server in the same process.`,
  "",
  "Latency is from the row's commit to the client reading it. Both paths poll the database (rows are the truth, any replica can serve), so the expected latency is about half the poll interval plus the round trip.",
  "",
  "| what | samples | latency |",
  "|---|---|---|",
  ...lines,
  "",
].join("\n");
await writeFile(RESULTS, report);
process.stdout.write(`${report}\n`);
