import { test } from "node:test";
import assert from "node:assert/strict";
import type { EngineResources } from "@sailfin/engine";
import { Worker } from "./worker.js";

test("a worker without an executor refuses, before it announces itself, kinds that need the runtime", async () => {
  // No database is touched: the check comes first.
  const worker = new Worker({ res: {} as EngineResources, kinds: ["eval-export", "compress"] });
  await assert.rejects(worker.start(), /the worker takes compress, which need the runtime: give it an executor/);
});
