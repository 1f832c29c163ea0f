import { z } from "zod";
import {
  SUPPORTED_PARAMETER_SCALES, TRAIN_MODES,
  type HyperParameterDef, type HyperParameterValue, type SupportedParameterScale, type TrainMode,
} from "../finetune.js";

/**
 * The one definition of every fine-tuning hyper-parameter (reference §6.2.3). From it come the
 * `DescribeFineTuningSupportModels` table and the request validation (engine), the `hyper`
 * object of the runtime's finetune spec (`runtimeHyper`) and that object's JSON Schema, which
 * the Python runtime reads its defaults and ranges from.
 *
 * Two ranges per parameter, on purpose: `checkValue` is what the API accepts (Qianfan's
 * product limits, shown to clients); `runtime` is what the runtime accepts (technical limits,
 * wider, so tests and direct runtime use can go past the product limits). A test keeps every
 * API value inside the runtime's range.
 */

/** The projections LoRA can adapt: the seven linear layers of a Llama/Qwen2 decoder layer. */
export const LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;

/** How the frozen base of a LoRA run is held: as loaded, or NF4 (QLoRA). */
const LORA_BASE_QUANTIZATIONS = ["None", "NF4"] as const;

/** Learning-rate schedules after warm-up. */
const SCHEDULER_NAMES = ["cosine", "linear", "constant"] as const;

/** A default that differs by parameter scale (the learning rate). */
type DefaultByScale = Readonly<Record<SupportedParameterScale, HyperParameterValue>>;

/** A hyper-parameter as DescribeFineTuningSupportModels lists it, plus what decides it per model and run. */
interface HyperParameterDefinition extends Omit<HyperParameterDef, "checkValue" | "default"> {
  /** The API's limits; `"model"`: the model decides (maxSeqLen's choices and default). */
  readonly checkValue: ReadonlyArray<number | string> | "model";
  readonly default: HyperParameterValue | DefaultByScale | "model";
  /** The parameter scales it applies to (all when absent). */
  readonly scales?: readonly SupportedParameterScale[];
  /** The train modes it applies to (all when absent). */
  readonly trainModes?: readonly TrainMode[];
  /**
   * How the runtime reads it under the same key: the runtime's own type and range; null when it
   * does not reach the runtime as such (maxSeqLen: the token shards fix the length;
   * loraAllLinear: it decides loraTargetModules).
   */
  readonly runtime: z.ZodType | null;
  /** The API value's runtime spelling, where they differ ("True"/"False" choices become booleans). */
  readonly toRuntime?: (value: HyperParameterValue) => unknown;
}

const TRUE_FALSE = ["True", "False"] as const;
const LORA = ["LoRA"] as const;

