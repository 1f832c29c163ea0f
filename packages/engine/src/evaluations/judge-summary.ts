/**
 * The judge part of Qianfan's evaluation report (`effectMetric`): mean, population standard
 * deviation and median of the judge scores, and how many samples got each score, with "-1"
 * counting the samples the judge failed to score.
 */

interface JudgeSummary {
  avgJudgeScore: number;
  stdJudgeScore: number;
  medianJudgeScore: number;
  /** "min".."max" (every whole score in the range, zeros included) and "-1" (failed). */
  scoreDistribution: Record<string, number>;
}

/**
 * Summarises per-sample judge scores. A failed sample is `null` (or any value that is not a
 * finite number within [minScore, maxScore], such as Qianfan's -1); the statistics cover the
 * scored samples only and are 0 when there are none. A fractional score is counted under the
 * nearest whole score.
 *
 * @example judgeSummary([8, 6, null, 10], 1, 10)
 * // { avgJudgeScore: 8, stdJudgeScore: 1.633, medianJudgeScore: 8,
 * //   scoreDistribution: { "1": 0, …, "6": 1, "8": 1, "10": 1, "-1": 1 } }
 */
export function judgeSummary(scores: readonly (number | null)[], minScore: number, maxScore: number): JudgeSummary {
  const scoreDistribution: Record<string, number> = {};
  for (let s = Math.ceil(minScore); s <= Math.floor(maxScore); s++) scoreDistribution[String(s)] = 0;
  const valid: number[] = [];
  let failed = 0;
  for (const score of scores) {
    if (score === null || !Number.isFinite(score) || score < minScore || score > maxScore) {
      failed += 1;
      continue;
    }
    valid.push(score);
    // Kept inside the whole scores of the range when the bounds are fractional (1.4..10: 1.4 → "2").
    const bucket = String(Math.min(Math.floor(maxScore), Math.max(Math.ceil(minScore), Math.round(score))));
    scoreDistribution[bucket] = (scoreDistribution[bucket] ?? 0) + 1;
  }
  scoreDistribution["-1"] = failed;
  if (valid.length === 0) return { avgJudgeScore: 0, stdJudgeScore: 0, medianJudgeScore: 0, scoreDistribution };
  const mean = valid.reduce((a, b) => a + b, 0) / valid.length;
  const variance = valid.reduce((a, b) => a + (b - mean) ** 2, 0) / valid.length;
  const sorted = [...valid].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { avgJudgeScore: mean, stdJudgeScore: Math.sqrt(variance), medianJudgeScore: median, scoreDistribution };
}
