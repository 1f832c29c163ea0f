import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SailfinError } from "@sailfin/contract";
import { readDatasetTexts } from "@sailfin/data";
import { LocalArtifactStore } from "../artifacts/local.js";
import { runFilesFor } from "../artifacts/run-files.js";
import { writeTinyModel } from "../models/tiny-model.js";
import { prepareRunData, type PrepareRunDataInput } from "./prepare-data.js";

const DEMO = new URL("../../../../examples/demo-sft.jsonl", import.meta.url);
let root: string;
let store: LocalArtifactStore;
let contentHash: string;
const res = () => ({ files: runFilesFor(store, join(root, "work")) });

before(async () => {
  root = await mkdtemp(join(tmpdir(), "sailfin-token-cache-"));
  store = new LocalArtifactStore(root);
  const demo = await readFile(DEMO, "utf8");
  // As a release leaves it: the JSONL in the store, its sha256 as the content hash.
  contentHash = (await store.put("datasets/ds-demo/data.jsonl", demo)).sha256;
  const texts = await readDatasetTexts(DEMO.pathname, "PromptResponse");
  await writeTinyModel(store.localPath("models/amv-demo"), { architecture: "llama", hiddenSize: 32, heads: 4, kvHeads: 2, tokenizerTexts: texts, tokenizerVocabSize: 512 });
});
after(() => rm(root, { recursive: true, force: true }));

function input(extra: Partial<PrepareRunDataInput> = {}): PrepareRunDataInput {
  return {
    datasets: [{ dataKey: "datasets/ds-demo/data.jsonl", format: "PromptResponse", contentHash, samplingRate: 1 }],
    modelKey: "models/amv-demo/", trainMode: "SFT", maxSeqLen: 128, splitRatio: 10, seed: 42, ...extra,
  };
}

describe("token cache", () => {
  test("the first call prepares, the second is a cache hit that reads no data", async () => {
    const first = await prepareRunData(res(), input());
    assert.equal(first.cached, false);
    assert.equal(first.trainDir, join(root, "token-cache", first.key, "train"));
    assert.ok(first.train.samples > 150 && first.validation.samples > 5);
    assert.ok((await readdir(first.trainDir)).includes("shard-00000.ids.u32"));
    // Move the data away: a hit must not need it.
    const data = store.localPath("datasets/ds-demo/data.jsonl");
    const saved = await readFile(data);
    await rm(data);
    try {
      const started = performance.now();
      const second = await prepareRunData(res(), input());
      assert.equal(second.cached, true);
      assert.equal(second.key, first.key);
      assert.deepEqual(second.train, first.train);
      assert.ok(performance.now() - started < 500);
    } finally {
      await writeFile(data, saved);
    }
  });

  test("any setting that changes the shards changes the key", async () => {
    const base = await prepareRunData(res(), input());
    for (const change of [{ maxSeqLen: 64 }, { splitRatio: 0 }, { seed: 1 }]) {
      const other = await prepareRunData(res(), input(change));
      assert.notEqual(other.key, base.key, JSON.stringify(change));
      assert.equal(other.cached, false);
    }
    const rate = await prepareRunData(res(), input({ datasets: [{ ...input().datasets[0]!, samplingRate: 2 }] }));
    assert.notEqual(rate.key, base.key);
  });

  test("two workers preparing the same key at once both get complete, identical shards", async () => {
    const same = input({ seed: 99 });
    const [a, b] = await Promise.all([prepareRunData(res(), same), prepareRunData(res(), same)]);
    assert.equal(a.key, b.key);
    assert.deepEqual(a.train, b.train);
    assert.ok(!(a.cached && b.cached), "at least one of them prepared");
    const names = await readdir(join(root, "token-cache"));
    assert.ok(!names.some((n) => n.startsWith(".tmp-")), "no temporary folder is left behind");
  });

  test("input problems are InvalidParameter; a changed dataset file is a system error", async () => {
    // A model whose embedding is smaller than its tokenizer (as if the wrong tokenizer.json was uploaded).
    const config = JSON.parse(await readFile(store.localPath("models/amv-demo/config.json"), "utf8")) as Record<string, unknown>;
    await store.put("models/amv-small/config.json", JSON.stringify({ ...config, vocab_size: 200 }));
    await store.put("models/amv-small/tokenizer.json", await readFile(store.localPath("models/amv-demo/tokenizer.json")));
    await store.put("models/amv-small/tokenizer_config.json", await readFile(store.localPath("models/amv-demo/tokenizer_config.json")));
    await assert.rejects(prepareRunData(res(), input({ modelKey: "models/amv-small/" })), (error: unknown) => {
      assert.ok(error instanceof SailfinError);
      assert.equal(error.id, "InvalidParameter");
      assert.match(error.message, /vocab_size is 200.*does not belong to this model/);
      return true;
    });
    await assert.rejects(prepareRunData(res(), input({ trainMode: "DPO" })), (error: unknown) => error instanceof SailfinError && /DPO cannot train on/.test(error.message));
    await assert.rejects(prepareRunData(res(), input({ seed: 5, datasets: [{ ...input().datasets[0]!, contentHash: "0".repeat(64) }] })),
      (error: unknown) => error instanceof SailfinError && error.id === "InternalError" && /changed after release/.test(error.message));
    const names = await readdir(join(root, "token-cache"));
    assert.ok(!names.some((n) => n.startsWith(".tmp-")), "failed preparations leave nothing behind");
  });
});
