import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ROUTES, routeName } from "@sailfin/server";

/**
 * What the official-SDK coverage checks share (sdk-node-coverage.ts, sdk-python-coverage.ts):
 * route names as `routeName` spells them, a suite's check of its own list, and the tests that
 * compare the union of all lists with the server's ROUTES.
 */

export const v2 = (resource: string, ...actions: string[]) => actions.map((action) => `POST /v2/${resource}?Action=${action}`);
export const v1 = (prefix: string, ...paths: string[]) => paths.map((path) => `POST ${prefix}${path}`);
export const FINETUNE = "/wenxinworkshop/finetune/";
export const MODELREPO = "/wenxinworkshop/modelrepo/";
export const DATASET = "/wenxinworkshop/dataset/";
export const EVAL = "/wenxinworkshop/modelrepo/eval/";

/** Fails naming each declared route that `reached` lacks. */
export function expectDeclaredReached(declared: readonly string[], reached: ReadonlySet<string>, message: string): void {
  assert.deepEqual(declared.filter((route) => !reached.has(route)), [], message);
}

/**
 * The coverage tests of one SDK: every Qianfan route (Sailfin's V2 `extension` actions aside) is
 * in some list, every listed route exists, and every listed file exists and checks its list by
 * calling `expectReachedRoutes(<driver>, "<file>")`.
 */
export function registerCoverageTests(options: {
  readonly lists: Readonly<Record<string, readonly string[]>>;
  /** "through the official Node SDK's consoleAction" … */
  readonly through: string;
  /** Who makes the calls, for the failure message ("consoleAction", "Python SDK"). */
  readonly caller: string;
  /** The driver variable the test files pass to expectReachedRoutes ("sdk", "py"). */
  readonly driver: string;
}): void {
  const declared = new Set(Object.values(options.lists).flat());

  test(`every Qianfan route is called ${options.through}`, () => {
    const uncovered = ROUTES.filter((r) => !(r.dialect === "v2" && r.extension)).map(routeName).filter((name) => !declared.has(name));
    assert.deepEqual(uncovered, [], `routes no ${options.caller} test file calls:\n  ${uncovered.join("\n  ")}`);
  });

  test("the coverage lists name only routes the server has", () => {
    const known = new Set(ROUTES.map(routeName));
    assert.deepEqual([...declared].filter((name) => !known.has(name)), []);
  });

  test("each listed file exists and checks its own list with expectReachedRoutes", () => {
    for (const file of Object.keys(options.lists)) {
      const compiled = fileURLToPath(new URL(`./${file.replace(/\.ts$/, ".js")}`, import.meta.url));
      assert.ok(existsSync(compiled), `${file} is listed but not built (${compiled})`);
      const text = readFileSync(compiled, "utf8");
      const call = `expectReachedRoutes(${options.driver}, "${file}")`;
      assert.ok(text.includes(call), `${file} does not call ${call}`);
    }
  });
}