/** Keys in the table's order (clients read that order from DescribeFineTuningSupportModels). */
export const HYPER_PARAMETERS: readonly HyperParameterDefinition[] = [
  {
    key: "epoch", name: "Epochs", description: "Passes over the training data.",
    type: "int", checkType: "range", checkValue: [1, 50], default: 1, runtime: z.int().min(1),
  },
  {
    key: "learningRate", name: "Learning rate", description: "Peak learning rate of the optimizer.",
    type: "float", checkType: "range", checkValue: [1e-7, 1e-1], default: { FullFineTuning: 3e-5, LoRA: 3e-4 },
    runtime: z.number().gt(0).max(10),
  },
  {
    key: "batchSize", name: "Batch size", description: "Sequences per optimizer step (before gradient accumulation).",
    type: "int", checkType: "range", checkValue: [1, 512], default: 8, runtime: z.int().min(1),
  },
  {
    key: "maxSeqLen", name: "Max sequence length", description: "Tokens per training sequence; longer samples are truncated.",
    type: "int", checkType: "choice", checkValue: "model", default: "model", runtime: null,
  },
  {
    key: "loggingSteps", name: "Logging steps", description: "Steps between two logged metrics.",
    type: "int", checkType: "range", checkValue: [1, 100], default: 1, runtime: z.int().min(1),
  },
  {
    key: "warmupRatio", name: "Warm-up ratio", description: "Fraction of the steps spent warming the learning rate up.",
    type: "float", checkType: "range", checkValue: [0, 0.5], default: 0.1, runtime: z.number().min(0).max(1),
  },
  {
    key: "weightDecay", name: "Weight decay", description: "AdamW weight decay.",
    type: "float", checkType: "range", checkValue: [0, 0.1], default: 0.01, runtime: z.number().min(0).max(10),
  },
  {
    key: "schedulerName", name: "LR scheduler", description: "Learning-rate schedule after warm-up.",
    type: "string", checkType: "choice", checkValue: SCHEDULER_NAMES, default: "cosine", runtime: z.enum(SCHEDULER_NAMES),
  },
  {
    key: "gradientAccumulationSteps", name: "Gradient accumulation", description: "Batches accumulated per optimizer step.",
    // The runtime takes 0 as 1 (Qianfan's own range starts at 0).
    type: "int", checkType: "range", checkValue: [1, 64], default: 1, runtime: z.int().min(0),
  },
  {
    key: "checkpointCount", name: "Checkpoints kept", description: "How many of the latest checkpoints are kept.",
    type: "int", checkType: "range", checkValue: [1, 10], default: 1, runtime: z.int().min(1),
  },
  {
    key: "saveStep", name: "Save interval", description: "Steps between two checkpoints.",
    type: "int", checkType: "range", checkValue: [1, 1_000_000], default: 100, runtime: z.int().min(1),
  },
  {
    key: "seed", name: "Random seed", description: "Seed of data order and initialization.",
    type: "int", checkType: "range", checkValue: [0, 2 ** 31 - 1], default: 42, runtime: z.int().min(0),
  },
  {
    key: "maxGradNorm", name: "Gradient clipping", description: "Maximum global gradient norm (0 disables clipping).",
    type: "float", checkType: "range", checkValue: [0, 100], default: 1.0, runtime: z.number().min(0),
  },
  {
    key: "gradientCheckpointing", name: "Gradient checkpointing",
    description: "\"True\": recompute activations in the backward pass (less memory, slower steps).",
    type: "string", checkType: "choice", checkValue: TRUE_FALSE, default: "False", runtime: z.boolean(),
    toRuntime: (value) => value === "True",
  },
  {
    key: "loraRank", name: "LoRA rank", description: "Rank of the low-rank adapters.",
    type: "int", checkType: "choice", checkValue: [2, 4, 8, 16, 32, 64], default: 8, scales: LORA, runtime: z.int().min(1),
  },
  {
    key: "loraAlpha", name: "LoRA alpha", description: "Scaling numerator of the adapters (scale = alpha / rank).",
    type: "int", checkType: "range", checkValue: [1, 256], default: 16, scales: LORA, runtime: z.number().gt(0),
  },
  {
    key: "loraDropout", name: "LoRA dropout", description: "Dropout on the adapter input.",
    type: "float", checkType: "range", checkValue: [0, 0.5], default: 0.05, scales: LORA, runtime: z.number().min(0).max(0.999),
  },
  {
    key: "loraAllLinear", name: "LoRA on all linear layers", description: "\"True\": adapt every linear layer; \"False\": only loraTargetModules.",
    type: "string", checkType: "choice", checkValue: TRUE_FALSE, default: "True", scales: LORA, runtime: null,
  },
  {
    key: "loraTargetModules", name: "LoRA target modules", description: "Projections adapted when loraAllLinear is \"False\".",
    type: "string", checkType: "mult_choice", checkValue: LORA_TARGET_MODULES, default: ["q_proj", "v_proj"], scales: LORA,
    runtime: z.array(z.enum(LORA_TARGET_MODULES)).min(1),
  },
  {
    // A Sailfin extension (Qianfan has no such field): QLoRA, docs/compatibility.md and runtime/README.md "QLoRA".
    key: "loraBaseQuantization", name: "LoRA base quantization",
    description: "\"NF4\": keep the frozen base's decoder weights in 4-bit NormalFloat while the adapters train (QLoRA: about a quarter of the memory); \"None\": full precision.",
    type: "string", checkType: "choice", checkValue: LORA_BASE_QUANTIZATIONS, default: "None", scales: LORA,
    runtime: z.enum(LORA_BASE_QUANTIZATIONS),
  },
  {
    key: "dpoBeta", name: "DPO beta", description: "Strength of the KL penalty towards the reference model.",
    type: "float", checkType: "range", checkValue: [0.01, 1], default: 0.1, trainModes: ["DPO"], runtime: z.number().gt(0),
  },
  {
    key: "ktoBeta", name: "KTO beta", description: "Strength of the KL penalty towards the reference model.",
    type: "float", checkType: "range", checkValue: [0.01, 1], default: 0.1, trainModes: ["KTO"], runtime: z.number().gt(0),
  },
];

