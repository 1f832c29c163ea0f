import { test } from "node:test";
import assert from "node:assert/strict";
import { bar, bytes, clock, duration, loss, sparkline } from "./format.js";

test("bar fills by fraction and clamps", () => {
  assert.equal(bar(0.3), "[###-------]");
  assert.equal(bar(0), "[----------]");
  assert.equal(bar(1.7, 4), "[####]");
  assert.equal(bar(-1, 4), "[----]");
});

test("sparkline scales between the shown minimum and maximum, keeps the last `width`", () => {
  assert.equal(sparkline([8, 7, 6, 5, 4, 3, 2, 1]), "█▇▆▅▄▃▂▁");
  assert.equal(sparkline([1, 2, 3, 100, 0], 3), "▁█▁");
  assert.equal(sparkline([2, 2, 2]), "▄▄▄", "flat in the middle");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline([Number.NaN, 1, 2]), "▁█");
  assert.equal([...sparkline(Array.from({ length: 40 }, (_, i) => i), 16)].length, 16);
});

test("clock and duration", () => {
  assert.equal(clock(21), "0:21");
  assert.equal(clock(725), "12:05");
  assert.equal(clock(3723), "1:02:03");
  assert.equal(duration(34.4), "34 s");
  assert.equal(duration(725), "12 min 5 s");
  assert.equal(duration(7380), "2 h 3 min");
});

test("bytes and loss", () => {
  assert.equal(bytes(512), "512 B");
  assert.equal(bytes(1536), "1.5 KiB");
  assert.equal(bytes(3.4 * 1024 * 1024), "3.4 MiB");
  assert.equal(bytes(200 * 1024), "200 KiB");
  assert.equal(loss(1.23456), "1.235");
  assert.equal(loss(0.0123456), "0.01235");
});
