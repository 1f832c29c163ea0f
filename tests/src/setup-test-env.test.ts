import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { hostFacts } from "@sailfin/worker";

/**
 * `npm test`'s set-up (scripts/setup-test-env.mjs). As root on Debian it runs the setup scripts
 * (installing what is missing: not something a test may do to the machine); here it runs in its
 * check-only mode (SAILFIN_TEST_SETUP=check, what a non-root user gets) on a PATH without Go,
 * and must say what is missing and the exact command, within seconds, and fail.
 */
test("the test set-up says what is missing and the command that installs it, then fails", async () => {
  const script = fileURLToPath(new URL("../../scripts/setup-test-env.mjs", import.meta.url));
  const setupGo = fileURLToPath(new URL("../../scripts/setup-go.sh", import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: "/usr/bin:/bin", SAILFIN_TEST_SETUP: "check", SAILFIN_TEST_DIALECTS: "sqlite" };
  delete env.SAILFIN_PYTHON;
  const started = Date.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (exitCode) => resolve({ code: exitCode, stdout, stderr }));
  });
  assert.equal(code, 1, stdout + stderr);
  assert.ok(Date.now() - started < 60_000);
  assert.match(stderr, /^setup-test-env: this machine is not ready for the tests:$/m);
  const debian = hostFacts().debian && existsSync("/usr/bin/apt-get");
  assert.match(stderr, new RegExp(`Go: no \`go\` on PATH.*\\n +fix: ${debian ? `sudo bash ${setupGo.replace(/[.]/g, "\\.")}` : "install Go 1\\.19 or newer"}`));
  assert.doesNotMatch(stderr, /PostgreSQL/, "SAILFIN_TEST_DIALECTS=sqlite needs none");
  assert.doesNotMatch(stdout + stderr, /installing/, "check mode installs nothing");
});
