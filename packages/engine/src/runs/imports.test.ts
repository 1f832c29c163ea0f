import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { datasetImportRun, modelImportRun } from "./imports.js";
import { runDepsDouble } from "./run-deps-double.js";

describe("import run kinds", () => {
  const settle = async () => undefined;

  test("an imported dataset ends done with its result and settlement; bad data is the user's, with its settlement", async () => {
    const seen: number[] = [];
    const ok = runDepsDouble({
      root: null, spec: { importNum: 7 }, run: { kind: "dataset-import" },
      imports: { dataset: async (spec) => { seen.push(spec.importNum); return { kind: "imported", reason: "imported 3 records", result: { records: 3 }, settle }; } },
    });
    assert.deepEqual(await datasetImportRun.attempt(ok.deps), { kind: "done", reason: "imported 3 records", result: { records: 3 }, settle });
    assert.deepEqual(seen, [7]);
    const bad = runDepsDouble({
      root: null, spec: { importNum: 7 }, run: { kind: "dataset-import" },
      imports: { dataset: async () => ({ kind: "rejected", reason: "line 2: not JSON", settle }) },
    });
    assert.deepEqual(await datasetImportRun.attempt(bad.deps), { kind: "failed", failure: "user", reason: "line 2: not JSON", settle });
  });

  test("an interrupted model import is a system failure (released or retried); a payload without versionNum names the field", async () => {
    const cut = runDepsDouble({ root: null, spec: { versionNum: 2 }, run: { kind: "model-import" }, imports: { model: async () => ({ kind: "interrupted" }) } });
    assert.deepEqual(await modelImportRun.attempt(cut.deps), { kind: "failed", failure: "system", reason: "the import was interrupted" });
    const broken = runDepsDouble({ root: null, spec: { version: 2 }, run: { id: "import-amv-1", kind: "model-import" } });
    const outcome = await modelImportRun.attempt(broken.deps);
    assert.equal(outcome.kind, "failed");
    assert.match(outcome.kind === "failed" ? outcome.reason : "", /not a valid model-import spec: versionNum/);
  });
});
