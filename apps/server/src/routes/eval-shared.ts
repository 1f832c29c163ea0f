import { SailfinError, type EvaluationDimensionBody, type InferenceParamsBody, type V1Id } from "@sailfin/contract";
import {
  exportDownloadUrl, type EvalExportView, type EvalUnitInput, type EvalUnitResult, type EvalView, type ManualDimensionInput,
} from "@sailfin/engine";
import type { RouteContext } from "./route.js";

/**
 * What the V1 (`v1/eval.ts`) and V2 (`v2/eval.ts`) evaluation routes read and render alike:
 * Qianfan's inference and judge-prompt settings, export columns and part exports, progress and
 * the download link of a finished export.
 */

/** The four columns the SDK exports by default (`system` is V2's fifth). */
const DEFAULT_EXPORT_CONTENT = ["prompt", "prediction", "completion", "metrics"];

/** `""` means "not given" for the optional strings SDKs fill with empty defaults. */
export function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** Qianfan's snake_case inference keys to the engine's; V2 gives `stop` beside the parameters. */
export function inferenceParams(params: InferenceParamsBody | undefined, stop?: string[]): EvalUnitInput["params"] {
  return {
    temperature: params?.temperature, topP: params?.top_p, penaltyScore: params?.penalty_score,
    maxOutputTokens: params?.max_output_tokens, stop: stop ?? params?.stop, system: given(params?.system),
  };
}

/** 0–100 (the worker records percent while it runs). */
export function evalProgress(view: EvalView): number {
  return view.status === "Succeeded" ? 100 : Math.floor(view.progress);
}

/** One evaluated version's outcome, once the evaluation has one. */
export function unitResult(view: EvalView, index: number): EvalUnitResult | undefined {
  return view.result?.units.find((u) => u.index === index);
}

/** The columns to export; absent means the SDK's default four. */
export function exportColumns(content: string | string[] | undefined): string[] {
  if (content === undefined) return DEFAULT_EXPORT_CONTENT;
  return (Array.isArray(content) ? content : content.split(",")).map((c) => c.trim()).filter((c) => c !== "");
}

/** The result ids of a `part` export (required then), or undefined for a `total` one (where naming some is a mistake). */
export function partResultIds(exportOpt: "total" | "part" | undefined, resultIds: readonly V1Id[] | undefined): readonly V1Id[] | undefined {
  if (exportOpt === "part") {
    if (resultIds === undefined) throw new SailfinError("InvalidParameter", { field: "resultIds", detail: "is required when exportOpt is part" });
    return resultIds;
  }
  if (resultIds !== undefined && resultIds.length > 0) {
    throw new SailfinError("InvalidParameter", { field: "resultIds", detail: "names the results of a part export; set exportOpt to part" });
  }
  return undefined;
}

/** Why an export ended in `Fail` (a stopped export has no failure reason of its own). */
export function exportFailReason(view: EvalExportView): string {
  return view.failureReason ?? (view.status === "Cancelled" ? "the export was stopped" : "");
}

/** A link that downloads a finished local export without credentials (presigned on S3; see the engine's download-link.ts). */
export async function downloadUrl(ctx: RouteContext, view: EvalExportView): Promise<string> {
  if (view.status !== "Succeeded" || view.spec.exportType !== "local" || view.result === null) return "";
  return exportDownloadUrl(ctx.res, ctx.baseUrl, view.id, view.result);
}

/** A manual evaluation's dimensions as the engine takes them (V1 min/maxScore; V2 may give `scoreRange: [min, max]`). */
export function dimensionsOf(list: readonly EvaluationDimensionBody[] | undefined): ManualDimensionInput[] | undefined {
  return list?.map((d) => ({
    dimension: d.dimension, description: d.description,
    minScore: d.minScore ?? d.scoreRange?.[0], maxScore: d.maxScore ?? d.scoreRange?.[1],
  }));
}
