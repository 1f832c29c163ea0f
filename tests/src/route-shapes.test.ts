import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * One shape per layer (issue 12): the engine hands routes camelCase records, so a route reads no
 * stored column; and every request schema, V1 and V2, is the contract's (routes parse with it).
 * Checked on the sources, as tests/src/layering.test.ts checks the dependency rule.
 */

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const ROUTES = "apps/server/src/routes";

/** Snake_case keys that are Qianfan's own wire names (inference parameters read from a request body), not columns. */
const WIRE_KEYS = new Set(["top_p", "penalty_score", "max_output_tokens"]);

/** `x.snake_case` (a property read with an underscore in its name: how a stored column reads). */
const SNAKE_READ = /\.([a-z][a-z0-9]*_[a-z0-9_]+)\b/g;
/** A zod object declared in place, where only the contract's schemas should be. */
const INLINE_SCHEMA = /\bz\.object\(/;
/** A row type (`DatasetVersionRow`, `ModelSetRow`, `WorkRow`…) named by a route. */
const ROW_TYPE = /\b[A-Z][A-Za-z]*Row\b/;

function routeFiles(): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts")) out.push(path);
    }
  };
  walk(join(root, ROUTES));
  return out;
}

/** The code of a file without its comments and string contents (a message may well say `content_hash`). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
}

function snakeReads(text: string): string[] {
  return [...code(text).matchAll(SNAKE_READ)].map((m) => m[1]!).filter((key) => !WIRE_KEYS.has(key));
}

test("routes read no stored columns: the engine hands them records", () => {
  const found = routeFiles().flatMap((file) =>
    snakeReads(readFileSync(file, "utf8")).map((key) => `${relative(root, file)}: .${key}`));
  assert.deepEqual(found, [], "a route reads a column; have the engine return a record (see packages/engine/src/*/records.ts)");
});

test("routes name no row types and declare no request schemas: both are the engine's records and the contract's schemas", () => {
  const found: string[] = [];
  for (const file of routeFiles()) {
    const text = code(readFileSync(file, "utf8"));
    if (ROW_TYPE.test(text)) found.push(`${relative(root, file)}: names a row type (${ROW_TYPE.exec(text)![0]})`);
    if (INLINE_SCHEMA.test(text)) found.push(`${relative(root, file)}: declares a request schema (move it to packages/contract/src/api/)`);
  }
  assert.deepEqual(found, []);
});

test("the checks see what they check", () => {
  assert.deepEqual(snakeReads("const t = isoOffset(version.created_at); // version.modified_at"), ["created_at"]);
  assert.deepEqual(snakeReads('params?.top_p; detail("no row.data_path")'), []);
  assert.ok(ROW_TYPE.test(code("function f(set: ModelSetRow) {}")));
  assert.ok(INLINE_SCHEMA.test(code("const Body = z.object({ id: V1Id });")));
  assert.ok(routeFiles().some((file) => file.endsWith(join("v1", "datasets.ts"))));
});
