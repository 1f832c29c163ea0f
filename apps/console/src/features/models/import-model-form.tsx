import { useState, type FormEvent } from "react";
import { useAction, useAsync, useUnmountSignal } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { uploadFile, type UploadProgress } from "../../lib/upload.js";
import { ErrorNote } from "../../ui/feedback.js";
import { UploadProgressBar } from "../../ui/upload-progress.js";

const NEW_SET = "__new__";
const BUCKET = "console-models";
const SET_NAME = /^[A-Za-z0-9_.-]{2,50}$/;

/**
 * Imports a model: the files of a model folder (config.json, model.safetensors, the tokenizer's
 * files) are uploaded into one fresh folder, then CreateCustomModel (sourceType Import) checks
 * them in the background; the version's page follows it to Ready or says what is missing.
 */
export function ImportModelForm(props: { modelSetId?: string; onCancel: () => void }) {
  const { client, session } = useSession();
  const sets = useAsync((signal) => client.models.listSets({ maxKeys: 100 }, { signal }).toArray(500), []);
  const [setId, setSetId] = useState(props.modelSetId ?? NEW_SET);
  const [setName, setSetName] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const nameError = setId === NEW_SET && setName !== "" && !SET_NAME.test(setName) ? "use 2 to 50 letters, digits, _ - ." : undefined;
  const total = files.reduce((sum, f) => sum + f.size, 0);

  const signal = useUnmountSignal();
  const run = useAction(async () => {
    const folder = `${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
    let done = 0;
    for (const file of files) {
      await uploadFile({
        bucket: BUCKET, path: `${folder}/${file.name}`, file, csrfToken: session.csrfToken,
        onProgress: (p) => setProgress({ loaded: done + p.loaded, total }), signal,
      });
      done += file.size;
    }
    const modelSetId = setId === NEW_SET ? await client.models.createSet({ modelSetName: setName, modelType: "Text2Text" }, { signal }) : setId;
    const created = await client.models.create({ modelSetId, sourceType: "Import", importMeta: { bucket: BUCKET, objectPath: folder } }, { signal });
    navigate(`/versions/${created.modelId}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run.run();
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Import a model">
      <h2>Import a model</h2>
      <div className="form-grid">
        <label className="field">
          <span>Model set</span>
          <select value={setId} onChange={(e) => setSetId(e.target.value)}>
            <option value={NEW_SET}>New model set…</option>
            {(sets.data ?? []).map((s) => <option key={s.modelSetId} value={s.modelSetId}>{s.modelSetName}</option>)}
          </select>
        </label>
        {setId === NEW_SET ? (
          <div className="field">
            <label htmlFor="import-set-name">New set name</label>
            <input id="import-set-name" name="modelSetName" required value={setName} aria-invalid={nameError !== undefined} aria-describedby="import-set-help" onChange={(e) => setSetName(e.target.value)} />
            <small id="import-set-help" className={nameError === undefined ? "help" : "field-error"}>{nameError ?? "2 to 50 letters, digits, _ - ."}</small>
          </div>
        ) : null}
        <div className="field wide">
          <label htmlFor="import-files">Model files</label>
          <input id="import-files" name="files" type="file" multiple required aria-describedby="import-files-help" onChange={(e) => setFiles([...(e.target.files ?? [])])} />
          <small id="import-files-help" className="help">Every file of the model folder: config.json, model.safetensors (or shards with their index), tokenizer.json / tokenizer_config.json.</small>
        </div>
      </div>
      <UploadProgressBar progress={progress} />
      <ErrorNote error={run.error ?? sets.error} />
      <div className="form-actions">
        <button type="submit" disabled={run.busy || files.length === 0 || (setId === NEW_SET && (setName === "" || nameError !== undefined))}>{run.busy ? "Importing…" : "Upload and import"}</button>
        <button type="button" className="secondary" onClick={props.onCancel} disabled={run.busy}>Cancel</button>
      </div>
    </form>
  );
}
