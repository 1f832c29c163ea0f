export { aggregateMetrics, sampleMetrics, type SampleMetrics } from "./sample-metrics.js";
export { stopWordSet, type StopWords } from "./tokens.js";
