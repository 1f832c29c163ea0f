import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ROUTES, routeName } from "@sailfin/server";
import { NODE_SDK_ROUTES } from "./sdk-node-coverage.js";

/**
 * Every route of both dialects (Sailfin's `extension` actions aside) is called through the
 * official Node SDK's `consoleAction` by some test file. The lists are static
 * (sdk-node-coverage.ts), so this holds whatever order the files run in; each file proves its
 * own list at its end.
 */

const declared = new Set(Object.values(NODE_SDK_ROUTES).flat());

test("every Qianfan route is called through the official Node SDK's consoleAction", () => {
  const uncovered = ROUTES.filter((r) => !(r.dialect === "v2" && r.extension)).map(routeName).filter((name) => !declared.has(name));
  assert.deepEqual(uncovered, [], `routes no consoleAction test file calls:\n  ${uncovered.join("\n  ")}`);
});

test("the coverage lists name only routes the server has", () => {
  const known = new Set(ROUTES.map(routeName));
  assert.deepEqual([...declared].filter((name) => !known.has(name)), []);
});

test("each listed file exists and checks its own list with expectReachedRoutes", () => {
  for (const file of Object.keys(NODE_SDK_ROUTES)) {
    const compiled = fileURLToPath(new URL(`./${file.replace(/\.ts$/, ".js")}`, import.meta.url));
    assert.ok(existsSync(compiled), `${file} is listed but not built (${compiled})`);
    const text = readFileSync(compiled, "utf8");
    assert.ok(text.includes(`expectReachedRoutes(sdk, "${file}")`), `${file} does not call expectReachedRoutes(sdk, "${file}")`);
  }
});
