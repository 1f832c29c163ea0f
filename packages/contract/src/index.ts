export * from "./errors.js";
export * from "./ids.js";
export * from "./time.js";
export * from "./pagination.js";
export * from "./states.js";
export * from "./policies.js";
export * from "./bce-auth.js";
export * from "./validate.js";
export { z } from "zod";
