import type { ModelSetItem } from "@sailfin/sdk";
import { NEW_SET, type ModelSetChoice } from "../lib/model-set-choice.js";

/** The set picker and, for a new set, its name field (with the rule and the error). */
export function ModelSetFields(props: { choice: ModelSetChoice; sets: readonly ModelSetItem[]; label?: string; idPrefix: string }) {
  const { choice } = props;
  const help = `${props.idPrefix}-set-name-help`;
  return (
    <>
      <label className="field">
        <span>{props.label ?? "Model set"}</span>
        <select value={choice.setId} onChange={(e) => choice.choose(e.target.value)}>
          <option value={NEW_SET}>New model set…</option>
          {props.sets.map((s) => <option key={s.modelSetId} value={s.modelSetId}>{s.modelSetName}</option>)}
        </select>
      </label>
      {choice.isNew ? (
        <div className="field">
          <label htmlFor={`${props.idPrefix}-set-name`}>New set name</label>
          <input
            id={`${props.idPrefix}-set-name`} name="modelSetName" required maxLength={50} value={choice.nameInput}
            aria-invalid={choice.nameError !== undefined} aria-describedby={help} onChange={(e) => choice.rename(e.target.value)}
          />
          <small id={help} className={choice.nameError === undefined ? "help" : "field-error"}>{choice.nameError ?? "2 to 50 letters, digits, _ - ."}</small>
        </div>
      ) : null}
    </>
  );
}
