export * from "./files.js";
export * from "./upload-file.js";
export * from "./training-lines.js";
