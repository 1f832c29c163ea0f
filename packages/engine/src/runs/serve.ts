import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { folderKey } from "../artifacts/run-files.js";
import { versionFilesKey } from "../models/model-rows.js";
import { probeEngine } from "../serving/engine-health.js";
import { engineUrl, freePort } from "../serving/free-port.js";
import type { ServeRunSpec } from "../serving/serve-spec.js";
import type { EngineEndpoint } from "../serving/engine-client.js";
import type { ExecResult } from "./executor.js";
import type { EngineProcess, RunDeps } from "./deps.js";
import { defineRunKind } from "./define.js";
import { failed, type RunOutcome } from "./outcome.js";

const serveSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("serve"),
  serviceNum: z.int(),
  serviceId: z.string(),
  modelVersionNum: z.int(),
  modelVersionId: z.string(),
  servedModelName: z.string(),
}) satisfies z.ZodType<ServeRunSpec>;

/**
 * Health checking of a running engine: a probe every 3 s, 2 s to answer; 3 misses in a row
 * (about 10 s) and the engine is restarted. A decode step of a batch on CPU takes tens of ms, so
 * a healthy engine answers /health well inside 2 s even under load.
 */
const PROBE_EVERY_MS = 3_000;
const PROBE_TIMEOUT_MS = 2_000;
const PROBE_MISSES = 3;
/** While loading: a probe every 250 ms, so the service reads Serving soon after the engine listens. */
const READY_POLL_MS = 250;
/** Sailfin's own engine loads a model in seconds on CPU; a 7B on a GPU in about a minute. */
const BUILT_IN_READY_TIMEOUT_S = 600;
/** Restarts in a row after which the run fails (for another worker to try, as any system failure). */
const MAX_RESTARTS = 5;
/** A first launch that never answers is retried once (a port taken in between); then the model is at fault. */
const START_TRIES = 2;

type Watch = "ready" | "exited" | "timeout" | "unhealthy" | "aborted";

/**
 * One attempt of a `serve` run: start the run's pool's engine (Sailfin's runtime `serve`, or the
 * operator's command) on a free port with a fresh bearer key (a 0600 file in the run's folder,
 * and the environment; never argv), wait for /health, record the endpoint (fenced; the service
 * reads Serving), then probe it for as long as the run lives. An engine that dies or stops
 * answering is restarted with backoff, its endpoint removed while it is down. A stop kills it
 * (Cancelled: the service reads Stopped); a worker shutting down hands the run back to the queue.
 */
async function runServe(spec: ServeRunSpec, deps: RunDeps): Promise<RunOutcome> {
  const { run } = deps;
  // A run handed back to the queue after a stop (a worker shut down before it saw the stop) or replaced by a modify.
  if (!(await deps.serving.wanted(spec.serviceNum))) return { kind: "stopped", reason: "the service no longer wants this run serving" };
  const version = await deps.reads.modelVersion({ num: spec.modelVersionNum });
  if (version === null || version.status !== "Ready") return failed("user", `model version ${spec.modelVersionId} no longer exists or is not Ready`);
  const modelDir = await deps.files.input(folderKey(versionFilesKey(version)));
  const workDir = await deps.files.output(`runs/${run.id}/`);
  const apiKey = randomBytes(24).toString("base64url");
  const keyFile = join(workDir, `engine-key.attempt-${run.attempt}`);
  await writeFile(keyFile, apiKey, { mode: 0o600 });
  try {
    return await serveLoop(spec, deps, { modelDir, keyFile, apiKey });
  } finally {
    await rm(keyFile, { force: true });
  }
}

