/**
 * Deterministic, one-pass data selection: which records go to validation, and how many times
 * each record is used (sampling). Both are a hash of (seed, dataset position, record index, a
 * salt): the same inputs always give the same split, a record's fate never depends on the
 * others (so no second pass and no counting first), and changing the ratio only moves the
 * records whose hash lies between the old and the new threshold.
 *
 * The split is decided per record, before sampling, so a repeated record (samplingRate > 1)
 * never lands on both sides: validation never contains training data.
 */

const SPLIT_SALT = 0x5b1d;
const SAMPLE_SALT = 0x5a3e;

/** A uniform number in [0, 1) from the four 32-bit inputs (murmur3's finaliser, chained). */
function unitHash(seed: number, dataset: number, record: number, salt: number): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ (dataset >>> 0));
  h = mix32(h ^ (record >>> 0) ^ Math.floor(record / 0x100000000));
  h = mix32(h ^ salt);
  return h / 0x100000000;
}

function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Whether record `record` of dataset `dataset` is held out: true for about `splitRatio` percent
 * of the records.
 *
 * @example isValidation({ seed: 42, dataset: 0, record: 7, splitRatio: 20 }) // false
 */
export function isValidation(at: { seed: number; dataset: number; record: number; splitRatio: number }): boolean {
  if (at.splitRatio <= 0) return false;
  if (at.splitRatio >= 100) return true;
  return unitHash(at.seed, at.dataset, at.record, SPLIT_SALT) * 100 < at.splitRatio;
}

/**
 * How many times a record is used: `floor(rate)` times plus once more with probability
 * `rate - floor(rate)` (so 0.3 keeps ~30% of the records, 2.5 uses each 2 or 3 times, 2.5 on
 * average). `samplingRate` is clamped to Qianfan's [0.01, 10].
 *
 * @example copies({ seed: 42, dataset: 0, record: 3, samplingRate: 2 }) // 2
 */
export function copies(at: { seed: number; dataset: number; record: number; samplingRate: number }): number {
  const rate = Math.min(10, Math.max(0.01, at.samplingRate));
  const whole = Math.floor(rate);
  const fraction = rate - whole;
  if (fraction === 0) return whole;
  return whole + (unitHash(at.seed, at.dataset, at.record, SAMPLE_SALT) < fraction ? 1 : 0);
}
