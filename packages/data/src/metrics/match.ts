/**
 * Answer-level metrics: exact match (Qianfan's "accuracy") and SQuAD-style token F1 ("f1Score").
 */

import { metricTokens, type StopWords } from "./tokens.js";

/**
 * The form two answers are compared in: NFKC (full-width → half-width), lower case, whitespace
 * runs collapsed to one space, and punctuation or whitespace at either end removed ("答案：A。"
 * and "答案:a" compare equal; inner punctuation is kept, so "3.14" ≠ "314").
 *
 * @example normalizeAnswer("  「Hello,   World!」 ") // "hello, world"
 */
export function normalizeAnswer(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/gu, " ")
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, "");
}

/**
 * 1 when the normalized prediction equals the normalized reference (see {@link normalizeAnswer}), else 0.
 *
 * @example exactMatch("北京。", "北京") // 1
 */
export function exactMatch(prediction: string, reference: string): 0 | 1 {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
}

/**
 * SQuAD v1.1's F1 on bags of metric tokens: overlap = Σ min(count in prediction, count in
 * reference), P = overlap / |prediction|, R = overlap / |reference|, F1 = 2PR / (P + R).
 * When either side has no tokens, 1 if both have none, else 0 (SQuAD v2's rule).
 *
 * @example tokenF1("北京是首都", "首都北京") // 0.888… (P = 4/5, R = 4/4)
 */
export function tokenF1(prediction: string, reference: string, stopWords?: StopWords): number {
  return tokenF1Tokens(metricTokens(prediction, stopWords), metricTokens(reference, stopWords));
}

/** {@link tokenF1} on tokens already split. */
export function tokenF1Tokens(prediction: readonly string[], reference: readonly string[]): number {
  if (prediction.length === 0 || reference.length === 0) return prediction.length === reference.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of reference) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of prediction) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      overlap += 1;
      counts.set(t, left - 1);
    }
  }
  if (overlap === 0) return 0;
  const p = overlap / prediction.length;
  const r = overlap / reference.length;
  return (2 * p * r) / (p + r);
}
