import {
  SUPPORTED_PARAMETER_SCALES, TRAIN_MODES, hyperParameterRows,
  type HyperParameterDef, type SupportModel, type SupportedParameterScale, type TrainMode,
} from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { listBaseModels, type ResolvedBaseModel, type ResolvedBaseModelConfig } from "../models/index.js";

/**
 * The `DescribeFineTuningSupportModels` table (reference §6.2.3), built from the registered base
 * models and the contract's one definition of the hyper-parameters (`HYPER_PARAMETERS`). The same
 * table validates every task's hyper-parameters, so what a client reads here is exactly what the
 * server accepts.
 */

/**
 * `maxSeqLen` choices: powers of two from 128 up to the model's context length (from the
 * largest power of two within it when the context is shorter than 128, as tiny test models are).
 */
function maxSeqLenChoices(config: ResolvedBaseModelConfig): number[] {
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
  const choices = maxSeqLenChoices(config);
  return hyperParameterRows(trainMode, scale, {
    maxSeqLenChoices: choices, maxSeqLenDefault: choices.filter((n) => n <= 2048).at(-1) ?? choices[0]!,
  });
}

/** One `DescribeFineTuningSupportModels` entry; `modelSpec` is Sailfin's extension (docs/compatibility.md). */
function supportModelEntry({ setName: name, architecture, config }: ResolvedBaseModel): SupportModel {
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
    modelSpec: {
      architecture, family: config.modelType, parameterCount: config.parameterCount, maxPositionEmbeddings: config.maxPositionEmbeddings,
      slidingWindow: config.slidingWindow, ropeScaling: config.ropeScaling, tieWordEmbeddings: config.tieWordEmbeddings,
      hasChatTemplate: config.hasChatTemplate,
    },
  };
}

/**
 * Every registered base model with the train modes, parameter scales and hyper-parameters it
 * supports.
 */
export async function describeSupportModels(res: EngineResources): Promise<SupportModel[]> {
  const models = await listBaseModels(res);
  return models.map(supportModelEntry);
}
