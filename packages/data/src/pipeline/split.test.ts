import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { copies, isValidation } from "./split.js";

describe("validation split and sampling", () => {
  test("the split is stable, close to the ratio, and grows only by adding records", () => {
    const held = (ratio: number, seed = 42, dataset = 0) =>
      Array.from({ length: 20_000 }, (_, record) => isValidation({ seed, dataset, record, splitRatio: ratio }));
    const ten = held(10);
    assert.deepEqual(ten, held(10), "same inputs, same split");
    const share = ten.filter(Boolean).length / ten.length;
    assert.ok(Math.abs(share - 0.1) < 0.01, `share ${share}`);
    const twenty = held(20);
    assert.ok(ten.every((v, i) => !v || twenty[i]), "raising the ratio only moves train records to validation");
    assert.notDeepEqual(held(10, 7), ten, "the seed changes the split");
    assert.notDeepEqual(held(10, 42, 1), ten, "each dataset has its own split");
    assert.ok(held(0).every((v) => !v));
    assert.ok(held(100).every(Boolean));
  });

  test("sampling rates: whole rates repeat exactly, fractions keep their share, deterministically", () => {
    const total = (rate: number, seed = 42) => Array.from({ length: 20_000 }, (_, record) => copies({ seed, dataset: 0, record, samplingRate: rate }));
    assert.ok(total(1).every((n) => n === 1));
    assert.ok(total(3).every((n) => n === 3));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const rate of [0.01, 0.3, 2.5, 10]) {
      const mean = sum(total(rate)) / 20_000;
      assert.ok(Math.abs(mean - rate) < Math.max(0.02, rate * 0.05), `rate ${rate}: mean ${mean}`);
    }
    assert.deepEqual(total(0.3), total(0.3));
    assert.ok(total(2.5).every((n) => n === 2 || n === 3));
    assert.equal(copies({ seed: 1, dataset: 0, record: 0, samplingRate: 50 }), 10, "clamped to 10");
  });
});
