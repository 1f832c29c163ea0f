#!/usr/bin/env node
// Runs every compiled test file (`**/dist/**/*.test.js`) with node's test runner, then the
// Python runtime's tests with pytest (Debian's torch: scripts/setup-runtime-deps.sh), then the
// distributed ones again with PyPI's torch 2.x (scripts/setup-torch2-venv.sh).
// Node 20's --test takes no globs, so the files are found here. Narrow with arguments:
//   node scripts/run-tests.mjs store      # only files whose path contains "store"
// The lifecycle files in S3_LIFECYCLE run a second time with their artifacts in S3 (a real
// SeaweedFS per file; SQLite only): SAILFIN_TEST_ARTIFACTS=s3. Set SAILFIN_TEST_ARTIFACTS to
// choose one store yourself (then nothing runs twice).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
/**
 * The end-to-end lifecycle files that run on S3 artifacts too (tests/src/harness.ts testAxes):
 * about 3.5 min more on 2 loaded cores. models.test.js takes the axis as well (30 s; by hand).
 */
// Runtime test files run a second time on PyPI's torch 2.x (the features Debian's 1.13 lacks).
const TORCH2_TESTS = [
  "runtime/tests/test_distributed.py", "runtime/tests/test_fsdp.py", "runtime/tests/test_qlora.py",
  "runtime/tests/test_parity.py", "runtime/tests/test_architectures.py",
  // The attention backends (SDPA, FlexAttention) and the chunked loss (1.13 skips them).
  "runtime/tests/test_attention.py", "runtime/tests/test_losses.py",
];
const S3_LIFECYCLE = [
  "tests/dist/worker.test.js", "tests/dist/evaluation-e2e.test.js", "tests/dist/import-runs.test.js", "tests/dist/finetune.test.js",
  "tests/dist/batch-inference.test.js", "tests/dist/openai-files.test.js",
];
const roots = ["packages", "apps", "tests"];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".test.js") && path.includes(`${"/"}dist${"/"}`)) files.push(relative(root, path));
  }
};
for (const r of roots) walk(join(root, r));
const filters = process.argv.slice(2);
const selected = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
const runPython = existsSync(join(root, "runtime/tests")) && (filters.length === 0 || filters.includes("runtime"));
if (selected.length === 0 && !runPython) {
  console.error("no test files found; did the build run?");
  process.exit(1);
}
const concurrency = process.env.SAILFIN_TEST_CONCURRENCY ?? "2";
// Both database dialects unless narrowed (SAILFIN_TEST_DIALECTS=sqlite when no PostgreSQL is at hand).
const dialects = process.env.SAILFIN_TEST_DIALECTS ?? "sqlite,postgres";
if (dialects.split(",").includes("postgres")) {
  const url = new URL(process.env.SAILFIN_TEST_PG_URL ?? "postgres://sailfin:sailfin@127.0.0.1:5432/sailfin");
  const probe = spawnSync(process.execPath, ["-e", `
    const s = require("node:net").connect(${Number(url.port || 5432)}, ${JSON.stringify(url.hostname)});
    s.on("connect", () => process.exit(0)); s.on("error", () => process.exit(1));`]);
  if (probe.status !== 0) {
    console.error(`PostgreSQL is not reachable at ${url.host}: run \`sudo bash scripts/setup-postgres.sh\`, ` +
      "or test SQLite only with SAILFIN_TEST_DIALECTS=sqlite npm test");
    process.exit(1);
  }
}
let status = 0;
const runNode = (files, env) => spawnSync(
  process.execPath,
  ["--enable-source-maps", "--test", `--test-concurrency=${concurrency}`, ...files],
  { stdio: "inherit", cwd: root, env: { ...process.env, SAILFIN_LOG_LEVEL: process.env.SAILFIN_LOG_LEVEL ?? "silent", ...env } },
).status ?? 1;
if (selected.length > 0) status = runNode(selected, { SAILFIN_TEST_DIALECTS: dialects });
const onS3 = process.env.SAILFIN_TEST_ARTIFACTS === undefined ? selected.filter((f) => S3_LIFECYCLE.includes(f)) : [];
if (onS3.length > 0) {
  console.log(`# the lifecycle files again, artifacts in S3: ${onS3.join(" ")}`);
  const s3Status = runNode(onS3, { SAILFIN_TEST_DIALECTS: "sqlite", SAILFIN_TEST_ARTIFACTS: "s3" });
  if (status === 0) status = s3Status;
}
if (runPython) {
  // An empty SAILFIN_PYTHON counts as unset, as in scripts/setup-test-env.mjs.
  const python = process.env.SAILFIN_PYTHON || "/usr/bin/python3";
  const result = spawnSync(python, ["-m", "pytest", "runtime/tests", "-q", "-p", "no:cacheprovider"], { stdio: "inherit", cwd: root });
  if (result.error) console.error(`cannot run ${python} -m pytest (${result.error.message}): run scripts/setup-runtime-deps.sh`);
  if (status === 0) status = result.status ?? 1;
  // The distributed tests again on PyPI's torch 2.x, where full fine-tuning shards with FSDP2 and
  // torchrun works (Debian's 1.13 has neither); SAILFIN_TORCH2_PYTHON names another interpreter.
  // Parity and the architectures' training also run there (SDPA with masks is torch 2's attention path),
  // and test_qlora.py: NF4 under torch 2.x autocast (torch.get_autocast_dtype).
  let torch2 = process.env.SAILFIN_TORCH2_PYTHON || null;
  if (torch2 === null) {
    const check = spawnSync("bash", [join(root, "scripts/setup-torch2-venv.sh"), "--check"], { cwd: root, encoding: "utf8" });
    torch2 = check.status === 0 ? check.stdout.trim().split("\n").pop().replace(/^TORCH2_PYTHON=/, "") : null;
    if (torch2 === null) console.error(`no torch 2 venv for the FSDP tests: ${check.stderr.trim()}`);
  }
  const fsdp = torch2 === null ? { status: 1 }
    : spawnSync(torch2, ["-m", "pytest", ...TORCH2_TESTS, "-q", "-p", "no:cacheprovider"], { stdio: "inherit", cwd: root });
  if (status === 0) status = fsdp.status ?? 1;
}
process.exit(status);
