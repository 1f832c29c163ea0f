import { useState, type FormEvent } from "react";
import type { FineTuningTaskDetail } from "@sailfin/sdk";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { ErrorNote } from "../../ui/feedback.js";
import { useModelSetChoice } from "../../lib/model-set-choice.js";
import { ModelSetFields } from "../../ui/model-set-fields.js";

/**
 * Publishes a finished task's checkpoint as a new version of a model set (CreateCustomModel,
 * sourceType Train), creating the set first when asked; then opens the version's page, where
 * its export (Creating → Ready) can be followed.
 */
export function PublishForm(props: { task: FineTuningTaskDetail; step: number | undefined; onCancel: () => void }) {
  const { client } = useSession();
  const sets = useAsync((signal) => client.models.listSets({ maxKeys: 100 }, { signal }).toArray(500), []);
  const set = useModelSetChoice({ suggestedName: `${props.task.jobName || "tuned"}-model` });
  const [step, setStep] = useState<string>(props.step === undefined ? "" : String(props.step));
  const [description, setDescription] = useState("");
  const publish = useAction(async () => {
    const modelSetId = await set.resolve();
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
        <ModelSetFields choice={set} sets={sets.data ?? []} idPrefix="publish" />
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
        <button type="submit" disabled={publish.busy || !set.ready}>{publish.busy ? "Publishing…" : "Publish"}</button>
        <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}
