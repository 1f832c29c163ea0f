import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { ChatMessage } from "@sailfin/data";
import { folderKey, isMissingArtifact } from "../artifacts/run-files.js";
import type { BatchInferenceResult, BatchInferenceSpec } from "../batch-inference/batch-spec.js";
import { InputLineError, readInputSamples, type InputSample } from "../batch-inference/input-samples.js";
import type { RunDeps } from "./deps.js";
import { defineRunKind } from "./define.js";
import { generateAnswers } from "./generate-answers.js";
import { failed, type RunOutcome } from "./outcome.js";

/** Samples one task answers at most: one generate process holds all prompts and answers in memory. */
const MAX_SAMPLES = 50_000;

const batchInferenceSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("batch-inference"),
  modelVersionId: z.string(),
  modelVersionNum: z.int(),
  modelId: z.string(),
  endpoint: z.string(),
  input: z.object({
    datasetVersionId: z.string().nullable(), uri: z.string(), keys: z.array(z.string()).min(1), dataFormat: z.string(), totalCount: z.int().nullable(),
  }),
  output: z.object({ uri: z.string(), key: z.string() }),
  params: z.object({
    temperature: z.number().nullable(), topP: z.number().nullable(), penaltyScore: z.number(), maxOutputTokens: z.int(),
    stop: z.array(z.string()), system: z.string().nullable(),
  }),
  inferenceParams: z.record(z.string(), z.unknown()),
  creator: z.string(),
}) satisfies z.ZodType<BatchInferenceSpec>;

/**
 * One attempt of a batch inference task: read every input line, answer them all with one
 * `generate` process, write one JSONL line per sample (the input, the reference when there is
 * one, the answer, why it ended, token counts) to the key createBatchTask chose (`spec.output`).
 * A stop publishes nothing: the answers of a stopped task are not written (the runtime writes
 * its answers file only as it finishes, so there is no honest partial file to offer).
 */
async function runBatchInference(spec: BatchInferenceSpec, deps: RunDeps): Promise<RunOutcome> {
  const source = spec.input.datasetVersionId ?? spec.input.uri;
  let samples: InputSample[] = [];
  try {
    for (const key of spec.input.keys) samples.push(...readInputSamples(await readFile(await deps.files.input(key), "utf8")));
  } catch (error) {
    if (isMissingArtifact(error)) return failed("user", `the input ${source} is gone (${error.message})`);
    if (error instanceof InputLineError) return failed("user", `input ${source}: ${error.message}`);
    throw error;
  }
  if (samples.length === 0) return failed("user", `input ${source} holds no samples`);
  if (samples.length > MAX_SAMPLES) return failed("user", `input ${source} holds ${samples.length} samples; a task answers at most ${MAX_SAMPLES}`);

  const version = await deps.reads.modelVersion({ num: spec.modelVersionNum });
  if (version === null || version.status !== "Ready" || version.artifactPath === null) {
    return failed("user", `model version ${spec.modelVersionId} no longer exists or is not Ready`);
  }
  const modelDir = await deps.files.input(folderKey(version.artifactPath));
  const { system } = spec.params;
  const conversations = samples.map((s): ChatMessage[] =>
    system === null || s.messages[0]?.role === "system" ? s.messages : [{ role: "system", content: system }, ...s.messages]);
  const generated = await generateAnswers(deps, {
    modelDir, conversations, workDir: await deps.files.output(`runs/${deps.run.id}/`), name: "batch",
    params: {
      temperature: spec.params.temperature, topP: spec.params.topP, repetitionPenalty: spec.params.penaltyScore,
      maxNewTokens: spec.params.maxOutputTokens, stop: spec.params.stop, seed: 42,
    },
  });
  if (generated.kind === "lost") return generated;
  if (generated.kind === "stopped") return { kind: "stopped", reason: "stopped before every sample was answered; no result was written" };
  if (generated.kind === "failed") return failed("user", generated.reason);

  const lines = generated.answers.map((a, i) => JSON.stringify({
    index: i, input: samples[i]!.input, ...(samples[i]!.reference === null ? {} : { reference: samples[i]!.reference }),
    answer: a.text, finishReason: a.finishReason, promptTokens: a.promptTokens, completionTokens: a.completionTokens,
  }));
  const { key } = spec.output;
  await deps.putArtifact(key, Buffer.from(`${lines.join("\n")}\n`, "utf8"));
  const result: BatchInferenceResult = {
    key, fileName: `${deps.run.id}.jsonl`, samples: samples.length,
    inputTokens: generated.answers.reduce((n, a) => n + a.promptTokens, 0),
    outputTokens: generated.answers.reduce((n, a) => n + a.completionTokens, 0),
    tokensPerSecond: generated.tokensPerSecond,
  };
  return { kind: "done", reason: `answered ${samples.length} samples with ${spec.modelVersionId}`, result };
}

export const batchInferenceRun = defineRunKind({
  kind: "batch-inference", noun: "batch inference", readAction: "service:read", concurrency: "evaluation", needsRuntime: true,
  spec: batchInferenceSpecSchema, run: runBatchInference,
});
