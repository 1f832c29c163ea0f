import { useState, type FormEvent } from "react";
import type { FineTuningTaskDetail } from "@sailfin/sdk";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { ErrorNote } from "../../ui/feedback.js";

const NEW_SET = "__new__";

/**
 * Publishes a finished task's checkpoint as a new version of a model set (CreateCustomModel,
 * sourceType Train), creating the set first when asked; then opens the version's page, where
 * its export (Creating → Ready) can be followed.
 */
export function PublishForm(props: { task: FineTuningTaskDetail; step: number | undefined; onCancel: () => void }) {
  const { client } = useSession();
  const sets = useAsync((signal) => client.models.listSets({ maxKeys: 100 }, { signal }).toArray(500), []);
  const [setId, setSetId] = useState(NEW_SET);
  const [setName, setSetName] = useState(() => `${props.task.jobName || "tuned"}-model`.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 50));
  const [step, setStep] = useState<string>(props.step === undefined ? "" : String(props.step));
  const [description, setDescription] = useState("");
  const nameError = setId === NEW_SET && !/^[A-Za-z0-9_.-]{2,50}$/.test(setName.trim()) ? "use 2 to 50 letters, digits, _ - ." : undefined;
  const publish = useAction(async () => {
    const modelSetId = setId === NEW_SET
      ? await client.models.createSet({ modelSetName: setName.trim(), modelType: "Text2Text" })
      : setId;
    const created = await client.models.create({
      modelSetId, sourceType: "Train",
      trainMeta: { taskId: props.task.taskId, ...(step === "" ? {} : { checkpointStep: Number(step) }) },
      ...(description.trim() === "" ? {} : { description: description.trim() }),
    });
    navigate(`/versions/${created.modelId}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void publish.run();
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Publish as model version">
      <div className="form-grid">
        <label className="field">
          <span>Model set</span>
          <select value={setId} onChange={(e) => setSetId(e.target.value)}>
            <option value={NEW_SET}>New model set…</option>
            {(sets.data ?? []).map((s) => <option key={s.modelSetId} value={s.modelSetId}>{s.modelSetName}</option>)}
          </select>
        </label>
        {setId === NEW_SET ? (
          <label className="field">
            <span>New set name</span>
            <input required minLength={2} maxLength={50} aria-invalid={nameError !== undefined} aria-describedby="set-name-help" value={setName} onChange={(e) => setSetName(e.target.value)} />
            <small id="set-name-help" className={nameError === undefined ? "help" : "field-error"}>{nameError ?? "2 to 50 letters, digits, _ - ."}</small>
          </label>
        ) : null}
        <label className="field">
          <span>Checkpoint</span>
          <select value={step} onChange={(e) => setStep(e.target.value)}>
            <option value="">Last (step {Math.max(...props.task.checkpointList.map((c) => c.step))})</option>
            {props.task.checkpointList.map((c) => <option key={c.step} value={String(c.step)}>Step {c.step}</option>)}
          </select>
        </label>
        <label className="field wide">
          <span>Description (optional)</span>
          <input maxLength={300} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
      </div>
      <ErrorNote error={publish.error ?? sets.error} />
      <div className="form-actions">
        <button type="submit" disabled={publish.busy || nameError !== undefined}>{publish.busy ? "Publishing…" : "Publish"}</button>
        <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}
