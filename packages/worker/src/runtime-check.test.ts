import { test } from "node:test";
import assert from "node:assert/strict";
import { SETUP_RUNTIME_SCRIPT } from "./python.js";
import { ensureRuntime, runtimeFix, RuntimeMissingError } from "./runtime-check.js";

const DEBIAN = { apt: true, debian: true } as const;

test("a missing torch is installed only by root on Debian/Ubuntu; everyone else is told the exact command", () => {
  assert.deepEqual(runtimeFix({ ...DEBIAN, root: true }, undefined), { kind: "install", script: SETUP_RUNTIME_SCRIPT });
  const notRoot = runtimeFix({ ...DEBIAN, root: false }, undefined);
  assert.equal(notRoot.kind, "manual");
  assert.match(notRoot.kind === "manual" ? notRoot.message : "", new RegExp(`sudo bash ${SETUP_RUNTIME_SCRIPT.replace(/[.]/g, "\\.")}$`));
  for (const facts of [{ root: true, apt: false, debian: false }, { root: true, apt: true, debian: false }, { root: false, apt: false, debian: true }]) {
    const other = runtimeFix(facts, undefined);
    assert.equal(other.kind, "manual", JSON.stringify(facts));
    assert.match(other.kind === "manual" ? other.message : "", /pip install torch.*SAILFIN_PYTHON=/);
  }
});

test("an explicit SAILFIN_PYTHON without torch is never papered over by installing Debian's torch", () => {
  const fix = runtimeFix({ ...DEBIAN, root: true }, "/opt/py/bin/python3");
  assert.equal(fix.kind, "manual");
  assert.match(fix.kind === "manual" ? fix.message : "", /^SAILFIN_PYTHON=\/opt\/py\/bin\/python3 cannot import torch: .*unset it and run: bash .*setup-runtime-deps\.sh$/);
});

test("ensureRuntime stops within seconds with the command, having run nothing, when it cannot install", async () => {
  const said: string[] = [];
  const started = Date.now();
  await assert.rejects(
    ensureRuntime({ ...process.env, SAILFIN_PYTHON: "/nonexistent/python3" }, (line) => said.push(line), { root: false, apt: true, debian: true }),
    (error: unknown) => error instanceof RuntimeMissingError && /SAILFIN_PYTHON=\/nonexistent\/python3 cannot import torch/.test(error.message)
      && /tried \/nonexistent\/python3: spawn \/nonexistent\/python3 ENOENT/.test(error.message),
  );
  assert.deepEqual(said, [], "nothing was installed");
  assert.ok(Date.now() - started < 5_000);
});
