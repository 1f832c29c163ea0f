import { useState, type FormEvent } from "react";
import { useAction, useAsync, useUnmountSignal } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { uploadFile, type UploadProgress } from "../../lib/upload.js";
import { ErrorNote } from "../../ui/feedback.js";
import { UploadProgressBar } from "../../ui/upload-progress.js";
import { useModelSetChoice } from "../../lib/model-set-choice.js";
import { ModelSetFields } from "../../ui/model-set-fields.js";

const BUCKET = "console-models";

/**
 * Imports a model: the files of a model folder (config.json, model.safetensors, the tokenizer's
 * files) are uploaded into one fresh folder, then CreateCustomModel (sourceType Import) checks
 * them in the background; the version's page follows it to Ready or says what is missing.
 */
export function ImportModelForm(props: { modelSetId?: string; onCancel: () => void }) {
  const { client, session } = useSession();
  const sets = useAsync((signal) => client.models.listSets({ maxKeys: 100 }, { signal }).toArray(500), []);
  const set = useModelSetChoice({ initialSetId: props.modelSetId });
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
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
    const modelSetId = await set.resolve(signal);
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
        <ModelSetFields choice={set} sets={sets.data ?? []} idPrefix="import" />
        <div className="field wide">
          <label htmlFor="import-files">Model files</label>
          <input id="import-files" name="files" type="file" multiple required aria-describedby="import-files-help" onChange={(e) => setFiles([...(e.target.files ?? [])])} />
          <small id="import-files-help" className="help">Every file of the model folder: config.json, model.safetensors (or shards with their index), tokenizer.json / tokenizer_config.json.</small>
        </div>
      </div>
      <UploadProgressBar progress={progress} />
      <ErrorNote error={run.error ?? sets.error} />
      <div className="form-actions">
        <button type="submit" disabled={run.busy || files.length === 0 || !set.ready}>{run.busy ? "Importing…" : "Upload and import"}</button>
        <button type="button" className="secondary" onClick={props.onCancel} disabled={run.busy}>Cancel</button>
      </div>
    </form>
  );
}
