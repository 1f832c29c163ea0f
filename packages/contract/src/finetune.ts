import { z } from "zod";
import { INT32_MAX, PageFields, V1Id, intField, nameField } from "./validate.js";

/**
 * Fine-tuning wire contract (reference §6): request bodies of both dialects and the
 * hyper-parameter table shape of `DescribeFineTuningSupportModels`.
 *
 * Vocabulary (reference §6.0): the container is a V2 "job" / V1 "task"; one execution is a V2
 * "task" / V1 "job". The schemas below use each dialect's own words; the engine uses "job" for
 * the container and "run" for the execution.
 */

/** Training modes (SDK `TrainMode`). */
export const TRAIN_MODES = ["SFT", "PostPretrain", "DPO", "KTO"] as const;
export type TrainMode = (typeof TRAIN_MODES)[number];

/** Every parameter scale the wire knows (SDK `TrainParameterScale`). */
export const PARAMETER_SCALES = ["FullFineTuning", "LoRA", "PromptTuning"] as const;
export type ParameterScale = (typeof PARAMETER_SCALES)[number];

/** The parameter scales Sailfin trains. PromptTuning is refused with a clear message. */
export const SUPPORTED_PARAMETER_SCALES = ["FullFineTuning", "LoRA"] as const;
export type SupportedParameterScale = (typeof SUPPORTED_PARAMETER_SCALES)[number];

/** Internal dataset format names (dataset_groups.data_format) a training run can read. */
type TrainingDataFormat = "PromptResponse" | "PromptSortedResponses" | "PromptChosenRejected" | "Text" | "Messages";

/** Which dataset formats feed which train mode. */
export const TRAIN_MODE_DATA_FORMATS: Readonly<Record<TrainMode, readonly TrainingDataFormat[]>> = {
  SFT: ["PromptResponse", "PromptSortedResponses", "Messages"],
  PostPretrain: ["Text"],
  DPO: ["PromptChosenRejected"],
  KTO: ["PromptChosenRejected"],
};

/** V1 `peftType` words, matched case-insensitively; V2 names are accepted as well. */
export const V1_PEFT_TYPES: Readonly<Record<string, ParameterScale>> = {
  all: "FullFineTuning",
  lora: "LoRA",
  "p-tuning": "PromptTuning",
  ptuning: "PromptTuning",
  fullfinetuning: "FullFineTuning",
  prompttuning: "PromptTuning",
};

/** The V1 `peftType` rendering of a parameter scale. */
export function v1PeftType(scale: string): string {
  if (scale === "FullFineTuning") return "ALL";
  if (scale === "PromptTuning") return "P-tuning";
  return scale;
}

// ---------------------------------------------------------------------------------------------
// Hyper-parameter table (reference §6.2.3)

type HyperParameterType = "int" | "float" | "boolean" | "string";
/** `range`: checkValue is [min, max]; `choice`: one of checkValue; `mult_choice`: a subset. */
type HyperParameterCheckType = "range" | "choice" | "mult_choice";
export type HyperParameterValue = number | string | boolean | string[];

export interface HyperParameterDef {
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly type: HyperParameterType;
  readonly checkType: HyperParameterCheckType;
  readonly checkValue: ReadonlyArray<number | string>;
  readonly default: HyperParameterValue;
}

export interface SupportParameterScale {
  readonly parameterScale: SupportedParameterScale;
  readonly supportHyperParameterConfig: readonly HyperParameterDef[];
}

export interface SupportTrainMode {
  readonly trainMode: TrainMode;
  readonly supportParameterScale: readonly SupportParameterScale[];
}

