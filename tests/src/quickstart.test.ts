import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * README's run command, minus the build `npm test` already did: the quickstart script on a fresh
 * SAILFIN_HOME trains the tiny model, publishes it and prints the new version with its lineage.
 */
test("the quickstart runs end to end: import, upload, train, publish, compress, evaluate, export", { timeout: 600_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), "sailfin-quickstart-"));
  const script = fileURLToPath(new URL("../../scripts/quickstart.mjs", import.meta.url));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, SAILFIN_HOME: home, SAILFIN_PORT: "0" };
    delete env.SAILFIN_ACCESS_KEY;
    delete env.SAILFIN_SECRET_KEY;
    delete env.DATABASE_URL;
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [script], { env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("close", (exitCode) => resolve({ code: exitCode, output }));
    });
    assert.equal(code, 0, output);
    const losses = [...output.matchAll(/step +\d+ +loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    assert.ok(losses.length >= 5, output);
    assert.ok(losses.at(-1)! < losses[0]! * 0.6, `loss should fall visibly: ${losses.join(", ")}`);
    assert.match(output, /"state": "Ready"/);
    assert.match(output, /"trainSourceExtra"/);
    assert.match(output, /The new model version amv-[a-z0-9]{12} is Ready/);
    assert.match(output, /amva-[a-z0-9]{12} succeeded: amv-[a-z0-9]{12}/);
    // The evaluation table: the fine-tuned version scores better than the untuned base.
    const accuracy = (label: string) => Number(new RegExp(`^${label} +amv-[a-z0-9]{12} +(\\d\\.\\d+)`, "m").exec(output)?.[1]);
    assert.ok(accuracy("fine-tuned") > accuracy("base"), `fine-tuned ${accuracy("fine-tuned")} vs base ${accuracy("base")}\n${output}`);
    assert.match(output, /export amemt-[a-z0-9]{12}: Done, [\d.]+ KiB written/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