/** Whether a definition applies to runs of this train mode and parameter scale. */
export function appliesTo(definition: HyperParameterDefinition, trainMode: TrainMode, scale: SupportedParameterScale): boolean {
  return (definition.scales ?? SUPPORTED_PARAMETER_SCALES).includes(scale) && (definition.trainModes ?? TRAIN_MODES).includes(trainMode);
}

/** What the model decides: maxSeqLen's choices and default (powers of two up to its context). */
interface ModelHyperParameterLimits {
  readonly maxSeqLenChoices: readonly number[];
  readonly maxSeqLenDefault: number;
}

function isDefaultByScale(value: HyperParameterDefinition["default"]): value is DefaultByScale {
  return typeof value === "object" && !Array.isArray(value);
}

/**
 * The `DescribeFineTuningSupportModels` rows of one train mode and parameter scale.
 *
 * @example hyperParameterRows("SFT", "LoRA", { maxSeqLenChoices: [128, 256], maxSeqLenDefault: 256 })
 */
export function hyperParameterRows(trainMode: TrainMode, scale: SupportedParameterScale, model: ModelHyperParameterLimits): HyperParameterDef[] {
  return HYPER_PARAMETERS.filter((d) => appliesTo(d, trainMode, scale)).map((d) => {
    const defaultValue = d.default === "model" ? model.maxSeqLenDefault : isDefaultByScale(d.default) ? d.default[scale] : d.default;
    return {
      key: d.key, name: d.name, description: d.description, type: d.type, checkType: d.checkType,
      checkValue: d.checkValue === "model" ? [...model.maxSeqLenChoices] : [...d.checkValue],
      default: Array.isArray(defaultValue) ? [...defaultValue] : defaultValue,
    };
  });
}

/** The runtime's `hyper` object (docs/runtime-protocol.md): every key optional, the runtime fills defaults. */
export type RuntimeHyper = Readonly<Record<string, number | string | boolean | readonly string[]>>;

/**
 * The `hyper` object of a finetune spec. Each property carries its default (`default`, or
 * `x-defaultByScale`) and, where it does not apply to every run, `x-parameterScales` /
 * `x-trainModes`: the runtime reads those keys only for such runs.
 */
export const RuntimeHyper = z.strictObject(Object.fromEntries(
  HYPER_PARAMETERS.flatMap((d) => {
    if (d.runtime === null) return [];
    const meta: Record<string, unknown> = {};
    if (isDefaultByScale(d.default)) meta["x-defaultByScale"] = d.default;
    else meta.default = d.toRuntime === undefined ? d.default : d.toRuntime(d.default as HyperParameterValue);
    if (d.scales !== undefined) meta["x-parameterScales"] = d.scales;
    if (d.trainModes !== undefined) meta["x-trainModes"] = d.trainModes;
    return [[d.key, d.runtime.optional().meta(meta)]];
  }),
) as Record<string, z.ZodOptional>).meta({ description: "Training hyper-parameters; absent keys take their default." });

/**
 * The runtime's `hyper` object of a run, from its validated hyper-parameters (the API's
 * spelling, as `validateHyperParameters` resolved them): keys the runtime does not read are
 * dropped, "True"/"False" choices become booleans, and LoRA on all linear layers names all
 * seven projections.
 *
 * @example runtimeHyper("LoRA", { epoch: 2, maxSeqLen: 512, loraAllLinear: "True", … })
 * // → { epoch: 2, …, loraTargetModules: ["q_proj", …, "down_proj"] }
 */
export function runtimeHyper(scale: SupportedParameterScale, hyper: Readonly<Record<string, unknown>>): RuntimeHyper {
  const out: Record<string, unknown> = {};
  for (const definition of HYPER_PARAMETERS) {
    const value = hyper[definition.key];
    if (definition.runtime === null || value === undefined) continue;
    out[definition.key] = definition.toRuntime === undefined ? value : definition.toRuntime(value as HyperParameterValue);
  }
  if (scale === "LoRA" && hyper.loraAllLinear === "True") out.loraTargetModules = [...LORA_TARGET_MODULES];
  return out as RuntimeHyper;
}
