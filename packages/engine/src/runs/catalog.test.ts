import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RUN_KINDS } from "@sailfin/contract";
import { RUN_CATALOG, SERVER_KINDS, isRunKind, kindsByClass } from "./catalog.js";
import { parseStoredSpec } from "./define.js";
import { publishSpecSchema } from "./publish.js";

describe("run-kind catalog", () => {
  test("every queue kind has one definition, filed under its own name", () => {
    assert.deepEqual(Object.keys(RUN_CATALOG).sort(), [...RUN_KINDS].sort());
    for (const [kind, definition] of Object.entries(RUN_CATALOG)) assert.equal(definition.kind, kind);
  });

  test("kinds by concurrency class, in slot order, and narrowed to the kinds a worker takes", () => {
    assert.deepEqual(kindsByClass(), { training: ["finetune"], "file-work": ["publish", "compress", "eval-export", "dataset-import", "model-import", "dataset-export", "model-export"], evaluation: ["evaluate", "batch-inference"], serving: ["serve"] });
    assert.deepEqual(kindsByClass(["evaluate", "publish"]), { training: [], "file-work": ["publish"], evaluation: ["evaluate"], serving: [] });
  });

  test("every serving process runs the imports and the dataset and model exports", () => {
    assert.deepEqual(SERVER_KINDS, ["dataset-import", "model-import", "dataset-export", "model-export"]);
  });

  test("isRunKind knows the catalog's words only", () => {
    assert.equal(isRunKind("compress"), true);
    assert.equal(isRunKind("toString"), false);
    assert.equal(isRunKind("train"), false);
  });

  test("a stored spec that does not parse names the field", () => {
    assert.match((parseStoredSpec(publishSpecSchema, "{") as { error: string }).error, /^not JSON \(/);
    const parsed = parseStoredSpec(publishSpecSchema, JSON.stringify({ specVersion: 1, kind: "publish", versionId: "amv-1", versionNum: 1 }));
    assert.match("error" in parsed ? parsed.error : "", /^sourceRunId: /);
  });
});
