#!/usr/bin/env node
// Serving under concurrent streams: time to first token (p50/p95) and aggregate generated tokens/s
// at 1, 8 and 32 concurrent streams, by two paths, against the runtime's offline `generate` recipe
// on the same prompt token ids (batches of the same size) as the ceiling:
//   engine  the engine process alone: `python -m sailfin_runtime serve`, `/v1/completions` on token ids;
//   api     the path a user calls: a real `sailfin serve` (own home, embedded worker), the model
//           imported and deployed as a service, `POST /v2/chat/completions` with a bearer API key.
// Runs the BUILT code (`npx tsc -b` first). See bench/README.md.
//
//   node bench/serve.mjs                                  # both paths on a tiny qwen2 (create-tiny)
//   node bench/serve.mjs --through engine                 # one path only (engine | api | both)
//   node bench/serve.mjs --model-dir DIR                  # another model folder (with its tokenizer)
//   node bench/serve.mjs --url http://H:P --model NAME    # an engine already running (ours, vLLM…), engine path
//                                                           only; no ceiling unless --model-dir is given too
//
// Knobs (environment): BENCH_PYTHON (/usr/bin/python3), BENCH_DEVICE (auto), BENCH_PROMPTS (32),
// BENCH_NEW_TOKENS (64), BENCH_CONCURRENCY (1,8,32), BENCH_ROUNDS (3: the paths and offline take turns,
// medians shown, so that other work on the machine weighs on all alike), BENCH_API_KEY (bearer for --url),
// BENCH_SERVER_NODE_ARGS (node flags for the API path's server, e.g. `--cpu-prof --cpu-prof-dir=DIR`).
// Prompts are one-message chats, rendered here with the model's own chat template and tokenizer (the
// code the server renders with), so every path decodes the very same token ids. Greedy; every path
// stops at the tokenizer's stop ids, and the prompts are picked so that greedy answers run the full
// BENCH_NEW_TOKENS (the chat route has no `ignore_eos`): each request generates exactly that many.

import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ChatRenderer, loadTokenizer, stopTokenIds } from "@sailfin/data";
import { SailfinClient } from "@sailfin/sdk";
import { until } from "./common.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "packages", "cli", "bin", "sailfin.js");
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const DEVICE = process.env.BENCH_DEVICE ?? "auto";
const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 32);
const NEW_TOKENS = Number(process.env.BENCH_NEW_TOKENS ?? 64);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RESULTS = join(ROOT, "bench", "results", "serve.md");
/** Chats tried per prompt kept, at most: the ones whose greedy answer stops early are dropped. */
const CANDIDATES = 3;

