import { SailfinError, SUPPORTED_PARAMETER_SCALES, type SupportedParameterScale } from "@sailfin/contract";

/**
 * Checks a requested parameter scale. PromptTuning is part of Qianfan's vocabulary but Sailfin
 * does not train prompt embeddings: it is refused by name rather than as an unknown value.
 */
export function resolveParameterScale(value: string, field: string): SupportedParameterScale {
  if ((SUPPORTED_PARAMETER_SCALES as readonly string[]).includes(value)) return value as SupportedParameterScale;
  if (value === "PromptTuning") {
    throw new SailfinError("InvalidParameter", {
      field, detail: "PromptTuning (P-tuning) is not supported by Sailfin; use FullFineTuning or LoRA",
    });
  }
  throw new SailfinError("InvalidParameter", { field, detail: `must be one of ${SUPPORTED_PARAMETER_SCALES.join(", ")}` });
}