/** Sailfin extension of a support-model entry: what the base model is, as its config.json was checked at import. */
export interface SupportModelSpec {
  /** `architectures` name, e.g. `Qwen3ForCausalLM`. */
  readonly architecture: string;
  /** `model_type`: `llama`, `qwen2`, `qwen3`, `ernie4_5`, `mistral`, `gemma2` or `gemma3_text`. */
  readonly family: string;
  readonly parameterCount: number;
  /** The context length (`max_position_embeddings`); `maxSeqLen` choices stop there. */
  readonly maxPositionEmbeddings: number;
  /** The window of sliding-attention layers in tokens (Mistral: every layer; Gemma: the sliding ones); null: none. */
  readonly slidingWindow: number | null;
  /** RoPE scaling type (`linear`, `llama3`); null: plain RoPE. */
  readonly ropeScaling: string | null;
  readonly tieWordEmbeddings: boolean;
  readonly hasChatTemplate: boolean;
}

export interface SupportModel {
  readonly model: string;
  readonly modelType: "text2text";
  readonly supportTrainMode: readonly SupportTrainMode[];
  readonly modelSpec: SupportModelSpec;
}

// ---------------------------------------------------------------------------------------------
// V2 `/v2/finetuning` bodies

const Description = z.string().max(500, "length must be in [0, 500]");
const TrainModeField = z.enum(TRAIN_MODES);

export const CreateFineTuningJobBody = z.object({
  name: nameField(2, 20),
  description: Description.optional(),
  model: z.string().min(1),
  trainMode: TrainModeField,
  parameterScale: z.string().optional(),
  // The SDK may pass job-level hyper-parameters through kwargs; they belong to tasks and are
  // not stored on the job (a task's hyperParameterConfig is validated and frozen per run).
  hyperParameterConfig: z.record(z.string(), z.unknown()).optional(),
});
export type CreateFineTuningJobBody = z.infer<typeof CreateFineTuningJobBody>;

export const DescribeFineTuningJobsBody = z.object({
  trainMode: z.string().optional(),
  /** Python's `job_list` sends the filter under this misspelt key. */
  trainModel: z.string().optional(),
  model: z.string().optional(),
  ...PageFields,
  /** Python's `job_list`/`task_list` send the marker under this misspelt key. */
  maker: z.string().max(64).optional(),
});
export type DescribeFineTuningJobsBody = z.infer<typeof DescribeFineTuningJobsBody>;

export const FineTuningJobIdBody = z.object({ jobId: z.string().min(1) });
export type FineTuningJobIdBody = z.infer<typeof FineTuningJobIdBody>;

export const FineTuningTaskIdBody = z.object({ taskId: z.string().min(1) });
export type FineTuningTaskIdBody = z.infer<typeof FineTuningTaskIdBody>;

export const DescribeFineTuningTasksBody = z.object({
  jobId: z.string().min(1),
  ...PageFields,
  maker: z.string().max(64).optional(),
});
export type DescribeFineTuningTasksBody = z.infer<typeof DescribeFineTuningTasksBody>;

export const DatasetVersionEntry = z.object({
  versionId: z.string().min(1).optional(),
  samplingRate: z.number().min(0.01, "must be in [0.01, 10]").max(10, "must be in [0.01, 10]").optional(),
  versionBosUri: z.string().optional(),
});

export const FineTuningDatasetConfig = z.object({
  sourceType: z.string().optional(),
  versions: z.array(DatasetVersionEntry).min(1, "at least one dataset version is required"),
  splitRatio: z.number().int().min(0, "must be in [0, 20]").max(20, "must be in [0, 20]").optional(),
});
export type FineTuningDatasetConfig = z.infer<typeof FineTuningDatasetConfig>;

/**
 * Qianfan's private resource pool (`{resourceId, nodeNum, idleResource}`): here a pool the
 * operator declared (SAILFIN_POOLS) and its node count, plus Sailfin's `processesPerNode`
 * (ranks a node; default the pool's). `idleResource` (Qianfan's spare-capacity billing) has no
 * meaning here and is ignored.
 */
const FineTuningResourceConfig = z.object({
  resourceId: z.string().min(1).max(64).optional(),
  nodeNum: intField(1, 100_000).optional(),
  processesPerNode: intField(1, 1024).optional(),
});

