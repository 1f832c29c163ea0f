/**
 * `@sailfin/contract/api`: the browser-safe half of the contract. The V1 and V2 request schemas
 * (zod; the server validates with these very objects), the result types the server's renderers
 * are annotated with, and the canonical strings of bce-auth-v1. Nothing reachable from here may
 * import a Node built-in: the SDK (and through it the web console) loads this module, and
 * tests/src/sdk-browser-safe.test.ts walks the compiled graph to keep it so.
 */
export * from "./common.js";
export * from "./datasets.js";
export * from "./finetuning.js";
export * from "./models.js";
export * from "./compression.js";
export * from "./batch-inference.js";
export * from "./evaluations.js";
export * from "./exports.js";
export * from "./services.js";
export * from "./v1-datasets.js";
export * from "./v1-evaluations.js";
export * from "./v1-finetune.js";
export * from "./v1-models.js";
export * from "./iam.js";
export * from "./chat.js";
export * from "./openai-files.js";
export * from "./objects.js";
export * from "./session.js";
export * from "./sign-in-body.js";
export * from "../bce-canonical.js";
export * from "../states.js";
export { PageFields, V1Id, nameField } from "../validate.js";
export { ACTIONS, POLICY_NAMES, type Action, type PolicyName } from "../policies.js";
export * from "./openai-use.js";
export * from "./openai-jobs.js";
