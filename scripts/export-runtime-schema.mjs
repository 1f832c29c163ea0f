// Writes the runtime protocol's JSON Schema files (runtime/sailfin_runtime/schema/*.json) from
// the contract's zod schemas (packages/contract/src/runtime/), the protocol's source of truth.
// Run after a build: `npx tsc -b && node scripts/export-runtime-schema.mjs`. The files are checked
// in (the runtime ships with them); tests/src/runtime-schema.test.ts fails while they differ.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemaText, runtimeJsonSchemas } from "../packages/contract/dist/index.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "runtime", "sailfin_runtime", "schema");
mkdirSync(dir, { recursive: true });
const schemas = runtimeJsonSchemas();
// A schema the contract no longer declares must not linger.
for (const name of readdirSync(dir)) if (name.endsWith(".json") && !(name in schemas)) rmSync(join(dir, name));
for (const [name, schema] of Object.entries(schemas)) writeFileSync(join(dir, name), jsonSchemaText(schema));
console.log(`wrote ${Object.keys(schemas).length} schema files to ${dir}`);
