import type { HyperParameterDef } from "@sailfin/sdk";
import type { RawValue } from "./hyper-parameters.js";
import { inputStep, initialValue } from "./hyper-parameters.js";

/**
 * One labelled control per hyper-parameter: a number input with min/max for ranges, a select for
 * choices, checkboxes for multiple choices. The description is the field's help text, the error
 * (from checkHyperParameter) is announced and tied to the control.
 */
export function HyperParameterFields(props: {
  defs: readonly HyperParameterDef[];
  values: Readonly<Record<string, RawValue>>;
  errors: Readonly<Record<string, string>>;
  onChange: (key: string, value: RawValue) => void;
}) {
  return (
    <div className="form-grid hp-grid">
      {props.defs.map((def) => (
        <HyperParameterField key={def.key} def={def} value={props.values[def.key] ?? initialValue(def)} error={props.errors[def.key]} onChange={(v) => props.onChange(def.key, v)} />
      ))}
    </div>
  );
}

function HyperParameterField(props: { def: HyperParameterDef; value: RawValue; error: string | undefined; onChange: (value: RawValue) => void }) {
  const { def, value, error } = props;
  const id = `hp-${def.key}`;
  const help = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = error === undefined ? help : `${help} ${errorId}`;
  const hint = def.checkType === "range" ? ` (${def.checkValue[0]} – ${def.checkValue[1]})` : "";

  if (def.checkType === "mult_choice") {
    const chosen = new Set(typeof value === "string" ? [value] : value);
    return (
      <fieldset className="field wide" aria-describedby={describedBy}>
        <legend>{def.name} <code className="hp-key">{def.key}</code></legend>
        <div className="checks">
          {def.checkValue.map((option) => {
            const name = String(option);
            return (
              <label key={name} className="check">
                <input type="checkbox" checked={chosen.has(name)} onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(name);
                  else next.delete(name);
                  props.onChange(def.checkValue.map(String).filter((o) => next.has(o)));
                }} />
                {name}
              </label>
            );
          })}
        </div>
        <small id={help} className="help">{def.description}</small>
        {error === undefined ? null : <small id={errorId} className="field-error" role="alert">{error}</small>}
      </fieldset>
    );
  }

  const text = typeof value === "string" ? value : value.join(",");
  let control;
  if (def.checkType === "choice") {
    control = (
      <select id={id} name={def.key} value={text} aria-describedby={describedBy} aria-invalid={error !== undefined} onChange={(e) => props.onChange(e.target.value)}>
        {def.checkValue.map((option) => <option key={String(option)} value={String(option)}>{String(option)}</option>)}
      </select>
    );
  } else if (def.type === "boolean") {
    control = <input id={id} name={def.key} type="checkbox" checked={text === "true"} aria-describedby={describedBy} onChange={(e) => props.onChange(e.target.checked ? "true" : "false")} />;
  } else if (def.type === "int" || def.type === "float") {
    const [min, max] = def.checkType === "range" ? def.checkValue : [undefined, undefined];
    control = (
      <input id={id} name={def.key} type="number" inputMode={def.type === "int" ? "numeric" : "decimal"} required
        min={min} max={max} step={inputStep(def)} value={text}
        aria-describedby={describedBy} aria-invalid={error !== undefined} onChange={(e) => props.onChange(e.target.value)} />
    );
  } else {
    control = <input id={id} name={def.key} value={text} aria-describedby={describedBy} aria-invalid={error !== undefined} onChange={(e) => props.onChange(e.target.value)} />;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{def.name}{hint} <code className="hp-key">{def.key}</code></label>
      {control}
      <small id={help} className="help">{def.description}</small>
      {error === undefined ? null : <small id={errorId} className="field-error" role="alert">{error}</small>}
    </div>
  );
}
