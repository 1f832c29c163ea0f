export * from "./formats/index.js";
export * from "./line-reader.js";
export * from "./validate-jsonl.js";
export * from "./pipeline/index.js";
export * from "./metrics/index.js";
