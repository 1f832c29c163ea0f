import { z } from "zod";

/**
 * The runtime's events: one JSON object per stdout line (docs/runtime-protocol.md), each with
 * `event` and `time` (epoch seconds). Non-finite floats arrive as null. Parsing strips unknown keys (a newer
 * runtime's extra field must not fail a run); the generated JSON Schema is closed
 * (`additionalProperties: false`), so a field the runtime starts emitting fails the runtime's
 * schema test until it is added here.
 */

const time = z.number();
const step = z.int().min(0);
const count = z.int().min(0);
const measure = z.number().nullable();

export const RuntimeStartedEvent = z.object({
  event: z.literal("started"), time,
  totalSteps: count, trainRows: count, trainedTokensPerEpoch: count,
  device: z.string(), precision: z.string(), torch: z.string(),
  parameters: count, trainableParameters: count, resumedFromStep: step,
});

export const RuntimeMetricsEvent = z.object({
  event: z.literal("metrics"), time,
  step, epoch: z.number(), loss: measure, lr: z.number(), gradNorm: measure,
  /** Trained tokens per second. */
  tokensPerSecond: z.number(),
  /** Cumulative trained tokens. */
  trainedTokens: count,
});

/** Training counts steps; quantize and generate count work items (`done` of `total`) instead. */
export const RuntimeProgressEvent = z.object({
  event: z.literal("progress"), time,
  step: step.optional(), totalSteps: count.optional(), done: count.optional(), total: count.optional(),
});

const RuntimeEvalEvent = z.object({
  event: z.literal("eval"), time, step, evalLoss: measure, perplexity: measure,
});

export const RuntimeCheckpointEvent = z.object({
  event: z.literal("checkpoint"), time, step,
  /** Absolute path of the checkpoint folder. */
  path: z.string(), trainLoss: measure, evalLoss: measure,
});

/** `done` outputs, per recipe. */
const RuntimeFinetuneOutputs = z.object({ lastCheckpoint: z.string().nullable() });
const RuntimeExportOutputs = z.object({ modelDir: z.string() });
const RuntimeQuantizeOutputs = z.object({
  modelDir: z.string(),
  /** Bytes of the weight files. */
  sizeBefore: count, sizeAfter: count,
  /** null without an evalSplit. */
  perplexityBefore: measure, perplexityAfter: measure,
  quantizedModules: count, seconds: z.number(),
});
const RuntimeGenerateOutputs = z.object({
  outputFile: z.string(), generatedTokens: count, tokensPerSecond: z.number(), seconds: z.number(),
});

/** Each recipe's `done` outputs, by recipe name; `serve` runs until stopped and never sends `done` (one would break the protocol). */
export const RUNTIME_OUTPUTS = {
  finetune: RuntimeFinetuneOutputs,
  export: RuntimeExportOutputs,
  quantize: RuntimeQuantizeOutputs,
  generate: RuntimeGenerateOutputs,
  serve: z.never(),
} as const;
export type RuntimeRecipe = keyof typeof RUNTIME_OUTPUTS;

export const RuntimeDoneEvent = z.object({
  event: z.literal("done"), time,
  /** null for recipes without steps. */
  step: step.nullable(),
  outputs: z.union([RuntimeFinetuneOutputs, RuntimeExportOutputs, RuntimeQuantizeOutputs, RuntimeGenerateOutputs]),
});

/** Exited on SIGTERM; recipes without steps say how many work items were done. */
export const RuntimeStoppedEvent = z.object({
  event: z.literal("stopped"), time,
  step: step.nullable(), checkpoint: z.string().nullable(), done: count.optional(), total: count.optional(),
});

/** `serve`: the model is loaded and the socket listens at `url` (`http://host:port`); sent exactly once. */
export const RuntimeReadyEvent = z.object({ event: z.literal("ready"), time, url: z.string() });

export const RuntimeErrorEvent = z.object({
  event: z.literal("error"), time,
  /** `user`: bad input, not retried; `system`: retried. */
  kind: z.enum(["user", "system"]),
  message: z.string(),
});

export const RuntimeEvent = z.discriminatedUnion("event", [
  RuntimeStartedEvent, RuntimeMetricsEvent, RuntimeProgressEvent, RuntimeEvalEvent, RuntimeCheckpointEvent,
  RuntimeDoneEvent, RuntimeStoppedEvent, RuntimeReadyEvent, RuntimeErrorEvent,
]);
export type RuntimeEvent = z.infer<typeof RuntimeEvent>;
export type RuntimeStartedEvent = z.infer<typeof RuntimeStartedEvent>;
export type RuntimeMetricsEvent = z.infer<typeof RuntimeMetricsEvent>;
export type RuntimeProgressEvent = z.infer<typeof RuntimeProgressEvent>;
export type RuntimeCheckpointEvent = z.infer<typeof RuntimeCheckpointEvent>;
export type RuntimeDoneEvent = z.infer<typeof RuntimeDoneEvent>;
export type RuntimeStoppedEvent = z.infer<typeof RuntimeStoppedEvent>;
export type RuntimeReadyEvent = z.infer<typeof RuntimeReadyEvent>;
export type RuntimeErrorEvent = z.infer<typeof RuntimeErrorEvent>;
