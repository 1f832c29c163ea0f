import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Build-time assurance that `@sailfin/sdk` runs in a browser: walks the compiled import graph
 * from the SDK's entry (packages/sdk/dist) through every module it loads, the contract's
 * `@sailfin/contract/api` modules and zod included, and fails on any Node built-in (`node:…`
 * or a bare `fs`, `crypto`…) or CommonJS `require`. Type-only imports are erased by tsc, so
 * this sees exactly what a bundler would load.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BUILTINS = new Set(builtinModules);
// Static `import … from "x"`, `export … from "x"`, side-effect `import "x"`, dynamic `import("x")`, `require("x")`;
// not the end of a word such as "model-import" in a list of strings.
const SPECIFIERS = /(?<![\w$-])(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']([^"']+)["']/g;

interface Graph {
  readonly files: string[];
  readonly violations: string[];
}

async function walk(entry: string): Promise<Graph> {
  const seen = new Set<string>();
  const violations: string[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, "utf8");
    if (/\brequire\s*\(/.test(source)) violations.push(`${relative(root, file)} calls require()`);
    for (const [, specifier] of source.matchAll(SPECIFIERS)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]!)) {
        violations.push(`${relative(root, file)} imports ${specifier}`);
      } else if (specifier.startsWith(".")) {
        queue.push(resolve(dirname(file), specifier));
      } else {
        // Workspace packages and zod are hoisted to the root node_modules: resolve as the root would.
        queue.push(fileURLToPath(import.meta.resolve(specifier)));
      }
    }
  }
  return { files: [...seen].map((f) => relative(root, f)).sort(), violations };
}

test("nothing the SDK loads imports a Node built-in", async () => {
  const graph = await walk(fileURLToPath(import.meta.resolve("@sailfin/sdk")));
  assert.deepEqual(graph.violations, []);
  // Not vacuous: the walk reached the signer, the contract's canonical strings and zod.
  for (const expected of ["packages/sdk/dist/signer.js", "packages/contract/dist/bce-canonical.js", "packages/contract/dist/api/index.js"]) {
    assert.ok(graph.files.includes(expected), `${expected} not in ${graph.files.join(", ")}`);
  }
  assert.ok(graph.files.some((f) => f.startsWith("node_modules/zod/")), "zod was walked");
  assert.ok(!graph.files.some((f) => f.endsWith("/bce-auth.js") || f.endsWith("/ids.js")), "the Node-only contract modules stay out");
});

test("the walker does see Node imports (the contract's full entry has node:crypto)", async () => {
  const graph = await walk(fileURLToPath(import.meta.resolve("@sailfin/contract")));
  assert.ok(graph.violations.some((v) => v.includes("bce-auth.js imports node:crypto")), graph.violations.join("\n"));
});
