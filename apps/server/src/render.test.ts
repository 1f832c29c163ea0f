import { test } from "node:test";
import assert from "node:assert/strict";
import { asciiHeader } from "./render.js";

test("asciiHeader renders any string: lone surrogates as U+FFFD, never a throw, and bounded", () => {
  assert.equal(asciiHeader("plain text"), "plain text");
  assert.equal(asciiHeader("a\ud800b"), "a%EF%BF%BDb");
  assert.equal(asciiHeader("\udc00"), "%EF%BF%BD");
  assert.equal(asciiHeader("😀"), "%F0%9F%98%80");
  assert.equal(asciiHeader("nul\u0000"), "nul%00");
  const long = asciiHeader("x".repeat(1_000_000));
  assert.ok(long.length <= 600, `${long.length} chars`);
  assert.ok(long.endsWith("%E2%80%A6"), "cut text ends in an ellipsis");
  assert.ok(asciiHeader("中".repeat(1_000_000)).length <= 500 * 9);
});
