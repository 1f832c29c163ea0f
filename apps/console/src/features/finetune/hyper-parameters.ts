import type { HyperParameterDef, HyperParameterValue } from "@sailfin/sdk";

/**
 * The task form's hyper-parameters, generated from DescribeFineTuningSupportModels: the same
 * table the server validates with, so its ranges and choices are enforced here before anything
 * is sent. Inputs hold text (what a field holds while typed); `checkHyperParameter` turns it
 * into the wire value or says what is wrong, in the server's terms.
 */

export type RawValue = string | readonly string[];

export function initialValue(def: HyperParameterDef): RawValue {
  if (def.checkType === "mult_choice") return Array.isArray(def.default) ? def.default.map(String) : [];
  return String(def.default);
}

type Checked = { readonly ok: true; readonly value: HyperParameterValue } | { readonly ok: false; readonly error: string };

function checkHyperParameter(def: HyperParameterDef, raw: RawValue): Checked {
  const allowed = def.checkValue;
  if (def.checkType === "mult_choice") {
    const items = typeof raw === "string" ? [raw] : [...raw];
    if (items.length === 0) return { ok: false, error: `pick at least one of ${allowed.join(", ")}` };
    return { ok: true, value: items };
  }
  if (typeof raw !== "string") return { ok: false, error: "must be a single value" };
  let value: HyperParameterValue;
  switch (def.type) {
    case "int":
    case "float": {
      if (raw.trim() === "") return { ok: false, error: "required" };
      const n = Number(raw);
      if (!Number.isFinite(n)) return { ok: false, error: "must be a number" };
      if (def.type === "int" && !Number.isInteger(n)) return { ok: false, error: "must be a whole number" };
      value = n;
      break;
    }
    case "boolean":
      value = raw === "true";
      break;
    case "string":
      value = raw;
      break;
  }
  if (def.checkType === "range") {
    const [min, max] = allowed as readonly number[];
    if (typeof value !== "number" || value < min! || value > max!) return { ok: false, error: `must be between ${min} and ${max}` };
  }
  if (def.checkType === "choice" && !allowed.includes(value as string | number)) {
    return { ok: false, error: `must be one of ${allowed.join(", ")}` };
  }
  return { ok: true, value };
}

/** Every field's wire value, or the errors by key (empty when the form is valid). */
export function checkAll(defs: readonly HyperParameterDef[], raw: Readonly<Record<string, RawValue>>): {
  values: Record<string, HyperParameterValue>;
  errors: Record<string, string>;
} {
  const values: Record<string, HyperParameterValue> = {};
  const errors: Record<string, string> = {};
  for (const def of defs) {
    const checked = checkHyperParameter(def, raw[def.key] ?? initialValue(def));
    if (checked.ok) values[def.key] = checked.value;
    else errors[def.key] = checked.error;
  }
  return { values, errors };
}

/** The `step` attribute of a numeric range input: whole steps for ints, any for floats. */
export function inputStep(def: HyperParameterDef): string {
  return def.type === "int" ? "1" : "any";
}
