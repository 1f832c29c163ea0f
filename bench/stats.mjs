// Percentiles for the JavaScript benchmarks (bench/*.mjs).

/** The p-th percentile (nearest rank, 0–100) of a list of numbers. */
export const pct = (values, p) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

/** "p50 … ms, p95 … ms, max … ms": how the latency tables report a series. */
export const summary = (values) => `p50 ${pct(values, 50).toFixed(0)} ms, p95 ${pct(values, 95).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