function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** Runs a command to its end; rejects with its stderr on a non-zero exit. Resolves stdout. */
function run(command, args, options = {}) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let out = "", err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.on("close", (code) => (code === 0 ? done(out) : fail(new Error(`${command} ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** The engine's argv after `python`: the same for the engine path and the service's pool (below), so both batch alike. */
function engineArgs(modelDir, host, maxBatch, extra) {
  return ["-m", "sailfin_runtime", "serve", "--model", modelDir, "--host", host, "--device", DEVICE, "--max-batch-size", String(maxBatch), ...extra];
}

/** Starts `python -m sailfin_runtime serve` on a free port; resolves { url, stop } at its ready event. */
function startEngine(modelDir, maxBatch) {
  const child = spawn(PYTHON, engineArgs(modelDir, "127.0.0.1", maxBatch, ["--port", "0", "--served-model-name", "bench"]),
    { cwd: join(ROOT, "runtime"), stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((done, fail) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line);
      if (event.event === "ready") done({ url: event.url, pid: child.pid, stop: () => new Promise((r) => { child.on("close", r); child.kill("SIGTERM"); }) });
      if (event.event === "error") fail(new Error(`the engine did not start: ${event.message}`));
    });
    child.on("close", (code) => fail(new Error(`the engine exited ${code}`)));
  });
}

/**
 * A real `sailfin serve` (its own home under `work`, a free port, the embedded worker) with the model
 * imported (the CLI) and deployed as the service `bench` (the SDK), polled to Serving; resolves
 * { url, key (a bearer API key), stop }. Its one pool runs the runtime's engine through the
 * documented operator-engine command (docs/serving.md) only to give it `--max-batch-size`, as the
 * engine path has: the built-in launch would batch 8 rows.
 */
async function startApi(work, modelDir, maxBatch) {
  const home = join(work, "home");
  const pools = { pools: [{ id: "local", executor: "local", engine: {
    name: "sailfin-bench", env: { PYTHONPATH: join(ROOT, "runtime") }, readyTimeoutSec: 300,
    command: [PYTHON, ...engineArgs("{modelDir}", "{host}", maxBatch, ["--port", "{port}", "--served-model-name", "{servedModelName}", "--api-key-file", "{apiKeyFile}"])],
  } }] };
  // None of the caller's server settings (a database URL, keys, pools): this server is the bench's own.
  const ownEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(SAILFIN|QIANFAN)_/.test(name)));
  // BENCH_SERVER_NODE_ARGS: node flags for the server alone (`--cpu-prof --cpu-prof-dir=DIR` to see where its time goes).
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, "serve", "--home", home, "--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...ownEnv, SAILFIN_PYTHON: PYTHON, SAILFIN_DEVICE: DEVICE, SAILFIN_POOLS: JSON.stringify(pools) },
  });
  const exited = new Promise((r) => child.on("close", r));
  const stop = async () => { child.kill("SIGTERM"); await exited; };
  try {
    const url = await new Promise((done, fail) => {
      let out = "";
      // Read to the end whatever it prints: a full pipe would stall the server.
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const match = /sailfin listening on (\S+)/.exec(out);
        if (match) done(match[1]);
        if (out.length > 1 << 16) out = out.slice(-4096);
      });
      exited.then((code) => fail(new Error(`sailfin serve exited ${code}`)));
    });
    const credentials = JSON.parse(await readFile(join(home, "credentials.json"), "utf8"));
    const imported = JSON.parse(await run(process.execPath, [CLI, "models", "import", modelDir, "--name", "bench-model", "--json"], {
      env: { ...ownEnv, QIANFAN_CONSOLE_API_BASE_URL: url, QIANFAN_ACCESS_KEY: credentials.accessKey, QIANFAN_SECRET_KEY: credentials.secretKey },
    }));
    if (imported.status !== "Ready") throw new Error(`the import ended ${imported.status}: ${imported.failReason}`);
    const client = new SailfinClient({ baseUrl: url, ...credentials, retries: 0 });
    const { serviceId } = await client.services.create({ modelId: imported.modelId, name: "bench", urlSuffix: "bench" });
    await until("the service to serve", async () => {
      const service = await client.services.describe({ serviceId });
      if (service.runStatus === "Failed") throw new Error(`the service failed: ${service.failureReason}`);
      return service.runStatus === "Serving";
    }, { timeoutMs: 300_000, everyMs: 250 });
    const { apiKey } = await client.keys.createApiKey({ description: "bench/serve.mjs" });
    const enginePid = await childPid(child.pid);
    if (enginePid !== undefined) {
      // The pool's command, not the built-in launch, started it: the rows it batches are the engine path's.
      const argv = (await readFile(`/proc/${enginePid}/cmdline`, "utf8")).split("\0");
      if (argv[argv.indexOf("--max-batch-size") + 1] !== String(maxBatch)) throw new Error(`the service's engine runs ${argv.join(" ")}`);
    }
    return { url, key: apiKey, serverPid: child.pid, enginePid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux); null elsewhere or when gone. */
async function cpuSeconds(pid) {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** The engine a server's embedded worker started: its only child process (Linux /proc; undefined elsewhere). */
async function childPid(pid) {
  try {
    const children = (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8")).trim().split(/\s+/).filter(Boolean);
    return children.length === 1 ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Deterministic numbers (an LCG: the same prompts every run). */
function lcg(seed) {
  let state = seed;
  return () => { state = (state * 1103515245 + 12345) % 2 ** 31; return state; };
}

/**
 * One-message chats whose rendering (chat template + tokenizer of `modelDir`, as the server's chat
 * route renders them) is 16..64 token ids (at least the template's own): `next(count)` makes the
 * next `count`, each { messages, ids }. Also the tokenizer's stop ids, which the chat route stops at.
 */
async function chatMaker(modelDir) {
  const tok = await loadTokenizer(modelDir);
  const renderer = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
  const render = (content) => tok.encode(renderer.render([{ role: "user", content }], true));
  const random = lcg(12345);
  const letters = "abcdefghijklmnopqrstuvwxyz     ";
  const next = (count) => Array.from({ length: count }, () => {
    const target = 16 + (random() % 49);
    let content = "";
    let ids = render(content);
    while (ids.length < target) {
      content += letters[random() % letters.length];
      ids = render(content);
    }
    return { messages: [{ role: "user", content }], ids };
  });
  return { next, stopIds: stopTokenIds(tok) };
}

/** Token-id prompts of 16..64 ids below 256, for an engine whose tokenizer is not here (`--url` alone). */
function rawPrompts() {
  const next = lcg(12345);
  return Array.from({ length: PROMPTS }, () => ({ messages: null, ids: Array.from({ length: 16 + (next() % 49) }, () => next() % 256) }));
}

/** The `generate` recipe on the prompts in batches of `batch`: its answers and its own tokens/s (model loading excluded). */
async function generate(work, modelDir, prompts, batch, stopIds) {
  const promptsFile = join(work, "prompts.jsonl");
  await writeFile(promptsFile, prompts.map((p, i) => JSON.stringify({ id: String(i), ids: p.ids })).join("\n") + "\n");
  const spec = join(work, `generate-${batch}.json`);
  const outputFile = join(work, `answers-${batch}.jsonl`);
  await writeFile(spec, JSON.stringify({
    version: 1, modelDir, promptsFile, outputFile, maxNewTokens: NEW_TOKENS, eosTokenIds: stopIds, batchSize: batch, device: DEVICE,
  }));
  const out = await run(PYTHON, ["-m", "sailfin_runtime", "generate", "--spec", spec], { cwd: join(ROOT, "runtime") });
  const done = out.trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.event === "done");
  const answers = (await readFile(outputFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
  return { tokensPerSecond: done.outputs.tokensPerSecond, answers };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One streamed request (node:http: lighter than fetch, so the client takes less of the machine),
 * `data: {chunk}` events as both the engine and the chat route send them: seconds to the first
 * chunk, and the generated tokens (the usage chunk).
 */
function oneStream(url, path, payload, key) {
  const started = performance.now();
  const body = JSON.stringify(payload);
  return new Promise((done, fail) => {
    const request = http.request(`${url}${path}`, {
      method: "POST", agent,
      headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    }, (response) => {
      let first = null, tokens = 0, buffer = "", text = "";
      response.setEncoding("utf8");
      response.on("data", (part) => {
        first ??= (performance.now() - started) / 1000;
        buffer += part;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const data = buffer.slice(6, end);
          buffer = buffer.slice(end + 2);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.usage) tokens = chunk.usage.completion_tokens;
          if (chunk.error) text = chunk.error.message;
        }
      });
      response.on("end", () => (response.statusCode === 200 && !text ? done({ ttft: first, tokens }) : fail(new Error(`HTTP ${response.statusCode} ${text || buffer}`))));
      response.on("error", fail);
    });
    request.on("error", fail);
    request.end(body);
  });
}

/** How each path asks for one prompt's answer: greedy, NEW_TOKENS at most, streamed with usage. */
function requestOf(path, model, prompt, stopIds) {
  const common = { model, max_tokens: NEW_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true } };
  if (path === "api") return ["/v2/chat/completions", { ...common, messages: prompt.messages }];
  // The chat route sends the engine the tokenizer's stop ids; with none known, every token counts.
  return ["/v1/completions", { ...common, prompt: prompt.ids, ...(stopIds === null ? { ignore_eos: true } : { stop_token_ids: stopIds }) }];
}

/**
 * All prompts through `concurrency` streams at a time; TTFT percentiles, aggregate tokens/s, tokens
 * per answer, and the cores this client, the API server and the engine kept busy meanwhile.
 */
async function measure(target, prompts, concurrency, stopIds) {
  let nextPrompt = 0;
  const results = [];
  const client = process.cpuUsage();
  const before = [await cpuSeconds(target.serverPid), await cpuSeconds(target.enginePid)];
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (nextPrompt < prompts.length) {
      const [path, payload] = requestOf(target.path, target.model, prompts[nextPrompt++], stopIds);
      results.push(await oneStream(target.url, path, payload, target.key));
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const after = [await cpuSeconds(target.serverPid), await cpuSeconds(target.enginePid)];
  const cores = after.map((a, i) => (a === null || before[i] === null ? null : (a - before[i]) / seconds));
  const used = process.cpuUsage(client);
  const clientCores = (used.user + used.system) / 1e6 / seconds;
  const ttfts = results.map((r) => r.ttft).sort((a, b) => a - b);
  const at = (q) => ttfts[Math.min(ttfts.length - 1, Math.floor(q * ttfts.length))];
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  const lengths = results.map((r) => r.tokens);
  return { p50: at(0.5), p95: at(0.95), tokens, seconds, tokensPerSecond: tokens / seconds, shortest: Math.min(...lengths), longest: Math.max(...lengths),
    clientCores, serverCores: cores[0], engineCores: cores[1] };
}

const through = option("--through") ?? "both";
if (!["engine", "api", "both"].includes(through)) throw new Error(`--through must be engine, api or both, got ${through}`);
const externalUrl = option("--url");
if (externalUrl !== undefined && through !== "engine" && option("--through") !== undefined) throw new Error("--url measures an engine: --through api needs this script's own server");
const paths = externalUrl !== undefined ? ["engine"] : through === "both" ? ["engine", "api"] : [through];

const work = await mkdtemp(join(tmpdir(), "sailfin-bench-serve-"));
const stops = [];
try {
  let modelDir = option("--model-dir");
  if (modelDir === undefined && externalUrl === undefined) {
    modelDir = join(work, "tiny");
    await run(process.execPath, [CLI, "models", "create-tiny", modelDir, "--arch", "qwen2"]);
  }
  if (modelDir !== undefined) modelDir = resolve(modelDir);
  let prompts = rawPrompts();
  let stopIds = null;
  if (modelDir !== undefined) {
    const maker = await chatMaker(modelDir);
    stopIds = maker.stopIds;
    // Keep the chats whose greedy answer runs the full length (batches of 1: no padding).
    prompts = [];
    let tried = 0;
    while (prompts.length < PROMPTS && tried < PROMPTS * CANDIDATES) {
      const chats = maker.next(PROMPTS);
      const { answers } = await generate(work, modelDir, chats, 1, stopIds);
      prompts.push(...chats.filter((_, i) => answers[i].ids.length === NEW_TOKENS));
      tried += chats.length;
    }
    console.error(`${prompts.length} of ${tried} chats answer ${NEW_TOKENS} tokens before a stop id; measuring ${Math.min(prompts.length, PROMPTS)}`);
    if (prompts.length === 0) throw new Error(`no chat's greedy answer runs ${NEW_TOKENS} tokens on this model: lower BENCH_NEW_TOKENS`);
    prompts = prompts.slice(0, PROMPTS);
  }
  const maxBatch = Math.max(...LEVELS);
  const targets = [];
  for (const path of paths) {
    if (path === "engine" && externalUrl !== undefined) {
      targets.push({ path, url: externalUrl, model: option("--model") ?? "bench", key: process.env.BENCH_API_KEY, where: externalUrl });
    } else if (path === "engine") {
      const engine = await startEngine(modelDir, maxBatch);
      stops.push(engine.stop);
      targets.push({ path, url: engine.url, model: "bench", key: undefined, enginePid: engine.pid, where: "engine started here" });
    } else {
      const api = await startApi(work, modelDir, maxBatch);
      stops.push(api.stop);
      targets.push({ path, url: api.url, model: "bench", key: api.key, serverPid: api.serverPid, enginePid: api.enginePid, where: "sailfin serve started here" });
    }
  }
  for (const target of targets) await measure(target, prompts.slice(0, 2), 2, stopIds); // warm-up
  const rows = [];
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const concurrency of LEVELS) {
    const served = new Map(targets.map((t) => [t.path, []]));
    const offline = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of targets) served.get(target.path).push(await measure(target, prompts, concurrency, stopIds));
      if (modelDir) offline.push((await generate(work, modelDir, prompts, concurrency, stopIds ?? [])).tokensPerSecond);
      console.error(`${concurrency} streams, round ${round + 1}: ` +
        targets.map((t) => `${served.get(t.path).at(-1).tokensPerSecond.toFixed(1)} tok/s ${t.path}`).join(", ") +
        `${modelDir ? `, ${offline.at(-1).toFixed(1)} offline` : ""}`);
    }
    for (const target of targets) {
      const runs = served.get(target.path);
      rows.push({
        path: target.path, concurrency, p50: median(runs.map((s) => s.p50)), p95: median(runs.map((s) => s.p95)),
        tokensPerSecond: median(runs.map((s) => s.tokensPerSecond)), offline: modelDir ? median(offline) : null,
        shortest: Math.min(...runs.map((s) => s.shortest)), longest: Math.max(...runs.map((s) => s.longest)),
        cores: ["clientCores", "serverCores", "engineCores"].map((k) => (runs[0][k] === null ? null : median(runs.map((s) => s[k])))),
      });
    }
  }
  const f = (x, d = 1) => (x === null ? "–" : x.toFixed(d));
  const lengths = (r) => (r.shortest === r.longest ? `${r.shortest}` : `${r.shortest}..${r.longest}`);
  const lens = prompts.map((p) => p.ids.length);
  const table = [
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(2)}, ` +
      `device ${DEVICE}, medians of ${ROUNDS} rounds, ${prompts.length} prompts of ${Math.min(...lens)}..${Math.max(...lens)} tokens` +
      `${stopIds === null ? " (token ids)" : " (one-message chats, rendered)"}, up to ${NEW_TOKENS} new tokens each (greedy` +
      `${stopIds === null ? ", ignore_eos" : ", stop ids " + stopIds.join(",")}); ${targets.map((t) => `${t.path}: ${t.where}`).join("; ")}`,
    "",
    "| path | streams | TTFT p50 (s) | TTFT p95 (s) | served tok/s | tokens per answer | offline generate tok/s (batch = streams) | served / offline | cores busy: client / API server / engine |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.path} | ${r.concurrency} | ${f(r.p50, 3)} | ${f(r.p95, 3)} | ${f(r.tokensPerSecond)} | ${lengths(r)} | ${f(r.offline)} | ` +
      `${r.offline ? f(r.tokensPerSecond / r.offline, 2) : "–"} | ${r.cores.map((c) => f(c, 2)).join(" / ")} |`),
  ].join("\n");
  console.log(table);
  await writeFile(RESULTS, `${table}\n`);
} finally {
  for (const stop of stops.reverse()) await stop();
  await rm(work, { recursive: true, force: true });
}
