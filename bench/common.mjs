// The start-up the end-to-end benches share: a real server on SQLite in a temporary home, an SDK
// client, a poll loop, and the tiny Llama and SFT set they train. The server and engine are
// imported when a bench starts, after it set the environment they read (SAILFIN_POLL_MS …).
// Runs the BUILT code (`npx tsc -b` first).

import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `fn` every `everyMs` until it returns something truthy, which it returns; throws after `timeoutMs`.
 * @example await until("model import", async () => (await v2("model", "DescribeModel", { modelId })).status === "Ready");
 */
export async function until(what, fn, { timeoutMs = 120_000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * A server (its embedded worker only when `worker`) on a port of its own, with an admin key pair
 * and an SDK client; `close()` stops it and deletes its home.
 * @example const bench = await startBench({ name: "first-step", admin: { accessKey, secretKey }, worker: true });
 */
export async function startBench({ name, admin, worker }) {
  const { loadServerConfig, startServer } = await import("@sailfin/server");
  const { SailfinClient } = await import("@sailfin/sdk");
  const home = await mkdtemp(join(tmpdir(), `sailfin-bench-${name}-`));
  const config = loadServerConfig({
    flags: { port: "0", host: "127.0.0.1", home },
    env: { SAILFIN_ACCESS_KEY: admin.accessKey, SAILFIN_SECRET_KEY: admin.secretKey, SAILFIN_LOG_LEVEL: "silent" },
  });
  const server = await startServer(config, () => {}, { worker });
  const client = new SailfinClient({ baseUrl: server.url, ...admin, retries: 0 });
  return {
    home, server,
    v2: (resource, action, body) => client.call(resource, action, body),
    close: async () => {
      await server.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Imports a tiny Llama (hidden 32, 2 layers) as the model `bench-tiny`; resolves once it is Ready. */
export async function importTinyModel({ home, v2 }) {
  const { writeTinyModel } = await import("@sailfin/engine");
  await writeTinyModel(join(home, "buckets", "hub", "tiny"), { architecture: "llama", hiddenSize: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64 });
  const setId = await v2("model", "CreateCustomModelSet", { modelSetName: "bench-tiny", modelType: "Text2Text" });
  const { modelId } = await v2("model", "CreateCustomModel", { modelSetId: setId, sourceType: "Import", importMeta: { bucket: "hub", objectPath: "tiny" } });
  await until("model import", async () => (await v2("model", "DescribeModel", { modelId })).status === "Ready");
}

/** Imports and publishes `samples` PromptResponse lines as the dataset `bench-sft`; returns its version id. */
export async function importSftDataset({ home, v2 }, samples) {
  const words = ["red", "blue", "green", "gold"];
  const lines = Array.from({ length: samples }, (_, i) => JSON.stringify([{ prompt: `say ${words[i % 4]} ${i}`, response: [[`${words[i % 4]} ${i} ${words[i % 4]}`]] }]));
  await mkdir(join(home, "buckets", "data"), { recursive: true });
  await writeFile(join(home, "buckets", "data", "sft.jsonl"), `${lines.join("\n")}\n`);
  const ds = await v2("dataset", "CreateDataset", { datasetName: "bench-sft", dataFormat: "PromptResponse", storageType: "sysStorage" });
  await v2("dataset", "CreateImportTask", { versionId: ds.versionId, files: ["bos:/data/sft.jsonl"] });
  await until("dataset import", async () => (await v2("dataset", "DescribeDatasetVersion", { versionId: ds.versionId })).importStatus === "Finished");
  await v2("dataset", "PublishDatasetVersion", { versionId: ds.versionId });
  await until("dataset release", async () => (await v2("dataset", "DescribeDatasetVersion", { versionId: ds.versionId })).publishStatus === "Published");
  return ds.versionId;
}
