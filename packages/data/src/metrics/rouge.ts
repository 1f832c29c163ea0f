/**
 * ROUGE-1, ROUGE-2 and ROUGE-L F-measures, computed as Google's `rouge-score` package (0.1.2,
 * `rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])`) does, but on metric tokens instead
 * of its ASCII-only tokenizer (which drops every Chinese character):
 *
 * - ROUGE-N: overlap = Σ min(count in reference, count in prediction) over n-grams;
 *   P = overlap / max(1, prediction n-grams), R = overlap / max(1, reference n-grams);
 * - ROUGE-L: L = longest common subsequence length; P = L / |prediction|, R = L / |reference|,
 *   0 when either side is empty;
 * - F = 2PR / (P + R), 0 when P + R = 0.
 */

import { metricTokens, type StopWords } from "./tokens.js";

interface RougeScores {
  rouge1: number;
  rouge2: number;
  rougeL: number;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function rougeN(prediction: readonly string[], reference: readonly string[], n: number): number {
  const grams = (tokens: readonly string[]) => {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join("\u0000");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  const pred = grams(prediction);
  const ref = grams(reference);
  let overlap = 0;
  for (const [gram, count] of ref) overlap += Math.min(count, pred.get(gram) ?? 0);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return fmeasure(overlap / Math.max(1, total(pred)), overlap / Math.max(1, total(ref)));
}

/** LCS length with two rolling rows: O(|a|·|b|) time, O(|b|) memory. */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Uint32Array(b.length + 1);
  let row = new Uint32Array(b.length + 1);
  for (const x of a) {
    for (let j = 1; j <= b.length; j++) {
      row[j] = x === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    }
    [prev, row] = [row, prev];
  }
  return prev[b.length]!;
}

/**
 * ROUGE F-measures of tokenized texts, each in 0..1.
 *
 * @example rougeTokens(["a", "b", "c"], ["a", "c"]) // { rouge1: 0.8, rouge2: 0, rougeL: 0.8 }
 */
export function rougeTokens(prediction: readonly string[], reference: readonly string[]): RougeScores {
  const lcs = prediction.length === 0 || reference.length === 0 ? 0 : lcsLength(reference, prediction);
  return {
    rouge1: rougeN(prediction, reference, 1),
    rouge2: rougeN(prediction, reference, 2),
    rougeL: lcs === 0 ? 0 : fmeasure(lcs / prediction.length, lcs / reference.length),
  };
}

/**
 * ROUGE F-measures of a prediction against its reference, tokenized with {@link metricTokens}.
 *
 * @example rouge("今天天气很好", "今天天气不错") // { rouge1: 0.666…, rouge2: 0.6, rougeL: 0.666… }
 */
export function rouge(prediction: string, reference: string, stopWords?: StopWords): RougeScores {
  return rougeTokens(metricTokens(prediction, stopWords), metricTokens(reference, stopWords));
}
