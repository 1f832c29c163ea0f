/**
 * Qianfan's rule metrics for one evaluated sample, and their means for the report's
 * `effectMetric`. Every value is in 0..1 here (BLEU and ROUGE as fractions, not percentages);
 * a renderer that wants Qianfan's percentage-style numbers multiplies by 100 at the wire edge,
 * in one place.
 */

import { bleu4Tokens } from "./bleu.js";
import { exactMatch, tokenF1Tokens } from "./match.js";
import { rougeTokens } from "./rouge.js";
import { DEFAULT_STOP_WORDS, metricTokens, type StopWords } from "./tokens.js";

/** Per-sample rule metrics, named as in Qianfan's report and result list. */
export interface SampleMetrics {
  bleu4: number;
  rouge_1: number;
  rouge_2: number;
  rouge_l: number;
  /** Exact match after normalization: 0 or 1. */
  accuracy: 0 | 1;
  f1Score: number;
}

/** The rule part of the report's `effectMetric`: means over the samples. */
interface RuleMetricMeans {
  accuracy: number;
  f1Score: number;
  rouge_1: number;
  rouge_2: number;
  rouge_l: number;
  bleu4: number;
}

interface SampleMetricsOptions {
  /**
   * Removed before BLEU, ROUGE and F1 (never before exact match, which compares whole answers).
   * Defaults to {@link DEFAULT_STOP_WORDS}; pass {@link NO_STOP_WORDS} to keep every token.
   */
  stopWords?: StopWords;
}

/**
 * All rule metrics of one prediction against its reference; the text is tokenized once.
 *
 * @example sampleMetrics("北京", "北京。") // { bleu4: 0.316…, rouge_1: 1, rouge_2: 1, rouge_l: 1, accuracy: 1, f1Score: 1 }
 */
export function sampleMetrics(prediction: string, reference: string, options: SampleMetricsOptions = {}): SampleMetrics {
  const stopWords = options.stopWords ?? DEFAULT_STOP_WORDS;
  const pred = metricTokens(prediction, stopWords);
  const ref = metricTokens(reference, stopWords);
  const r = rougeTokens(pred, ref);
  return {
    bleu4: bleu4Tokens(pred, [ref]),
    rouge_1: r.rouge1,
    rouge_2: r.rouge2,
    rouge_l: r.rougeL,
    accuracy: exactMatch(prediction, reference),
    f1Score: tokenF1Tokens(pred, ref),
  };
}

/**
 * Arithmetic means of each metric over the samples; all zeros for an empty list (the report
 * fields are numbers, and a run with no samples scored nothing).
 *
 * @example aggregateMetrics([sampleMetrics("yes", "Yes."), sampleMetrics("no", "yes")]).accuracy // 0.5
 */
export function aggregateMetrics(list: readonly SampleMetrics[]): RuleMetricMeans {
  const keys = ["accuracy", "f1Score", "rouge_1", "rouge_2", "rouge_l", "bleu4"] as const;
  const means = { accuracy: 0, f1Score: 0, rouge_1: 0, rouge_2: 0, rouge_l: 0, bleu4: 0 };
  if (list.length === 0) return means;
  for (const key of keys) means[key] = list.reduce((sum, m) => sum + m[key], 0) / list.length;
  return means;
}
