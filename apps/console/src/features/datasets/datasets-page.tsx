import { useState, type FormEvent } from "react";
import { useAction, useUnmountSignal } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import type { UploadProgress } from "../../lib/upload.js";
import { Empty, ErrorNote } from "../../ui/feedback.js";
import { PageHeader, ReadOnlyNote } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { ListTable } from "../../ui/list-table.js";
import { useMarkerList } from "../../lib/use-marker-list.js";
import { UploadProgressBar } from "../../ui/upload-progress.js";
import { formatTime } from "../../ui/format.js";
import { DATA_FORMATS } from "./formats.js";
import { importFile } from "./import-file.js";

/** Every dataset, and the form that uploads a file into a new one. */
export function DatasetsPage() {
  const { client, can } = useSession();
  const canWrite = can("dataset:write") && can("storage:write");
  const datasets = useMarkerList((signal) => client.datasets.list({ maxKeys: 50 }, { signal }), []);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader title="Datasets" actions={canWrite && !creating ? <button type="button" onClick={() => setCreating(true)}>Upload a dataset</button> : null} />
      {creating ? <NewDatasetForm onCancel={() => setCreating(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="dataset:write" /> : null}
      <ListTable
        list={datasets} noun={["dataset", "datasets"]} label="Datasets" rowKey={(d) => d.datasetId}
        columns={[
          { header: "Name", cell: (d) => <Link to={`/datasets/${d.datasetId}`}>{d.datasetName}</Link> },
          { header: "Format", cell: (d) => d.dataFormat },
          { header: "Versions", cell: (d) => d.versionCount ?? "—" },
          { header: "Storage", cell: (d) => d.storageType },
          { header: "Created", cell: (d) => formatTime(d.createTime) },
        ]}
        empty={
          <Empty title="No datasets yet.">
            {canWrite
              ? <p>Upload a JSONL file of training examples with <strong>Upload a dataset</strong>; each line is checked and the invalid ones are listed by line number.</p>
              : <p>Someone with a key that grants <code>dataset:write</code> can upload one.</p>}
          </Empty>
        }
      />
    </>
  );
}

function NewDatasetForm(props: { onCancel: () => void }) {
  const { client, session } = useSession();
  const [name, setName] = useState("");
  const [format, setFormat] = useState(DATA_FORMATS[0]!.value);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const signal = useUnmountSignal();
  const create = useAction(async () => {
    if (file === null) return;
    const created = await client.datasets.create({ datasetName: name.trim(), dataFormat: format, storageType: "sysStorage" }, { signal });
    await importFile(client, { csrfToken: session.csrfToken, datasetId: created.datasetId, versionId: created.versionId, file, onProgress: setProgress, signal });
    navigate(`/datasets/${created.datasetId}`);
  });
  const example = DATA_FORMATS.find((f) => f.value === format)?.example ?? "";
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Upload a dataset">
      <h2>Upload a dataset</h2>
      <div className="form-grid">
        <label className="field">
          <span>Name</span>
          <input name="datasetName" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>Format</span>
          <select name="dataFormat" value={format} onChange={(e) => setFormat(e.target.value)}>
            {DATA_FORMATS.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
          </select>
        </label>
        <label className="field wide">
          <span>File (JSONL, one example per line)</span>
          <input name="file" type="file" required accept=".jsonl,.json,.txt,application/json,text/plain" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
      </div>
      <p className="muted small">One line looks like <code>{example}</code></p>
      <UploadProgressBar progress={progress} />
      <ErrorNote error={create.error} />
      <div className="form-actions">
        <button type="submit" disabled={create.busy || file === null || name.trim() === ""}>{create.busy ? "Uploading…" : "Upload and import"}</button>
        <button type="button" className="secondary" onClick={props.onCancel} disabled={create.busy}>Cancel</button>
      </div>
    </form>
  );
}
