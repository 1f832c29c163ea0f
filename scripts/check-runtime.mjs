#!/usr/bin/env node
// The first step of `npm run quickstart`, before the build: is there a Python with PyTorch, and if
// not, can this process install it? On a fresh clone the build takes about a minute, so the check
// cannot wait for it: the worker's own check (packages/worker/src/runtime-check.ts, and the
// python.ts it uses, which import only Node's built-ins) is transpiled on the spot (types stripped,
// no type-check, well under a second) and run. It installs the dependencies with
// scripts/setup-runtime-deps.sh where it can (root on Debian/Ubuntu), saying so in one line, and
// otherwise exits 1 within seconds with the exact command.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

const worker = new URL("../packages/worker/", import.meta.url).pathname;
// Beside src/ and dist/, so python.ts finds scripts/ by the same relative path as when built.
const out = join(worker, ".preflight");
mkdirSync(out, { recursive: true });
for (const name of ["python", "runtime-check"]) {
  const source = readFileSync(join(worker, "src", `${name}.ts`), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: `${name}.ts`,
  });
  writeFileSync(join(out, `${name}.js`), outputText);
}
const { ensureRuntime, RuntimeMissingError } = await import(pathToFileURL(join(out, "runtime-check.js")).href);

process.stdout.write("\n==> checking the training runtime (Python with PyTorch)\n");
try {
  const python = await ensureRuntime(process.env, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`using ${python}\n`);
} catch (error) {
  if (!(error instanceof RuntimeMissingError)) throw error;
  process.stderr.write(`quickstart: cannot train on this machine yet: ${error.message}\n`);
  process.exit(1);
}
