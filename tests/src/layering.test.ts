import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The dependency rule of docs/architecture.md, checked on the sources: packages import only the
 * packages below them (contract ← store, data ← engine ← worker ← server ← cli; the SDK and the
 * console only the contract and the SDK), declare what they import, never reach into another
 * package's files by a relative path, and SQL stays in the store and the engine. Files outside them
 * that still ran SQL were a baseline that could only shrink (Langfuse's structure baseline); issue
 * 12 emptied it, and it stays empty.
 */

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Each package's folder and the @sailfin packages it may import. */
const LAYERS: Record<string, { dir: string; may: readonly string[] }> = {
  contract: { dir: "packages/contract", may: [] },
  store: { dir: "packages/store", may: ["contract"] },
  data: { dir: "packages/data", may: ["contract"] },
  engine: { dir: "packages/engine", may: ["contract", "store", "data"] },
  worker: { dir: "packages/worker", may: ["contract", "store", "data", "engine"] },
  server: { dir: "apps/server", may: ["contract", "store", "engine", "worker"] },
  sdk: { dir: "packages/sdk", may: ["contract"] },
  // `sailfin serve`, `worker` and `models create-tiny` load the server, worker and engine lazily.
  cli: { dir: "packages/cli", may: ["contract", "sdk", "engine", "worker", "server"] },
  console: { dir: "apps/console", may: ["contract", "sdk"] },
};

/** Files of the worker and the server that still run SQL themselves; none may be added. */
const SQL_BASELINE: readonly string[] = [];
const SQL_FREE = ["packages/worker/src", "apps/server/src", "packages/sdk/src", "packages/cli/src", "apps/console/src"];
const SQL_CALL = /\.(?:selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\bsql`/;

/** `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`: every specifier. */
const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      if (name === "node_modules" || name === "dist") continue;
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(?:ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
    }
  };
  walk(join(root, dir));
  return out;
}

function specifiers(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

test("each package imports only the packages below it, and declares them", () => {
  const problems: string[] = [];
  for (const [name, layer] of Object.entries(LAYERS)) {
    const manifest = JSON.parse(readFileSync(join(root, layer.dir, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies }));
    for (const file of sources(join(layer.dir, "src"))) {
      const at = relative(root, file);
      for (const spec of specifiers(file)) {
        const target = /^@sailfin\/([^/]+)/.exec(spec)?.[1];
        if (target !== undefined && target !== name) {
          if (!layer.may.includes(target)) problems.push(`${at} imports @sailfin/${target}: ${name} may import ${layer.may.join(", ") || "no @sailfin package"}`);
          else if (!declared.has(`@sailfin/${target}`)) problems.push(`${at} imports @sailfin/${target}, which ${layer.dir}/package.json does not declare`);
        }
        if (spec.startsWith(".")) {
          const resolved = relative(join(root, layer.dir), resolve(dirname(file), spec));
          if (resolved.startsWith("..")) problems.push(`${at} reaches outside ${layer.dir} with "${spec}"`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("SQL stays in the store and the engine; the worker's and server's own SQL only shrinks", () => {
  const withSql = SQL_FREE.flatMap((dir) => sources(dir))
    .filter((file) => !/\.test\.tsx?$/.test(file) && SQL_CALL.test(readFileSync(file, "utf8")))
    .map((file) => relative(root, file))
    .sort();
  const added = withSql.filter((file) => !SQL_BASELINE.includes(file));
  assert.deepEqual(added, [], "new SQL outside packages/store and packages/engine: put it in an engine function");
  const gone = SQL_BASELINE.filter((file) => !withSql.includes(file));
  assert.deepEqual(gone, [], "these files no longer run SQL: take them off SQL_BASELINE so they stay that way");
});

test("the checks see what they check: a known import and an engine file's SQL are found", () => {
  assert.ok(specifiers(join(root, "packages/worker/src/worker.ts")).includes("@sailfin/engine"));
  assert.ok(SQL_CALL.test(readFileSync(join(root, "packages/engine/src/runs/reads.ts"), "utf8")));
  assert.ok(!SQL_CALL.test("const a = b.selectFromX;"));
});

test("one function queues runs: `runs` has a single INSERT in all the sources, tests included", () => {
  const insertsRuns = /\.insertInto\(\s*["'`]runs["'`]\s*\)/;
  const files = ["packages", "apps", "tests/src"].flatMap((dir) => sources(dir))
    .filter((file) => insertsRuns.test(readFileSync(file, "utf8")))
    .map((file) => relative(root, file));
  assert.deepEqual(files, ["packages/engine/src/queue/enqueue.ts"], "queue a run through the engine's enqueueRun");
  assert.ok(!insertsRuns.test('db.insertInto("run_checkpoints")'));
});
