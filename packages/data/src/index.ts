export * from "./formats/index.js";
export * from "./line-reader.js";
export * from "./validate-jsonl.js";
export * from "./pipeline/index.js";
export * from "./metrics/index.js";
export { LineProblem, describeType, fail, isObject, type JsonPath } from "./formats/checks.js";
