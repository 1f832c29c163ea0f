import {
  HYPER_PARAMETERS, SailfinError,
  type HyperParameterDef, type HyperParameterValue, type SupportedParameterScale, type TrainMode,
} from "@sailfin/contract";
import type { ResolvedBaseModelConfig } from "../models/index.js";
import { hyperParameterTable } from "./support-models.js";

/** Every hyper-parameter with its value: the request's, or the table's default. */
type ResolvedHyperParameters = Record<string, HyperParameterValue>;

interface HyperParameterContext {
  readonly trainMode: TrainMode;
  readonly parameterScale: SupportedParameterScale;
  readonly config: ResolvedBaseModelConfig;
}

interface ValidateHyperParametersOptions {
  /** Where the object sits in the request, for error fields: `hyperParameterConfig` (V2) or `trainConfig` (V1). */
  readonly field?: string;
  /** V1 bodies spell keys in any case (`learningrate`). */
  readonly caseInsensitive?: boolean;
}

/**
 * Validates a request's hyper-parameters against the run's table (the one
 * `DescribeFineTuningSupportModels` shows) and fills the defaults. The first problem is an
 * `InvalidParameter` naming `hyperParameterConfig.<key>`: an unknown key, a key of another
 * parameter scale or train mode, a wrong type, a value out of range or not among the choices.
 * `null` means "not given" (the default applies).
 *
 * @example
 * validateHyperParameters({ epoch: 3 }, { trainMode: "SFT", parameterScale: "LoRA", config })
 * // → { epoch: 3, learningRate: 0.0003, …, loraRank: 8, … }
 */
export function validateHyperParameters(
  input: Record<string, unknown> | undefined,
  context: HyperParameterContext,
  options: ValidateHyperParametersOptions = {},
): ResolvedHyperParameters {
  const prefix = options.field ?? "hyperParameterConfig";
  const table = hyperParameterTable(context.trainMode, context.parameterScale, context.config);
  const byKey = new Map(table.map((d) => [options.caseInsensitive ? d.key.toLowerCase() : d.key, d]));
  const given = new Map<string, unknown>();
  for (const [key, value] of Object.entries(input ?? {})) {
    const field = `${prefix}.${key}`;
    const definition = byKey.get(options.caseInsensitive ? key.toLowerCase() : key);
    if (definition === undefined) throw new SailfinError("InvalidParameter", { field, detail: unknownKeyDetail(key, context) });
    if (value === null || value === undefined) continue;
    given.set(definition.key, checkValue(definition, value, field));
  }
  const resolved: ResolvedHyperParameters = {};
  for (const definition of table) {
    resolved[definition.key] = (given.get(definition.key) as HyperParameterValue | undefined) ?? copyDefault(definition.default);
  }
  return resolved;
}

function copyDefault(value: HyperParameterValue): HyperParameterValue {
  return Array.isArray(value) ? [...value] : value;
}

/** Says whether the key belongs to another parameter scale or train mode, or to none. */
function unknownKeyDetail(key: string, context: HyperParameterContext): string {
  const definition = HYPER_PARAMETERS.find((d) => d.key.toLowerCase() === key.toLowerCase());
  if (definition === undefined) return `unknown hyper-parameter ${key}; DescribeFineTuningSupportModels lists the supported keys`;
  if (definition.scales !== undefined && !definition.scales.includes(context.parameterScale)) {
    return `${key} applies to ${definition.scales.join(", ")} only, not to ${context.parameterScale}`;
  }
  if (definition.trainModes !== undefined && !definition.trainModes.includes(context.trainMode)) {
    return `${key} applies to ${definition.trainModes.join(", ")} only, not to ${context.trainMode}`;
  }
  // Reached by a key of this run spelt in another case where keys are case-sensitive (V2).
  return `${key} does not apply to ${context.trainMode}/${context.parameterScale}`;
}

function invalid(field: string, detail: string): SailfinError {
  return new SailfinError("InvalidParameter", { field, detail });
}

function checkValue(definition: HyperParameterDef, value: unknown, field: string): HyperParameterValue {
  const typed = checkType(definition, value, field);
  const allowed = definition.checkValue;
  switch (definition.checkType) {
    case "range": {
      const [min, max] = allowed as readonly number[];
      if (typeof typed !== "number" || typed < min! || typed > max!) throw invalid(field, `must be in [${min}, ${max}]`);
      return typed;
    }
    case "choice":
      if (!allowed.includes(typed as number | string)) throw invalid(field, `must be one of ${allowed.join(", ")}`);
      return typed;
    case "mult_choice": {
      const items = typed as string[];
      if (items.length === 0) throw invalid(field, `must name at least one of ${allowed.join(", ")}`);
      const bad = items.find((item) => !allowed.includes(item));
      if (bad !== undefined) throw invalid(field, `${bad} is not one of ${allowed.join(", ")}`);
      return [...new Set(items)];
    }
  }
}

function checkType(definition: HyperParameterDef, value: unknown, field: string): HyperParameterValue {
  if (definition.checkType === "mult_choice") {
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
      throw invalid(field, "must be an array of strings");
    }
    return value as string[];
  }
  switch (definition.type) {
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) throw invalid(field, "must be an integer");
      return value;
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(field, "must be a number");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw invalid(field, "must be a boolean");
      return value;
    case "string":
      // "True"/"False" choices (loraAllLinear) also take a JSON boolean, as Python users pass True.
      if (typeof value === "boolean" && definition.checkValue.includes("True")) return value ? "True" : "False";
      if (typeof value !== "string") throw invalid(field, "must be a string");
      return value;
  }
}
