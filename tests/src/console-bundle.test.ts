import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * The built console stays small: the script index.html loads first (the app and React) within
 * its budget, and none of it carries zod, which would mean a browser-facing contract module
 * imports it again (docs/architecture.md "Web console"). Sizes are bytes after gzip -9, as a
 * server or CDN would send them; `npm run build` prints the same figures.
 */

const DIST = new URL("../../apps/console/dist/", import.meta.url).pathname;
const ENTRY_BUDGET_GZIP = 110 * 1024;
const TOTAL_BUDGET_GZIP = 150 * 1024;

test("the console's bundle: entry script within budget, every script together too, no zod", () => {
  assert.ok(existsSync(join(DIST, "index.html")), `${DIST}index.html is missing: run \`npm run build\``);
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  const entry = /<script type="module"[^>]*src="\/console\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(entry !== undefined, "index.html loads one module script from /console/assets/");
  const scripts = readdirSync(join(DIST, "assets")).filter((name) => name.endsWith(".js"));
  const gzipped = (name: string) => gzipSync(readFileSync(join(DIST, "assets", name)), { level: 9 }).length;
  const entrySize = gzipped(entry.slice("assets/".length));
  assert.ok(entrySize <= ENTRY_BUDGET_GZIP, `entry script ${entry}: ${(entrySize / 1024).toFixed(1)} KiB gzip, budget ${ENTRY_BUDGET_GZIP / 1024}`);
  const total = scripts.reduce((sum, name) => sum + gzipped(name), 0);
  assert.ok(total <= TOTAL_BUDGET_GZIP, `all scripts: ${(total / 1024).toFixed(1)} KiB gzip, budget ${TOTAL_BUDGET_GZIP / 1024}`);
  for (const name of scripts) {
    assert.doesNotMatch(readFileSync(join(DIST, "assets", name), "utf8"), /\$Zod[A-Z]/, `${name} bundles zod`);
  }
});
