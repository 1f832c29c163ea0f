import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemaText, runtimeJsonSchemas } from "@sailfin/contract";
import { MODEL_FAMILIES } from "@sailfin/engine";

/**
 * The runtime reads its spec fields' types, ranges and defaults from the JSON Schema files in
 * runtime/sailfin_runtime/schema/, generated from the contract's zod schemas (the protocol's
 * source of truth). Checked-in files that differ from what the contract generates would let the
 * two sides drift apart unnoticed: this test fails until they are regenerated.
 */

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const dir = join(root, "runtime", "sailfin_runtime", "schema");
const REGENERATE = "run `npx tsc -b && node scripts/export-runtime-schema.mjs` and commit runtime/sailfin_runtime/schema/";

test("the runtime's checked-in JSON Schema files are what the contract generates", () => {
  const schemas = runtimeJsonSchemas();
  const onDisk = readdirSync(dir).filter((name) => name.endsWith(".json")).sort();
  assert.deepEqual(onDisk, Object.keys(schemas).sort(), `schema files differ from the contract's list: ${REGENERATE}`);
  for (const [name, schema] of Object.entries(schemas)) {
    assert.equal(readFileSync(join(dir, name), "utf8"), jsonSchemaText(schema), `${name} is stale: ${REGENERATE}`);
  }
});

test("import accepts exactly the model families the runtime trains", () => {
  // An import that passes but whose training the runtime refuses would fail hours later; one the
  // runtime trains but import refuses is unreachable. tests/src/architectures-e2e.test.ts trains each.
  const source = readFileSync(join(root, "runtime", "sailfin_runtime", "models", "decoder.py"), "utf8");
  const tuple = /^SUPPORTED_TYPES = \(([^)]*)\)/m.exec(source);
  assert.ok(tuple, "SUPPORTED_TYPES not found in runtime/sailfin_runtime/models/decoder.py");
  const runtime = [...tuple[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  assert.deepEqual([...runtime].sort(), [...MODEL_FAMILIES].sort());
});
