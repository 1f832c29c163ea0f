/**
 * Sentence-level BLEU-4 over metric tokens, computed exactly as NLTK's
 * `sentence_bleu(references, hypothesis, smoothing_function=SmoothingFunction().method1)`
 * (NLTK 3.9–3.10, default weights (0.25, 0.25, 0.25, 0.25), auto_reweigh off):
 *
 * - p_n = clipped n-gram matches / max(1, hypothesis n-grams), the clip being the largest count of
 *   that n-gram in any one reference;
 * - smoothing "method 1" (Chen & Cherry 2014): a p_n with zero matches becomes 0.1 / denominator,
 *   so a short answer with no 4-gram match still scores instead of collapsing to 0. Note that
 *   when the hypothesis is shorter than n the denominator is max(1, 0) = 1, so p_n = 0.1;
 * - no unigram match at all gives 0 (NLTK returns 0 before smoothing);
 * - brevity penalty exp(1 - r / c) when c <= r, where c is the hypothesis length and r the length
 *   of the reference closest to c (the shorter one on a tie); 1 when c > r.
 *
 * sacrebleu's "exp" smoothing was the alternative; NLTK's method 1 is what most published
 * evaluation scripts for Chinese fine-tunes call, so its numbers are the ones users compare with.
 */

import { metricTokens, type StopWords } from "./tokens.js";

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // U+0000 cannot occur inside a token, so joining is an unambiguous key.
    const key = tokens.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Clipped matches and the hypothesis n-gram count (at least 1) for order `n`. */
function modifiedPrecision(hypothesis: readonly string[], references: readonly (readonly string[])[], n: number): [number, number] {
  const counts = ngramCounts(hypothesis, n);
  const refCounts = references.map((r) => ngramCounts(r, n));
  let matches = 0;
  let total = 0;
  for (const [gram, count] of counts) {
    const maxRef = Math.max(0, ...refCounts.map((r) => r.get(gram) ?? 0));
    matches += Math.min(count, maxRef);
    total += count;
  }
  return [matches, Math.max(1, total)];
}

const EPSILON = 0.1;

/**
 * BLEU-4 of one tokenized hypothesis against one or more tokenized references, in 0..1.
 * Returns 0 for an empty hypothesis or an empty reference list.
 *
 * @example bleu4Tokens(["a", "b", "c", "d"], [["a", "b", "c", "d"]]) // 1
 */
export function bleu4Tokens(hypothesis: readonly string[], references: readonly (readonly string[])[]): number {
  if (hypothesis.length === 0 || references.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= 4; n++) {
    const [matches, total] = modifiedPrecision(hypothesis, references, n);
    if (n === 1 && matches === 0) return 0;
    logSum += 0.25 * Math.log(matches === 0 ? EPSILON / total : matches / total);
  }
  const c = hypothesis.length;
  let r = references[0]!.length;
  for (const ref of references) {
    const d = Math.abs(ref.length - c);
    if (d < Math.abs(r - c) || (d === Math.abs(r - c) && ref.length < r)) r = ref.length;
  }
  const brevity = c > r ? 1 : Math.exp(1 - r / c);
  return brevity * Math.exp(logSum);
}

/**
 * BLEU-4 of a prediction against reference texts, tokenized with {@link metricTokens}.
 *
 * @example bleu4("我有3个apple", ["我有3个apple"]) // 1
 */
export function bleu4(prediction: string, references: readonly string[], stopWords?: StopWords): number {
  return bleu4Tokens(metricTokens(prediction, stopWords), references.map((r) => metricTokens(r, stopWords)));
}
