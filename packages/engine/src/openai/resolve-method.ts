import {
  SailfinError,
  type CreateOpenAiJobBody, type HyperParameterValue, type OpenAiJobMethod, type OpenAiResolvedHyperparameters,
  type SupportedParameterScale,
} from "@sailfin/contract";
import type { ResolvedBaseModelConfig } from "../models/index.js";
import { hyperParameterTable } from "../finetune/support-models.js";
import { validateHyperParameters } from "../finetune/validate-hyper-parameters.js";

/** What a create body's `method` (or deprecated `hyperparameters`) becomes. */
interface ResolvedOpenAiMethod {
  readonly trainMode: "SFT" | "DPO";
  /** Sailfin hyper-parameters for createRun (`epoch`, `batchSize`, `learningRate`, `seed`, `dpoBeta`). */
  readonly hyperParameters: Record<string, HyperParameterValue>;
  /** `method` with every `auto` replaced by the number used (stored, and shown by every read). */
  readonly method: OpenAiJobMethod;
}

/** OpenAI's names of the Sailfin keys, for errors naming the field the caller sent. */
const OPENAI_NAME: Readonly<Record<string, string>> = {
  epoch: "n_epochs", batchSize: "batch_size", learningRate: "learning_rate_multiplier", dpoBeta: "beta", seed: "seed",
};

/**
 * OpenAI's `n_epochs: "auto"` rule: 3 epochs, raised so epochs × examples reaches 100, lowered so
 * it stays within 25,000, and kept within 1–25.
 *
 * @example autoEpochs(20) // 5
 */
export function autoEpochs(examples: number): number {
  const n = Math.max(1, examples);
  let epochs = 3;
  if (epochs * n < 100) epochs = Math.ceil(100 / n);
  if (epochs * n > 25_000) epochs = Math.floor(25_000 / n);
  return Math.min(25, Math.max(1, epochs));
}

/** The `method.type` of a body; `reinforcement` is refused (Sailfin has no grader runtime). */
export function methodType(body: CreateOpenAiJobBody): "supervised" | "dpo" {
  const type = body.method?.type ?? "supervised";
  if (type === "reinforcement") {
    throw new SailfinError("UnsupportedMethod", { field: "method.type", detail: "reinforcement fine-tuning is not supported; use supervised or dpo" });
  }
  return type;
}

/**
 * Resolves the hyper-parameters of a create body against the table of the base model, train mode
 * and parameter scale (the one V2's `DescribeFineTuningSupportModels` shows): `auto` → the rule
 * above for `n_epochs`, Sailfin's default for `batch_size`, 1× for `learning_rate_multiplier`
 * (× the table's default learning rate), Sailfin's DPO beta for `beta`. Values out of Sailfin's
 * ranges are refused naming OpenAI's path (`method.supervised.hyperparameters.n_epochs`).
 *
 * @example resolveOpenAiMethod(body, { examples: 20, seed: 7, parameterScale: "LoRA", config })
 */
export function resolveOpenAiMethod(
  body: CreateOpenAiJobBody,
  context: { readonly examples: number; readonly seed: number; readonly parameterScale: SupportedParameterScale; readonly config: ResolvedBaseModelConfig },
): ResolvedOpenAiMethod {
  const type = methodType(body);
  const trainMode = type === "dpo" ? "DPO" : "SFT";
  // `method`'s own hyper-parameters win over the deprecated top-level object (reference §4).
  const fromMethod = type === "dpo" ? body.method?.dpo?.hyperparameters : body.method?.supervised?.hyperparameters;
  const given: { n_epochs?: number | "auto"; batch_size?: number | "auto"; learning_rate_multiplier?: number | "auto"; beta?: number | "auto" } =
    fromMethod ?? body.hyperparameters ?? {};
  const prefix = fromMethod != null || body.hyperparameters == null ? `method.${type}.hyperparameters` : "hyperparameters";

  const table = hyperParameterTable(trainMode, context.parameterScale, context.config);
  const defaultOf = (key: string) => table.find((d) => d.key === key)?.default;
  const nEpochs = given.n_epochs === undefined || given.n_epochs === "auto" ? autoEpochs(context.examples) : given.n_epochs;
  const batchSize = given.batch_size === undefined || given.batch_size === "auto" ? Number(defaultOf("batchSize")) : given.batch_size;
  const multiplier = given.learning_rate_multiplier === undefined || given.learning_rate_multiplier === "auto" ? 1 : given.learning_rate_multiplier;
  // OpenAI keeps the checkpoints of the last three epochs; the steps of an epoch are only known
  // once the data is packed into sequences, so Sailfin keeps its latest three saves (every
  // saveStep steps, at a pause, and at the end).
  const input: Record<string, HyperParameterValue> = {
    epoch: nEpochs, batchSize, learningRate: Number(defaultOf("learningRate")) * multiplier, seed: context.seed, checkpointCount: 3,
  };
  let beta: number | undefined;
  if (type === "dpo") {
    beta = given.beta === undefined || given.beta === "auto" ? Number(defaultOf("dpoBeta")) : given.beta;
    input.dpoBeta = beta;
  }
  let hyperParameters: Record<string, HyperParameterValue>;
  try {
    hyperParameters = validateHyperParameters(input, { trainMode, parameterScale: context.parameterScale, config: context.config }, { field: "\u0000" });
  } catch (error) {
    throw renamed(error, prefix);
  }
  const resolved: OpenAiResolvedHyperparameters = {
    n_epochs: nEpochs, batch_size: batchSize, learning_rate_multiplier: multiplier, ...(beta === undefined ? {} : { beta }),
  };
  const method: OpenAiJobMethod = type === "dpo"
    ? { type, dpo: { hyperparameters: resolved } }
    : { type, supervised: { hyperparameters: resolved } };
  return { trainMode, hyperParameters, method };
}

/** A table refusal (`\0.learningRate: must be in […]`) as the caller's field (`….learning_rate_multiplier`). */
function renamed(error: unknown, prefix: string): unknown {
  if (!(error instanceof SailfinError) || error.field === undefined || !error.field.startsWith("\u0000.")) return error;
  const key = error.field.slice(2);
  const name = OPENAI_NAME[key] ?? key;
  const field = name === "seed" ? "seed" : `${prefix}.${name}`;
  // OpenAI's messages are one sentence (the envelope shows the detail alone): it names the field.
  const detail = key === "learningRate"
    ? `learning_rate_multiplier gives a learning rate outside Sailfin's range: the learning rate ${error.detail ?? "is out of range"}`
    : `${name} ${error.detail ?? "is invalid"}`;
  return new SailfinError("InvalidParameter", { field, detail });
}
