#!/usr/bin/env node
// Listing benchmark: signed `POST /v2/finetuning?Action=DescribeFineTuningJobs` over 1,000,000
// jobs (SQLite), first page and a page 500,000 rows deep, against a bare Fastify route returning
// a body of the same size. Runs the BUILT code (`npm run bench` builds first). See bench/README.md.
//
// Each server runs in its own child process and the load generator in this one, so the client
// never queues behind the server's event loop, and the server's CPU time per request
// (`process.cpuUsage()` of its process over the measured window, divided by the requests
// answered) is measured apart from the client's: on a shared machine the throughput ratio also
// measures how fast the client can ask, the CPU ratio only what each server spends. The client is
// closed-loop: WORKERS concurrent callers, each sending its next request when the previous answer
// has been read.

import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PAGE_SIZE = 10;
const DEEP_PAGE = Number(process.env.BENCH_DEEP_PAGE ?? 50_000);
// 50 callers: issue 11 sets its goal (>= 0.5x bare Fastify, p99 <= 10 ms) at 50 connections.
const WORKERS = Number(process.env.BENCH_WORKERS ?? 50);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
// The measured seconds of each scenario are cut into this many slices, taken in turn.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2) * 1000;
// Warm-up also lasts until this many answers: on a loaded machine 2 s can end before V8 has
// optimised the server's hot code, and the first scenario measured would pay for it.
const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP_REQUESTS ?? 5000);
const ADMIN = { accessKey: "benchadminkey001", secretKey: "bench-admin-secret-0001" };
const RESULTS = new URL("./results/describe-jobs.md", import.meta.url);

if (process.env.BENCH_SERVER !== undefined) {
  await serve(JSON.parse(process.env.BENCH_SERVER));
} else {
  await main();
}