export const CreateFineTuningTaskBody = z.object({
  jobId: z.string().min(1),
  description: Description.optional(),
  incrementTaskId: z.string().min(1).optional(),
  incrementCheckpointStep: intField(0, INT32_MAX).optional(),
  parameterScale: z.string().optional(),
  hyperParameterConfig: z.record(z.string(), z.unknown()).optional(),
  datasetConfig: FineTuningDatasetConfig,
  corpusConfig: z.unknown().optional(),
  modelConfig: z.unknown().optional(),
  resourceConfig: FineTuningResourceConfig.nullable().optional(),
});
export type CreateFineTuningTaskBody = z.infer<typeof CreateFineTuningTaskBody>;

// ---------------------------------------------------------------------------------------------
// V1 `/wenxinworkshop/finetune/*` bodies. Keys arrive in any case (`baseTraintype`, `pefttype`):
// run `matchKeys` on the body first.

export const V1CreateTaskBody = z.object({
  name: nameField(2, 20),
  description: Description.optional(),
  baseTrainType: z.string().optional(),
  trainType: z.string().min(1),
  /** Not in V1 (which only knew SFT); accepted so a V1 client can create other modes. */
  trainMode: TrainModeField.optional(),
});
export type V1CreateTaskBody = z.infer<typeof V1CreateTaskBody>;

const V1IncreConfig = z.object({ taskId: V1Id, jobId: V1Id });
const V1TrainsetEntry = z.object({ type: intField(0, INT32_MAX), id: V1Id });

export const V1CreateJobBody = z.object({
  taskId: V1Id,
  description: Description.optional(),
  jobRunType: z.union([z.literal(0), z.literal(1)]).optional(),
  increConfig: V1IncreConfig.optional(),
  baseTrainType: z.string().optional(),
  trainType: z.string().optional(),
  trainMode: TrainModeField.optional(),
  peftType: z.string().min(1),
  trainConfig: z.record(z.string(), z.unknown()),
  trainset: z.array(V1TrainsetEntry).min(1, "at least one dataset is required"),
  trainsetRate: z.number().min(0, "must be in [0, 50]").max(50, "must be in [0, 50]").optional(),
  /** Not in V1 (its jobs ran where Qianfan chose): V2's `resourceConfig`, so a V1 client can pick a pool too. */
  resourceConfig: FineTuningResourceConfig.nullable().optional(),
});
export type V1CreateJobBody = z.infer<typeof V1CreateJobBody>;

export const V1JobRefBody = z.object({ taskId: V1Id, jobId: V1Id });
export type V1JobRefBody = z.infer<typeof V1JobRefBody>;

/** Canonical key lists of the V1 bodies, for `matchKeys`. */
export const V1_FINETUNE_KEYS = {
  createTask: ["name", "description", "baseTrainType", "trainType", "trainMode"],
  createJob: [
    "taskId", "description", "jobRunType", "increConfig", "baseTrainType", "trainType", "trainMode",
    "peftType", "trainConfig", "trainset", "trainsetRate", "resourceConfig",
  ],
  resourceConfig: ["resourceId", "nodeNum", "processesPerNode"],
  jobRef: ["taskId", "jobId"],
  increConfig: ["taskId", "jobId"],
  trainset: ["type", "id"],
} as const;

/**
 * Renames an object's keys to their canonical spelling when they match case-insensitively
 * (V1 finetune bodies arrive as `baseTraintype`, `pefttype`…). Other keys and non-objects
 * pass through unchanged, so the schema still reports what is wrong.
 */
export function matchKeys(value: unknown, keys: readonly string[]): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const canonical = new Map(keys.map((key) => [key.toLowerCase(), key]));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = canonical.get(key.toLowerCase()) ?? key;
    // An exact spelling wins over a case variant of the same key.
    if (name in out && key !== name) continue;
    out[name] = item;
  }
  return out;
}
