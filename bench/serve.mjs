#!/usr/bin/env node
// The serving engine under concurrent streams: time to first token (p50/p95) and aggregate
// generated tokens/s at 1, 8 and 32 concurrent streams, against the runtime's offline
// `generate` recipe on the same prompts (batches of the same size) as the ceiling. No
// dependencies; runs the BUILT CLI (`npx tsc -b` first) to write a tiny model. See bench/README.md.
//
//   node bench/serve.mjs                                  # tiny qwen2 (create-tiny), engine started here
//   node bench/serve.mjs --model-dir DIR                  # another model folder
//   node bench/serve.mjs --url http://H:P --model NAME    # an engine already running (ours, vLLM…):
//                                                           no ceiling unless --model-dir is given too
//
// Knobs (environment): BENCH_PYTHON (/usr/bin/python3), BENCH_DEVICE (auto), BENCH_PROMPTS (32),
// BENCH_NEW_TOKENS (64), BENCH_CONCURRENCY (1,8,32), BENCH_ROUNDS (3: served and offline take turns,
// medians shown, so that other work on the machine weighs on both alike), BENCH_API_KEY (bearer for --url).
// Every request is greedy with `ignore_eos`, so each one generates exactly BENCH_NEW_TOKENS.

import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const DEVICE = process.env.BENCH_DEVICE ?? "auto";
const PROMPTS = Number(process.env.BENCH_PROMPTS ?? 32);
const NEW_TOKENS = Number(process.env.BENCH_NEW_TOKENS ?? 64);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RESULTS = join(ROOT, "bench", "results", "serve.md");

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

/** Starts `python -m sailfin_runtime serve` on a free port; resolves { url, stop } at its ready event. */
function startEngine(modelDir, maxBatch) {
  const child = spawn(PYTHON, ["-m", "sailfin_runtime", "serve", "--model", modelDir, "--host", "127.0.0.1", "--port", "0",
    "--served-model-name", "bench", "--device", DEVICE, "--max-batch-size", String(maxBatch)],
  { cwd: join(ROOT, "runtime"), stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((done, fail) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line);
      if (event.event === "ready") done({ url: event.url, stop: () => new Promise((r) => { child.on("close", r); child.kill("SIGTERM"); }) });
      if (event.event === "error") fail(new Error(`the engine did not start: ${event.message}`));
    });
    child.on("close", (code) => fail(new Error(`the engine exited ${code}`)));
  });
}

/** Deterministic prompts of 16..64 token ids below `vocab` (an LCG: same prompts every run). */
function makePrompts(vocab) {
  let state = 12345;
  const next = () => { state = (state * 1103515245 + 12345) % 2 ** 31; return state; };
  return Array.from({ length: PROMPTS }, () => Array.from({ length: 16 + (next() % 49) }, () => next() % Math.min(vocab, 256)));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One streamed completion (node:http: lighter than fetch, so the client takes less of the machine): seconds to the first chunk, and the generated tokens (usage). */
function oneStream(url, model, prompt, key) {
  const started = performance.now();
  const body = JSON.stringify({ model, prompt, max_tokens: NEW_TOKENS, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  return new Promise((done, fail) => {
    const request = http.request(`${url}/v1/completions`, {
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

/** All prompts through `concurrency` streams at a time; TTFT percentiles and aggregate tokens/s. */
async function measure(url, model, prompts, concurrency, key) {
  let nextPrompt = 0;
  const results = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (nextPrompt < prompts.length) {
      const prompt = prompts[nextPrompt++];
      results.push(await oneStream(url, model, prompt, key));
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const ttfts = results.map((r) => r.ttft).sort((a, b) => a - b);
  const at = (q) => ttfts[Math.min(ttfts.length - 1, Math.floor(q * ttfts.length))];
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  return { p50: at(0.5), p95: at(0.95), tokens, seconds, tokensPerSecond: tokens / seconds };
}

/** The offline ceiling: the `generate` recipe on the same prompts, batches of `batch`; its own tokens/s (load excluded). */
async function ceiling(work, modelDir, prompts, batch) {
  const promptsFile = join(work, "prompts.jsonl");
  await writeFile(promptsFile, prompts.map((ids, i) => JSON.stringify({ id: String(i), ids })).join("\n") + "\n");
  const spec = join(work, `generate-${batch}.json`);
  await writeFile(spec, JSON.stringify({
    version: 1, modelDir, promptsFile, outputFile: join(work, `answers-${batch}.jsonl`), maxNewTokens: NEW_TOKENS,
    eosTokenIds: [], batchSize: batch, device: DEVICE,
  }));
  const out = await run(PYTHON, ["-m", "sailfin_runtime", "generate", "--spec", spec], { cwd: join(ROOT, "runtime") });
  const done = out.trim().split("\n").map((l) => JSON.parse(l)).find((e) => e.event === "done");
  return done.outputs.tokensPerSecond;
}

const work = await mkdtemp(join(tmpdir(), "sailfin-bench-serve-"));
let engine = null;
try {
  let modelDir = option("--model-dir");
  if (modelDir === undefined && option("--url") === undefined) {
    modelDir = join(work, "tiny");
    await run(process.execPath, [join(ROOT, "packages", "cli", "bin", "sailfin.js"), "models", "create-tiny", modelDir, "--arch", "qwen2"]);
  }
  const vocab = modelDir ? JSON.parse(await readFile(join(modelDir, "config.json"), "utf8")).vocab_size : 256;
  const prompts = makePrompts(vocab);
  let url = option("--url");
  const model = option("--model") ?? "bench";
  const key = process.env.BENCH_API_KEY;
  if (url === undefined) {
    engine = await startEngine(resolve(modelDir), Math.max(...LEVELS));
    url = engine.url;
  }
  await measure(url, model, prompts.slice(0, 2), 2, key); // warm-up
  const rows = [];
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const concurrency of LEVELS) {
    const served = [], offline = [];
    for (let round = 0; round < ROUNDS; round++) {
      served.push(await measure(url, model, prompts, concurrency, key));
      if (modelDir) offline.push(await ceiling(work, resolve(modelDir), prompts, concurrency));
      console.error(`${concurrency} streams, round ${round + 1}: ${served.at(-1).tokensPerSecond.toFixed(1)} tok/s served` +
        `${modelDir ? `, ${offline.at(-1).toFixed(1)} offline` : ""}`);
    }
    rows.push({
      concurrency, p50: median(served.map((s) => s.p50)), p95: median(served.map((s) => s.p95)),
      tokensPerSecond: median(served.map((s) => s.tokensPerSecond)), offline: modelDir ? median(offline) : null,
    });
  }
  const f = (x, d = 1) => (x === null ? "–" : x.toFixed(d));
  const table = [
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(2)}, ` +
      `device ${DEVICE}, medians of ${ROUNDS} rounds, ${PROMPTS} prompts of 16..64 tokens, ${NEW_TOKENS} new tokens each (greedy, ignore_eos), ${url === engine?.url ? "engine started here" : url}`,
    "",
    "| streams | TTFT p50 (s) | TTFT p95 (s) | served tok/s | offline generate tok/s (batch = streams) | served / offline |",
    "|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.concurrency} | ${f(r.p50, 3)} | ${f(r.p95, 3)} | ${f(r.tokensPerSecond)} | ${f(r.offline)} | ${r.offline ? f(r.tokensPerSecond / r.offline, 2) : "–"} |`),
  ].join("\n");
  console.log(table);
  await writeFile(RESULTS, `${table}\n`);
} finally {
  if (engine) await engine.stop();
  await rm(work, { recursive: true, force: true });
}