async function serveLoop(spec: ServeRunSpec, deps: RunDeps, paths: { modelDir: string; keyFile: string; apiKey: string }): Promise<RunOutcome> {
  const { serving, signal, log, run } = deps;
  const engine = serving.engine;
  let misses = 0;
  let served = false;
  for (;;) {
    if (signal.aborted) return { kind: "stopped", reason: "the service was stopped" };
    const port = await freePort(serving.host);
    const endpoint: EngineEndpoint = { url: engineUrl(serving.host, port), apiKey: paths.apiKey, servedModelName: spec.servedModelName };
    const fill = (word: string) => word.replace(/\{(modelDir|host|port|servedModelName|apiKeyFile|device)\}/g, (_, name: string) => ({
      modelDir: paths.modelDir, host: serving.host, port: String(port), servedModelName: spec.servedModelName, apiKeyFile: paths.keyFile, device: deps.settings.device,
    })[name]!);
    const stop = new AbortController();
    const forward = () => stop.abort();
    signal.addEventListener("abort", forward, { once: true });
    const proc = serving.launch({
      builtIn: engine === undefined,
      argv: engine === undefined
        ? ["serve", "--model", paths.modelDir, "--host", serving.host, "--port", String(port), "--served-model-name", spec.servedModelName,
          "--api-key-file", paths.keyFile, "--device", deps.settings.device]
        : engine.command.map(fill),
      env: { ...(engine?.env ?? {}), SAILFIN_ENGINE_API_KEY: paths.apiKey, VLLM_API_KEY: paths.apiKey },
      signal: stop.signal,
    });
    let why = await waitReady(endpoint, proc, (engine?.readyTimeoutSec ?? BUILT_IN_READY_TIMEOUT_S) * 1_000, signal);
    if (why === "ready") {
      if (!(await serving.recordEndpoint({ url: endpoint.url, apiKeyEnc: serving.seal(paths.apiKey), servedModelName: spec.servedModelName, engine: engine?.name ?? "sailfin" }))) {
        stop.abort();
        await proc.exited;
        return { kind: "lost" };
      }
      log.info({ runId: run.id, url: endpoint.url }, "serving engine is up");
      served = true;
      misses = 0;
      why = await watch(endpoint, proc, signal);
      if (!signal.aborted && !(await serving.dropEndpoint())) {
        stop.abort();
        await proc.exited;
        return { kind: "lost" };
      }
    }
    stop.abort();
    signal.removeEventListener("abort", forward);
    const result = await proc.exited;
    if (signal.aborted) return { kind: "stopped", reason: "the service was stopped" };
    misses++;
    const what = `${why === "timeout" ? "did not answer /health in time" : why === "unhealthy" ? "stopped answering /health" : "exited"}${exitWords(result)}`;
    if (!served && misses >= START_TRIES) return failed("user", `the engine could not start: it ${what}`);
    if (misses > MAX_RESTARTS) return failed("system", `the engine ${what}, ${MAX_RESTARTS} restarts in a row`);
    log.warn({ runId: run.id, restart: misses }, `the serving engine ${what}; restarting it`);
    await sleep(Math.min(30_000, 1_000 * 2 ** (misses - 1)), signal);
  }
}

function exitWords(result: ExecResult): string {
  const code = result.exitCode !== null ? ` (exit code ${result.exitCode})` : result.signal !== null ? ` (${result.signal})` : "";
  const tail = result.stderrTail.trim().split("\n").slice(-3).join(" | ").slice(-600);
  return `${code}${tail === "" ? "" : `: ${tail}`}`;
}

/** Until /health answers, the process exits, the timeout passes, or the run is stopped. */
async function waitReady(endpoint: EngineEndpoint, proc: EngineProcess, timeoutMs: number, signal: AbortSignal): Promise<Watch> {
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted && !exited) {
    if (await probeEngine(endpoint, PROBE_TIMEOUT_MS)) return "ready";
    if (Date.now() > deadline) return "timeout";
    await sleep(READY_POLL_MS, signal);
  }
  return signal.aborted ? "aborted" : "exited";
}

/** Until the process exits, misses PROBE_MISSES probes in a row, or the run is stopped. */
async function watch(endpoint: EngineEndpoint, proc: EngineProcess, signal: AbortSignal): Promise<Watch> {
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  let missed = 0;
  while (!signal.aborted) {
    await Promise.race([sleep(PROBE_EVERY_MS, signal), proc.exited]);
    if (exited) return "exited";
    if (signal.aborted) break;
    missed = (await probeEngine(endpoint, PROBE_TIMEOUT_MS)) ? 0 : missed + 1;
    if (missed >= PROBE_MISSES) return "unhealthy";
  }
  return "aborted";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); signal.removeEventListener("abort", done); resolve(); }
    signal.addEventListener("abort", done, { once: true });
  });
}

export const serveRun = defineRunKind({
  kind: "serve", noun: "service", readAction: "service:read", concurrency: "serving", needsRuntime: true, spec: serveSpecSchema, run: runServe,
  // Whatever ended the run, its endpoints are gone: calls must not reach a dead engine's port.
  async onEnded(trx, spec) {
    const ended = trx.selectFrom("runs").select("num").where("service_num", "=", spec.serviceNum).where("status", "in", ["Failed", "Cancelled", "Succeeded"]);
    await trx.deleteFrom("service_endpoints").where("run_num", "in", ended).execute();
  },
});
