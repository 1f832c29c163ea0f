import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { SailfinError, clip } from "./errors.js";
import { INT32_MAX, V1Id, assertSafeText, intField, parseWith } from "./validate.js";

const refusal = (value: unknown, prefix?: PropertyKey[]) => {
  try {
    assertSafeText(value, prefix);
  } catch (error) {
    assert.ok(error instanceof SailfinError);
    return { field: error.field, detail: error.detail };
  }
  return undefined;
};

test("assertSafeText names the first string or key holding NUL or an unpaired surrogate", () => {
  assert.equal(refusal({ a: "ok", b: ["😀", { c: "fine" }] }), undefined);
  assert.deepEqual(refusal({ a: "x\u0000" }), { field: "a", detail: "must not contain the NUL character (U+0000)" });
  assert.deepEqual(refusal({ a: { b: [1, "\ud800"] } }), { field: "a.b[1]", detail: "must be well-formed Unicode (it holds an unpaired surrogate)" });
  assert.equal(refusal({ a: "\udc00x" })?.field, "a");
  assert.equal(refusal({ a: "x\ud83d" })?.field, "a");
  assert.equal(refusal({ ["k\u0000"]: 1 })?.field, "k\\u0000");
  assert.equal(refusal("\u0000")?.field, undefined);
  assert.equal(refusal({ id: "\u0000" }, ["path"])?.field, "path.id");
});

test("assertSafeText walks any nesting JSON.parse accepts without recursion", () => {
  const depth = 200_000;
  const deep = JSON.parse(`${"[".repeat(depth)}"\\u0000"${"]".repeat(depth)}`);
  assert.match(refusal(deep)?.field ?? "", /^(\[0\]){66}\[…$/, "the path, clipped");
});

test("intField declares a range; V1Id numbers stay safe integers", () => {
  const schema = z.object({ step: intField(0, INT32_MAX) });
  assert.deepEqual(parseWith(schema, { step: INT32_MAX }), { step: INT32_MAX });
  for (const step of [INT32_MAX + 1, -1, 0.5, 1e21]) {
    assert.throws(() => parseWith(schema, { step }), (e: SailfinError) => e.field === "step" && e.detail === "must be an integer in [0, 2147483647]");
  }
  assert.throws(() => parseWith(schema, {}), (e: SailfinError) => e.detail === "is required");
  assert.equal(V1Id.safeParse(9007199254740993).success, false);
  assert.equal(V1Id.safeParse(42).success, true);
});

test("an error's field and detail are clipped, never cutting a surrogate pair", () => {
  const error = new SailfinError("NotFound", { field: "f".repeat(5_000), detail: `no ${"x".repeat(2_000_000)}` });
  assert.equal(error.field!.length, 200);
  assert.equal(error.detail!.length, 1_000);
  assert.ok(error.detail!.endsWith("…"));
  assert.equal(clip("ab😀cd", 4), "ab…");
  assert.equal(clip("short", 10), "short");
});