/** Child side: start one server, report its URL, answer CPU readings, stop when told. */
async function serve({ kind, home, body }) {
  let close;
  let url;
  if (kind === "sailfin") {
    const { loadServerConfig, startServer } = await import("@sailfin/server");
    const config = loadServerConfig({
      flags: { port: "0", host: "127.0.0.1", home },
      env: { SAILFIN_ACCESS_KEY: ADMIN.accessKey, SAILFIN_SECRET_KEY: ADMIN.secretKey, SAILFIN_LOG_LEVEL: "silent" },
    });
    const server = await startServer(config, () => {});
    url = server.url;
    close = () => server.close();
  } else {
    // The floor: Fastify answering the same route with a same-size body, no auth, no database.
    const { default: fastify } = await import("fastify");
    const app = fastify({ logger: false });
    const payload = JSON.parse(body);
    app.post("/v2/finetuning", async () => payload);
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${app.server.address().port}`;
    close = () => app.close();
  }
  process.send({ url });
  process.on("message", async (message) => {
    if (message === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send({ cpuMicros: user + system });
    } else {
      await close();
      process.disconnect();
    }
  });
}

/** Starts a server in a child process; `cpu()` reads the child's CPU time (µs, user + system). */
function startServerProcess(data) {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_SERVER: JSON.stringify(data) } });
  // One reply: whichever of message and exit comes first removes the other's listener.
  const next = () => new Promise((resolve, reject) => {
    const onExit = (code) => { child.off("message", onMessage); reject(new Error(`bench server exited with ${code}`)); };
    const onMessage = (message) => { child.off("exit", onExit); resolve(message); };
    child.once("message", onMessage);
    child.once("exit", onExit);
  });
  return next().then(({ url }) => ({
    url,
    cpu: () => { const reply = next(); child.send("cpu"); return reply.then((m) => m.cpuMicros); },
    stop: () => new Promise((done) => { child.once("exit", done); child.send("stop"); }),
  }));
}

/** Fills finetune_jobs with ROWS rows in one transaction (columns per packages/store/src/schema.ts). */
async function seed(home) {
  const { openStore } = await import("@sailfin/store");
  const path = join(home, "sailfin.db");
  const store = await openStore({ dialect: "sqlite", path }); // creates the schema
  await store.close();
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  const insert = db.prepare(
    "INSERT INTO finetune_jobs (id, name, description, model, train_mode, parameter_scale, base_train_type, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const models = ["Qwen2.5-0.5B", "Llama-3.2-1B", "tiny-llama"];
  const modes = ["SFT", "SFT", "SFT", "DPO", "PostPretrain"];
  const start = Date.parse("2024-01-01T00:00:00Z");
  const fill = db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const at = new Date(start + i * 1000).toISOString();
      // 12 lowercase base-36 characters, unique by construction.
      const id = `job-${i.toString(36).padStart(12, "0")}`;
      insert.run(id, `job_${i}`, "benchmark row", models[i % 3], modes[i % 5], null, models[i % 3], at, at);
    }
  });
  const t0 = performance.now();
  fill();
  const seconds = (performance.now() - t0) / 1000;
  // The marker of page DEEP_PAGE (1-based, newest first): the row DEEP_PAGE-1 pages below the newest.
  const { maxNum } = db.prepare("SELECT max(num) AS maxNum FROM finetune_jobs").get();
  const deepRow = db.prepare("SELECT id FROM finetune_jobs WHERE num = ?").get(maxNum - (DEEP_PAGE - 1) * PAGE_SIZE);
  db.close();
  return { seconds, deepMarker: deepRow.id };
}

/** Signs like the official SDKs do (bce-auth-v1); one signature per body and second, as a client would reuse. */
async function makeSigner(baseUrl) {
  const { bceTimestamp, signRequest } = await import("@sailfin/contract");
  const host = new URL(baseUrl).host;
  const cache = new Map();
  return (body) => {
    const timestamp = bceTimestamp();
    const key = `${timestamp} ${body}`;
    let headers = cache.get(key);
    if (headers === undefined) {
      if (cache.size > 64) cache.clear();
      const base = { host, "content-type": "application/json", "x-bce-date": timestamp };
      const authorization = signRequest({
        ...ADMIN, method: "POST", path: "/v2/finetuning", query: { Action: "DescribeFineTuningJobs" },
        headers: base, timestamp, expirationSeconds: 1800,
      });
      headers = { ...base, authorization, "content-length": String(Buffer.byteLength(body)) };
      cache.set(key, headers);
    }
    return headers;
  };
}

function request(agent, baseUrl, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/v2/finetuning?Action=DescribeFineTuningJobs`, { method: "POST", agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Closed loop: WORKERS callers for `ms` (and `minRequests`); returns latencies (ms) of the answered
 * requests. A shared agent keeps its keep-alive connections for the next call.
 */
async function load(baseUrl, headersFor, body, ms, check, minRequests = 0, sharedAgent = undefined) {
  const agent = sharedAgent ?? new http.Agent({ keepAlive: true, maxSockets: WORKERS });
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + ms;
  const caller = async () => {
    while (performance.now() < deadline || latencies.length + errors < minRequests) {
      const t0 = performance.now();
      try {
        const r = await request(agent, baseUrl, headersFor(body), body);
        const t1 = performance.now();
        if (r.status === 200 && check(r.text)) latencies.push(t1 - t0);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, caller));
  const elapsed = (performance.now() - t0) / 1000;
  if (sharedAgent === undefined) agent.destroy();
  return { latencies, errors, elapsed };
}

function summarize(name, { latencies, errors, elapsed }) {
  const sorted = Float64Array.from(latencies).sort();
  const q = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
  return { name, requests: sorted.length, errors, rps: sorted.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

/**
 * Warms each scenario up, then measures them in ROUNDS interleaved slices (a, b, c, a, b, c, ...)
 * so that other work on the machine weighs on every scenario alike; per scenario the slices'
 * requests, latencies and the server's CPU time (per request answered, errors included) add up.
 */
async function measureInterleaved(scenarios) {
  // One agent per scenario: its connections stay open from the warm-up to the last slice.
  const agents = scenarios.map(() => new http.Agent({ keepAlive: true, maxSockets: WORKERS }));
  for (const [i, s] of scenarios.entries()) await load(s.server.url, s.headersFor, s.body, WARMUP_MS, s.check, WARMUP_REQUESTS, agents[i]);
  const totals = scenarios.map(() => ({ latencies: [], errors: 0, elapsed: 0, cpuMicros: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, s] of scenarios.entries()) {
      const cpu0 = await s.server.cpu();
      const run = await load(s.server.url, s.headersFor, s.body, DURATION_MS / ROUNDS, s.check, 0, agents[i]);
      totals[i].cpuMicros += (await s.server.cpu()) - cpu0;
      for (const latency of run.latencies) totals[i].latencies.push(latency);
      totals[i].errors += run.errors;
      totals[i].elapsed += run.elapsed;
    }
  }
  for (const agent of agents) agent.destroy();
  return scenarios.map((s, i) => {
    const t = totals[i];
    const result = { ...summarize(s.name, t), cpuPerRequest: t.cpuMicros / (t.latencies.length + t.errors), cpuShare: t.cpuMicros / 1e6 / t.elapsed };
    console.log(`  ${s.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors; `
      + `server ${result.cpuPerRequest.toFixed(0)} µs CPU/request (${(result.cpuShare * 100).toFixed(0)}% of a core)`);
    return result;
  });
}

async function main() {
  const home = await mkdtemp(join(tmpdir(), "sailfin-bench-"));
  const loadBefore = loadavg()[0];
  try {
    console.log(`seeding ${ROWS.toLocaleString("en-US")} finetune_jobs rows in ${home} ...`);
    const { seconds, deepMarker } = await seed(home);
    console.log(`  seeded in ${seconds.toFixed(1)} s; page ${DEEP_PAGE} marker ${deepMarker}`);

    const sailfin = await startServerProcess({ kind: "sailfin", home });
    const sign = await makeSigner(sailfin.url);
    const firstBody = JSON.stringify({ maxKeys: PAGE_SIZE });
    const deepBody = JSON.stringify({ maxKeys: PAGE_SIZE, marker: deepMarker });

    // Correctness first: a benchmark of wrong answers measures nothing.
    const agent = new http.Agent({ keepAlive: false });
    const first = await request(agent, sailfin.url, sign(firstBody), firstBody);
    if (first.status !== 200) throw new Error(`DescribeFineTuningJobs answered ${first.status}: ${first.text}`);
    const firstPage = JSON.parse(first.text).result;
    if (firstPage.jobList.length !== PAGE_SIZE || !firstPage.pageInfo.isTruncated) throw new Error(`unexpected first page: ${first.text}`);
    const deep = JSON.parse((await request(agent, sailfin.url, sign(deepBody), deepBody)).text).result;
    if (deep.jobList[0]?.jobId !== deepMarker || deep.jobList.length !== PAGE_SIZE) throw new Error(`page ${DEEP_PAGE} does not start at its marker`);
    const newestNum = ROWS - 1;
    if (firstPage.jobList[0].jobId !== `job-${newestNum.toString(36).padStart(12, "0")}`) throw new Error("first page is not newest first");

    const isPage = (text) => text.includes('"jobList"');
    console.log(`measuring: ${WORKERS} concurrent callers, ${WARMUP_MS / 1000} s (and ${WARMUP_REQUESTS} requests) warm-up + ${DURATION_MS / 1000} s each in ${ROUNDS} interleaved slices`);
    const bare = await startServerProcess({ kind: "bare", body: first.text });
    const bareHeaders = () => ({ "content-type": "application/json", "content-length": String(Buffer.byteLength(firstBody)) });
    const [page1, pageDeep, bareResult] = await measureInterleaved([
      { name: "signed DescribeFineTuningJobs, page 1", server: sailfin, headersFor: sign, body: firstBody, check: isPage },
      { name: `signed DescribeFineTuningJobs, page ${DEEP_PAGE.toLocaleString("en-US")}`, server: sailfin, headersFor: sign, body: deepBody, check: isPage },
      { name: "bare Fastify route, same-size body", server: bare, headersFor: bareHeaders, body: firstBody, check: isPage },
    ]);
    await sailfin.stop();
    await bare.stop();

    const load = { before: loadBefore, after: loadavg()[0] };
    const report = renderReport({ page1, pageDeep, bare: bareResult, seconds, bodyBytes: Buffer.byteLength(first.text), load });
    await mkdir(new URL("./results/", import.meta.url), { recursive: true });
    await writeFile(RESULTS, report);
    console.log(`\n${report}`);
    console.log(`written to ${RESULTS.pathname}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function renderReport({ page1, pageDeep, bare, seconds, bodyBytes, load }) {
  const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
  const row = (r) => `| ${r.name} | ${f(r.rps, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.cpuPerRequest, 0)} | ${f(r.cpuShare * 100, 0)}% | ${r.requests} | ${r.errors} |`;
  const cpu = cpus();
  return [
    "# DescribeFineTuningJobs listing benchmark",
    "",
    `Run ${new Date().toISOString()} on ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, Node ${process.version}.`,
    `${ROWS.toLocaleString("en-US")} rows in \`finetune_jobs\` (SQLite, WAL), seeded in ${f(seconds, 1)} s. Page size ${PAGE_SIZE};`,
    `response body ${bodyBytes} bytes. Closed loop with ${WORKERS} concurrent keep-alive callers, ${WARMUP_MS / 1000} s (at least ${WARMUP_REQUESTS} requests) warm-up,`,
    `then ${DURATION_MS / 1000} s measured per row in ${ROUNDS} slices taken in turn with the other rows. Each server in its own process, the client in another, same machine;`,
    "server CPU is the server process's user + system time over the measured slices per request answered.",
    `1-minute load average ${f(load.before)} before, ${f(load.after)} after (other work on the machine skews absolute numbers).`,
    "",
    "| scenario | requests/s | p50 ms | p99 ms | server µs CPU/request | server CPU | requests | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    row(page1),
    row(pageDeep),
    row(bare),
    "",
    `- signed page 1 / bare Fastify, server CPU per request (bare µs / signed µs): **${f(bare.cpuPerRequest / page1.cpuPerRequest)}** (the server's own cost, steady on a shared machine)`,
    `- signed page 1 / bare Fastify throughput: **${f(page1.rps / bare.rps)}** (p50 latency ${f(page1.p50 / bare.p50)}×; the client shares the machine's cores)`,
    `- page ${DEEP_PAGE.toLocaleString("en-US")} / page 1 latency: **p50 ${f(pageDeep.p50 / page1.p50)}×, p99 ${f(pageDeep.p99 / page1.p99)}×** (keyset pagination: no OFFSET)`,
    "",
    "Reproduce with `npm run bench` (see bench/README.md). Absolute numbers depend on the machine; compare the ratios.",
    "",
  ].join("\n");
}
