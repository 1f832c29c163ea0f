import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GenerateAnswerLine, RuntimeGenerateSpec } from "@sailfin/contract";
import { ChatRenderer, loadTokenizer, stopTokenIds, type ChatMessage, type LoadedTokenizer } from "@sailfin/data";
import type { RunDeps } from "./deps.js";
import { runtimeFailure } from "./runtime-failure.js";

/**
 * Render → tokenize → generate → decode, once for every kind that has a model version answer
 * conversations offline (batch inference; evaluation's per-version step is the same work). The
 * prompts are rendered with the version's own chat template and tokenized here; the runtime's
 * `generate` recipe answers them in one batched process; the answers are decoded here, the end
 * tokens dropped and the text cut at the first stop string.
 */

/** Rows the runtime decodes together (evaluation measured 16 as the CPU sweet spot on tiny and 0.5B models). */
const BATCH_SIZE = 16;

/** How the version generates: Qianfan's chat parameters as Sailfin resolved them. */
interface GenerationParams {
  /** null: greedy. */
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly repetitionPenalty: number;
  readonly maxNewTokens: number;
  /** Text stops: the answer ends before the first one (it is not part of the answer). */
  readonly stop: readonly string[];
  readonly seed: number;
}

/** One conversation's answer. */
interface GeneratedAnswer {
  readonly text: string;
  /** `missing`: the runtime wrote no line for it (never expected; kept visible rather than hidden). */
  readonly finishReason: "stop" | "length" | "missing";
  readonly promptTokens: number;
  /** Generated ids, the end token included (what the model spent). */
  readonly completionTokens: number;
}

interface GenerateAnswersInput {
  /** Local folder of the model version (safetensors, config, tokenizer). */
  readonly modelDir: string;
  /** Each ends with the user turn to answer; a system message may come first. */
  readonly conversations: readonly (readonly ChatMessage[])[];
  readonly params: GenerationParams;
  /** Scratch folder of this node (prompts, answers and spec files; never uploaded). */
  readonly workDir: string;
  /** Distinguishes several generations of one run (`unit-0`); file names and the executor's job key. */
  readonly name: string;
  readonly progressOffset?: number;
  readonly progressScale?: number;
}

type GenerateAnswersOutcome =
  | { readonly kind: "done"; readonly answers: GeneratedAnswer[]; readonly generatedTokens: number; readonly tokensPerSecond: number }
  /** The version's files could not be prepared or its generation failed: the message says why. */
  | { readonly kind: "failed"; readonly reason: string }
  | { readonly kind: "stopped" }
  | { readonly kind: "lost" };

/**
 * Answers every conversation with the model at `modelDir`, through the runtime.
 *
 * @example const out = await generateAnswers(deps, { modelDir, conversations: [[{ role: "user", content: "hi" }]], params, workDir, name: "batch" });
 */
export async function generateAnswers(deps: RunDeps, input: GenerateAnswersInput): Promise<GenerateAnswersOutcome> {
  const { workDir, name, params } = input;
  let tok: LoadedTokenizer;
  let promptIds: number[][];
  try {
    tok = await loadTokenizer(input.modelDir);
    const chat = new ChatRenderer({ template: tok.chatTemplate, tokens: tok.templateTokens, addedTokens: tok.addedTokens });
    promptIds = input.conversations.map((messages) => tok.encode(chat.render([...messages], true)));
  } catch (error) {
    return { kind: "failed", reason: `preparing prompts: ${(error as Error).message}` };
  }
  const promptsFile = join(workDir, `${name}.prompts.jsonl`);
  const outputFile = join(workDir, `${name}.answers.jsonl`);
  await writeFile(promptsFile, promptIds.map((ids, i) => JSON.stringify({ id: String(i), ids })).join("\n") + "\n");
  const eos = stopTokenIds(tok);
  const spec: RuntimeGenerateSpec = {
    version: 1, modelDir: input.modelDir, promptsFile, outputFile, maxNewTokens: params.maxNewTokens,
    doSample: params.temperature !== null, temperature: params.temperature ?? 1, topP: params.topP ?? 1, topK: 0,
    repetitionPenalty: params.repetitionPenalty, eosTokenIds: eos,
    stopSequences: params.stop.map((s) => tok.encode(s)).filter((ids) => ids.length > 0), batchSize: BATCH_SIZE, seed: params.seed,
    device: deps.settings.device, dtype: "auto",
  };
  const runtime = await deps.runRuntime({
    recipe: "generate", jobKey: `${deps.run.id}/generate/${name}`, specPath: join(workDir, `${name}.spec.attempt-${deps.run.attempt}.json`),
    spec, keepCheckpoints: 1,
    ...(input.progressOffset === undefined ? {} : { progressOffset: input.progressOffset }),
    ...(input.progressScale === undefined ? {} : { progressScale: input.progressScale }),
  });
  if (runtime.kind === "lost") return runtime;
  const { ending, result } = runtime;
  if (ending?.kind === "stopped" || deps.signal.aborted) return { kind: "stopped" };
  if (ending?.kind !== "done" || result.exitCode !== 0) return { kind: "failed", reason: runtimeFailure("generate", ending, result).reason };

  const rows = new Map<string, GenerateAnswerLine>();
  for (const line of (await readFile(outputFile, "utf8")).split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line) as GenerateAnswerLine;
    rows.set(row.id, row);
  }
  const eosSet = new Set(eos);
  const answers = promptIds.map((ids, i): GeneratedAnswer => {
    const row = rows.get(String(i));
    if (row === undefined) return { text: "", finishReason: "missing", promptTokens: ids.length, completionTokens: 0 };
    const text = cutAtStop(tok.decode(row.ids.filter((id) => !eosSet.has(id))), params.stop).trim();
    return { text, finishReason: row.finishReason, promptTokens: row.promptTokens, completionTokens: row.ids.length };
  });
  const out = ending.outputs;
  return {
    kind: "done", answers,
    generatedTokens: typeof out.generatedTokens === "number" ? out.generatedTokens : answers.reduce((n, a) => n + a.completionTokens, 0),
    tokensPerSecond: typeof out.tokensPerSecond === "number" ? out.tokensPerSecond : 0,
  };
}

/** The text before the first stop string (the stop string itself is not part of the answer). */
export function cutAtStop(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const stop of stops) {
    const at = stop === "" ? -1 : text.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}
