import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RuntimeLink } from "./runtime-link.js";
import { runtimeEvent } from "./test-fixtures.js";
import type { ProgressBatch } from "../queue/record-progress.js";

function link(recipe: "finetune" | "quantize" = "finetune"): RuntimeLink {
  return new RuntimeLink({ record: async () => true, recipe, artifactRoot: "/root", keepCheckpoints: 1, onLeaseLost: () => undefined });
}

describe("runtime link: events are read with the protocol's schemas", () => {
  test("stray lines are ignored; a valid done ends the attempt with its recipe's outputs", async () => {
    const l = link("quantize");
    l.line("loading weights…");
    l.line("[1, 2]");
    l.line(JSON.stringify(runtimeEvent.done({ modelDir: "/o", sizeBefore: 4, sizeAfter: 2, perplexityBefore: null, perplexityAfter: null, quantizedModules: 1, seconds: 1 })));
    assert.equal(await l.close(), true);
    assert.deepEqual(l.outcome, {
      kind: "done", step: 0, outputs: { modelDir: "/o", sizeBefore: 4, sizeAfter: 2, perplexityBefore: null, perplexityAfter: null, quantizedModules: 1, seconds: 1 },
    });
  });

  test("a done whose outputs are another recipe's is a system error naming the field", async () => {
    const l = link("quantize");
    l.line(JSON.stringify(runtimeEvent.done({ lastCheckpoint: null })));
    await l.close();
    assert.equal(l.outcome?.kind, "error");
    assert.match(l.outcome?.kind === "error" ? l.outcome.message : "", /done event breaks the protocol: outputs modelDir/);
  });

  test("a known event the schema refuses is remembered: an attempt that ends without done says so", async () => {
    const l = link();
    l.line(JSON.stringify({ ...runtimeEvent.metrics({ step: 1 }), loss: "high" }));
    await l.close();
    assert.deepEqual(l.outcome, { kind: "error", errorKind: "system", message: "the runtime broke the protocol: metrics event: loss: Invalid input: expected number, received string" });
  });

  test("serve: ready calls onReady once with the engine's URL; stopped ends the attempt", async () => {
    const urls: string[] = [];
    const l = new RuntimeLink({
      record: async () => true, recipe: "serve", artifactRoot: "/root", keepCheckpoints: 0, onLeaseLost: () => undefined, onReady: (url) => urls.push(url),
    });
    l.line(JSON.stringify({ event: "ready", time: 1, url: "http://127.0.0.1:41234" }));
    l.line(JSON.stringify({ event: "ready", time: 2, url: "http://127.0.0.1:9" }));
    l.line(JSON.stringify({ event: "stopped", time: 3, step: null, checkpoint: null }));
    assert.equal(await l.close(), true);
    assert.deepEqual(urls, ["http://127.0.0.1:41234"]);
    assert.deepEqual(l.outcome, { kind: "stopped", step: 0, checkpoint: null });
  });

  test("serve: a done event breaks the protocol (the engine runs until stopped)", async () => {
    const l = new RuntimeLink({ record: async () => true, recipe: "serve", artifactRoot: "/root", keepCheckpoints: 0, onLeaseLost: () => undefined });
    l.line(JSON.stringify(runtimeEvent.done({ lastCheckpoint: null })));
    await l.close();
    assert.equal(l.outcome?.kind, "error");
  });

  test("an unknown event name is ignored (a newer runtime may say more)", async () => {
    const l = link();
    l.line(JSON.stringify({ event: "memory", time: 1, bytes: 5 }));
    await l.close();
    assert.equal(l.outcome, null);
  });
});

test("runtime link: a replayed job's steps at or below recordedThroughStep are not recorded again", async () => {
  const batches: ProgressBatch[] = [];
  const l = new RuntimeLink({
    record: async (batch) => { batches.push(batch); return true; }, recipe: "finetune", artifactRoot: "/root", keepCheckpoints: 2,
    onLeaseLost: () => undefined, recordedThroughStep: 2,
  });
  for (const step of [1, 2, 3]) l.line(JSON.stringify(runtimeEvent.metrics({ step })));
  l.line(JSON.stringify(runtimeEvent.checkpoint({ step: 2, path: "/root/runs/r/checkpoints/step_000002" })));
  l.line(JSON.stringify(runtimeEvent.checkpoint({ step: 3, path: "/root/runs/r/checkpoints/step_000003" })));
  assert.equal(await l.close(), true);
  assert.deepEqual(batches.flatMap((b) => b.metrics ?? []).map((m) => m.step), [3]);
  assert.deepEqual(batches.flatMap((b) => b.checkpoints ?? []).map((c) => c.step), [3]);
  assert.equal(l.lastStep, 3);
});

test("runtime link: a checkpoint is uploaded before its row is written; one already gone gets no row; pruning follows the rows", async () => {
  const order: string[] = [];
  const l = new RuntimeLink({
    record: async (batch) => { for (const c of batch.checkpoints ?? []) order.push(`row ${c.path}`); return true; },
    recipe: "finetune", artifactRoot: "/work", keepCheckpoints: 1, onLeaseLost: () => undefined,
    beforeCheckpoint: async (key) => { order.push(`upload ${key}`); return !key.includes("step_000001"); },
    afterCheckpoints: async () => { order.push("prune"); },
  });
  l.line(JSON.stringify(runtimeEvent.checkpoint({ step: 1, path: "/work/runs/r/checkpoints/step_000001" })));
  l.line(JSON.stringify(runtimeEvent.checkpoint({ step: 2, path: "/work/runs/r/checkpoints/step_000002" })));
  assert.equal(await l.close(), true);
  assert.deepEqual(order, [
    "upload runs/r/checkpoints/step_000001/", "upload runs/r/checkpoints/step_000002/", "row runs/r/checkpoints/step_000002/", "prune",
  ]);
});

test("runtime link: a failed upload fails the attempt's recording (close throws), and no row names the checkpoint", async () => {
  const rows: string[] = [];
  const l = new RuntimeLink({
    record: async (batch) => { rows.push(...(batch.checkpoints ?? []).map((c) => c.path)); return true; },
    recipe: "finetune", artifactRoot: "/work", keepCheckpoints: 1, onLeaseLost: () => undefined,
    beforeCheckpoint: async () => { throw new Error("store unreachable"); },
  });
  l.line(JSON.stringify(runtimeEvent.checkpoint({ step: 1, path: "/work/runs/r/checkpoints/step_000001" })));
  await assert.rejects(l.close(), /recording training progress failed: store unreachable/);
  assert.deepEqual(rows, []);
});
