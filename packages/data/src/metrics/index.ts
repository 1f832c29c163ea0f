export { bleu4, bleu4Tokens } from "./bleu.js";
export { exactMatch, normalizeAnswer, tokenF1, tokenF1Tokens } from "./match.js";
export { rouge, rougeTokens, type RougeScores } from "./rouge.js";
export { aggregateMetrics, sampleMetrics, type RuleMetricMeans, type SampleMetrics, type SampleMetricsOptions } from "./sample-metrics.js";
export { DEFAULT_STOP_WORDS, DEFAULT_STOP_WORD_LIST, NO_STOP_WORDS, metricTokens, parseStopWords, stopWordSet, type StopWords } from "./tokens.js";
