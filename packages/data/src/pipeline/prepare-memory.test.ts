import { after, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareTrainingData } from "./prepare.js";
import { writeTestModel } from "./test-models.js";

/**
 * Memory stays flat in dataset size: 50 MB of JSONL through the whole pipeline (PostPretrain:
 * the same reader, sample builder, packer and shard writer as SFT, minus the chat template, so
 * the test takes ~6 s instead of ~15 s). Measured here: RSS grows ~95 MB over the baseline,
 * most of it V8 heap slack and the encoder's bounded pre-token cache; it does not grow with
 * the file (20 MB: ~98 MB, 50 MB: ~96-115 MB).
 */
const MB = 50;
const root = await mkdtemp(join(tmpdir(), "sailfin-memory-"));
after(() => rm(root, { recursive: true, force: true }));

test(`RSS stays flat while preparing ${MB} MB`, async (t) => {
  await writeTestModel(join(root, "model"), "chatml", { vocabSize: 2048 });
  const path = join(root, "data.jsonl");
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const syllables = ["ka", "lo", "mi", "ren", "tu", "sha", "vo", "el", "qi", "dun", "an", "the", "is", "of", "数", "据", "模", "型", "训", "练"];
  const word = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => syllables[Math.floor(random() * syllables.length)]).join("");
  const out = createWriteStream(path);
  let bytes = 0;
  while (bytes < MB * 1e6) {
    const line = `${JSON.stringify({ text: Array.from({ length: 30 + Math.floor(random() * 200) }, word).join(" ") })}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");

  const base = process.memoryUsage().rss;
  let peak = base;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const timer = setInterval(sample, 25);
  const started = performance.now();
  const { train } = await prepareTrainingData({
    datasets: [{ path, format: "Text" }], modelDir: join(root, "model"), trainMode: "PostPretrain",
    maxSeqLen: 1024, splitRatio: 0, seed: 1, outDir: join(root, "out"), onProgress: sample,
  });
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const growth = (peak - base) / 1e6;
  t.diagnostic(`${MB} MB in ${seconds.toFixed(1)} s (${(bytes / 1e6 / seconds).toFixed(1)} MB/s), ${train.tokens} tokens, ` +
    `RSS ${(base / 1e6).toFixed(0)} → peak ${(peak / 1e6).toFixed(0)} MB (+${growth.toFixed(0)} MB)`);
  assert.ok(train.rows > 10_000);
  assert.ok(growth < 150, `RSS grew by ${growth.toFixed(0)} MB`);
});
