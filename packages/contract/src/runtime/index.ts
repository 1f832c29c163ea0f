export * from "./hyper-parameters.js";
export * from "./specs.js";
export * from "./events.js";
export * from "./json-schema.js";
