import {
  SUPPORTED_PARAMETER_SCALES, TRAIN_MODES,
  type HyperParameterDef, type SupportModel, type SupportedParameterScale, type TrainMode,
} from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { listBaseModels, type ResolvedBaseModelConfig } from "../models/index.js";

/**
 * The `DescribeFineTuningSupportModels` table (reference §6.2.3), built from the registered base
 * models. The same table validates every task's hyper-parameters, so what a client reads here is
 * exactly what the server accepts.
 */

const LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

function def(
  key: string, name: string, description: string, type: HyperParameterDef["type"],
  checkType: HyperParameterDef["checkType"], checkValue: ReadonlyArray<number | string>, defaultValue: HyperParameterDef["default"],
): HyperParameterDef {
  return { key, name, description, type, checkType, checkValue, default: defaultValue };
}

/**
 * `maxSeqLen` choices: powers of two from 128 up to the model's context length (from the
 * largest power of two within it when the context is shorter than 128, as tiny test models are).
 */
export function maxSeqLenChoices(config: ResolvedBaseModelConfig): number[] {
  const max = config.maxPositionEmbeddings;
  let start = 128;
  while (start > max && start > 1) start /= 2;
  const out: number[] = [];
  for (let p = start; p <= max; p *= 2) out.push(p);
  return out;
}

/**
 * The hyper-parameters a run of this model, train mode and parameter scale accepts, with their
 * limits and defaults.
 *
 * @example hyperParameterTable("SFT", "LoRA", baseModel.config).find((d) => d.key === "loraRank")
 */
export function hyperParameterTable(trainMode: TrainMode, scale: SupportedParameterScale, config: ResolvedBaseModelConfig): HyperParameterDef[] {
  const seqChoices = maxSeqLenChoices(config);
  const seqDefault = seqChoices.filter((n) => n <= 2048).at(-1) ?? seqChoices[0]!;
  const table: HyperParameterDef[] = [
    def("epoch", "Epochs", "Passes over the training data.", "int", "range", [1, 50], 1),
    def("learningRate", "Learning rate", "Peak learning rate of the optimizer.", "float", "range", [1e-7, 1e-1], scale === "LoRA" ? 3e-4 : 3e-5),
    def("batchSize", "Batch size", "Sequences per optimizer step (before gradient accumulation).", "int", "range", [1, 512], 8),
    def("maxSeqLen", "Max sequence length", "Tokens per training sequence; longer samples are truncated.", "int", "choice", seqChoices, seqDefault),
    def("loggingSteps", "Logging steps", "Steps between two logged metrics.", "int", "range", [1, 100], 1),
    def("warmupRatio", "Warm-up ratio", "Fraction of the steps spent warming the learning rate up.", "float", "range", [0, 0.5], 0.1),
    def("weightDecay", "Weight decay", "AdamW weight decay.", "float", "range", [0, 0.1], 0.01),
    def("schedulerName", "LR scheduler", "Learning-rate schedule after warm-up.", "string", "choice", ["cosine", "linear", "constant"], "cosine"),
    def("gradientAccumulationSteps", "Gradient accumulation", "Batches accumulated per optimizer step.", "int", "range", [1, 64], 1),
    def("checkpointCount", "Checkpoints kept", "How many of the latest checkpoints are kept.", "int", "range", [1, 10], 1),
    def("saveStep", "Save interval", "Steps between two checkpoints.", "int", "range", [1, 1_000_000], 100),
    def("seed", "Random seed", "Seed of data order and initialization.", "int", "range", [0, 2 ** 31 - 1], 42),
    def("maxGradNorm", "Gradient clipping", "Maximum global gradient norm (0 disables clipping).", "float", "range", [0, 100], 1.0),
  ];
  if (scale === "LoRA") {
    table.push(
      def("loraRank", "LoRA rank", "Rank of the low-rank adapters.", "int", "choice", [2, 4, 8, 16, 32, 64], 8),
      def("loraAlpha", "LoRA alpha", "Scaling numerator of the adapters (scale = alpha / rank).", "int", "range", [1, 256], 16),
      def("loraDropout", "LoRA dropout", "Dropout on the adapter input.", "float", "range", [0, 0.5], 0.05),
      def("loraAllLinear", "LoRA on all linear layers", "\"True\": adapt every linear layer; \"False\": only loraTargetModules.", "string", "choice", ["True", "False"], "True"),
      def("loraTargetModules", "LoRA target modules", "Projections adapted when loraAllLinear is \"False\".", "string", "mult_choice", LORA_TARGET_MODULES, ["q_proj", "v_proj"]),
    );
  }
  if (trainMode === "DPO") table.push(def("dpoBeta", "DPO beta", "Strength of the KL penalty towards the reference model.", "float", "range", [0.01, 1], 0.1));
  if (trainMode === "KTO") table.push(def("ktoBeta", "KTO beta", "Strength of the KL penalty towards the reference model.", "float", "range", [0.01, 1], 0.1));
  return table;
}

/** One `DescribeFineTuningSupportModels` entry. */
export function supportModelEntry(name: string, config: ResolvedBaseModelConfig): SupportModel {
  return {
    model: name,
    modelType: "text2text",
    supportTrainMode: TRAIN_MODES.map((trainMode) => ({
      trainMode,
      supportParameterScale: SUPPORTED_PARAMETER_SCALES.map((parameterScale) => ({
        parameterScale,
        supportHyperParameterConfig: hyperParameterTable(trainMode, parameterScale, config),
      })),
    })),
  };
}

/**
 * Every registered base model with the train modes, parameter scales and hyper-parameters it
 * supports.
 */
export async function describeSupportModels(res: EngineResources): Promise<SupportModel[]> {
  const models = await listBaseModels(res);
  return models.map((model) => supportModelEntry(model.setName, model.config));
}
