#!/usr/bin/env node
// `npm test`'s set-up, run before the tests: makes this machine ready for the whole suite with
// the same idempotent scripts .ci/run uses — PostgreSQL with its `sailfin` role
// (setup-postgres.sh), PyTorch and pytest for the runtime (setup-runtime-deps.sh), Go for the Go
// SDK test (setup-go.sh), Debian's chromium for the console test (setup-chromium.sh), a one-node
// Slurm cluster for the Slurm executor test (setup-slurm.sh), the official Python SDK's venv
// (setup-test-venv.sh), SeaweedFS, the S3 server of the artifact-store tests
// (setup-seaweedfs.sh), and PyPI's torch 2.x for the runtime's FSDP2 tests (setup-torch2-venv.sh). As root on Debian/Ubuntu it runs them (each
// installs only what is missing, so a ready machine costs about a second and no apt-get update);
// anywhere else it checks, and when something is missing says what and the command to run, then
// fails. SAILFIN_TEST_DIALECTS=sqlite leaves PostgreSQL out; SAILFIN_TEST_PG_URL points at a
// PostgreSQL that is only checked, never set up; SAILFIN_TEST_SETUP=check only checks, even as
// root (for a machine whose packages someone else manages).
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { findPython, hostFacts, onPath } from "@sailfin/worker";

const root = new URL("..", import.meta.url).pathname;
const script = (name) => join(root, "scripts", name);
const started = Date.now();
const env = process.env;
const dialects = (env.SAILFIN_TEST_DIALECTS ?? "sqlite,postgres").split(",");
const pgUrl = new URL(env.SAILFIN_TEST_PG_URL ?? "postgres://sailfin:sailfin@127.0.0.1:5432/sailfin");

/** Resolves true when a TCP connection to the PostgreSQL address opens within 2 s. */
const pgReachable = () => new Promise((resolve) => {
  const socket = connect(Number(pgUrl.port || 5432), pgUrl.hostname);
  const done = (ok) => { socket.destroy(); resolve(ok); };
  socket.setTimeout(2_000, () => done(false));
  socket.on("connect", () => done(true));
  socket.on("error", () => done(false));
});
const executable = (path) => { try { accessSync(path, constants.X_OK); return true; } catch { return false; } };
const imports = (python, module) => spawnSync(python, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;

/**
 * What the suite needs. `script` sets it up (root on Debian/Ubuntu); `missing()` says what is
 * absent (null: present), for everyone else.
 */
const needs = [
  ...(dialects.includes("postgres") ? [{
    name: "PostgreSQL",
    // A PostgreSQL named by SAILFIN_TEST_PG_URL belongs to someone else: checked, never set up.
    script: env.SAILFIN_TEST_PG_URL === undefined ? "setup-postgres.sh" : null,
    missing: async () => (await pgReachable()) ? null : `not reachable at ${pgUrl.host}`,
    other: "install PostgreSQL, create a role sailfin (password sailfin, CREATEDB), or point SAILFIN_TEST_PG_URL at one; or test SQLite only: SAILFIN_TEST_DIALECTS=sqlite npm test",
  }] : []),
  {
    name: "PyTorch",
    script: "setup-runtime-deps.sh",
    missing: async () => {
      const pytestPython = env.SAILFIN_PYTHON || "/usr/bin/python3";
      const torch = await findPython(env).then(() => null, (error) => `no Python interpreter with torch (tried ${error.tried ?? error.message})`);
      if (torch !== null) return torch;
      return imports(pytestPython, "pytest") ? null : `${pytestPython} cannot import pytest (the runtime's tests)`;
    },
    other: "python3 -m pip install torch numpy pytest, or set SAILFIN_PYTHON to an interpreter that has them",
  },
  {
    name: "Go",
    script: "setup-go.sh",
    missing: async () => (onPath("go", env) ? null : "no `go` on PATH (the Go SDK test builds tests/go)"),
    other: "install Go 1.19 or newer: https://go.dev/doc/install",
  },
  {
    name: "chromium",
    script: "setup-chromium.sh",
    missing: async () => (executable("/usr/bin/chromium") ? null : "no /usr/bin/chromium (the web console test drives it)"),
    other: "install chromium at /usr/bin/chromium",
  },
  {
    name: "Slurm",
    script: "setup-slurm.sh",
    missing: async () => (spawnSync("sinfo", ["-h"], { stdio: "ignore", env: { ...env, SLURM_CONF: env.SLURM_CONF ?? join(env.SAILFIN_SLURM_BASE ?? "/var/tmp/sailfin-slurm", "slurm.conf") } }).status === 0
      ? null : "no Slurm cluster answers sinfo (the Slurm executor test runs on a real one on localhost)"),
    other: "as root: bash scripts/setup-slurm.sh (Debian's slurmctld slurmd slurm-client munge), or point SLURM_CONF at a cluster",
  },
];

/** Runs a setup script quietly: its output is shown only when it installs something or fails. */
function runQuietly(name, args = []) {
  return new Promise((resolve) => {
    const child = spawn("bash", [script(name), ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (chunk) => {
      output += chunk;
      // Installing takes minutes: say so when it starts rather than after.
      for (const line of String(chunk).split("\n")) if (/installing/.test(line)) process.stdout.write(`${line}\n`);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const facts = hostFacts(env);
const canInstall = facts.root && facts.apt && facts.debian && env.SAILFIN_TEST_SETUP !== "check";
const problems = [];
for (const need of needs) {
  if (canInstall && need.script !== null) {
    const { code, output } = await runQuietly(need.script);
    if (code !== 0) problems.push(`${need.name}: scripts/${need.script} failed (exit ${code}):\n${output.trimEnd()}`);
    continue;
  }
  const missing = await need.missing();
  if (missing === null) continue;
  const fix = need.script !== null && facts.debian && facts.apt ? `sudo bash ${script(need.script)}` : need.other;
  problems.push(`${need.name}: ${missing}\n    fix: ${fix}`);
}
// The venv needs no root: made (or found ready) by whoever runs the tests, once the rest is there.
if (problems.length === 0) {
  const venv = await runQuietly("setup-test-venv.sh");
  if (venv.code !== 0) problems.push(`the official Python SDK's venv: scripts/setup-test-venv.sh failed:\n${venv.output.trimEnd()}`);
  // Neither does SeaweedFS, the artifact-store tests' S3 server: built from source once, then cached.
  const weed = await runQuietly("setup-seaweedfs.sh");
  if (weed.code !== 0) problems.push(`SeaweedFS (the S3 server): scripts/setup-seaweedfs.sh failed:\n${weed.output.trimEnd()}`);
  // PyPI's torch 2.x for the FSDP2/torchrun tests (about 4 GB, 2 minutes the first time); checked only in check mode.
  const torch2 = await runQuietly("setup-torch2-venv.sh", env.SAILFIN_TEST_SETUP === "check" ? ["--check"] : []);
  if (torch2.code !== 0) problems.push(`PyTorch 2 (the FSDP tests): scripts/setup-torch2-venv.sh failed:\n${torch2.output.trimEnd()}`);
}
if (problems.length > 0) {
  process.stderr.write(`setup-test-env: this machine is not ready for the tests:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
  process.exit(1);
}
const ready = [...needs.map((n) => n.name), "the SDK venv", "SeaweedFS", "PyPI torch 2"].join(", ");
process.stdout.write(`setup-test-env: ${ready} ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
