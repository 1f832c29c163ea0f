import { useEffect, useRef, useState, type FormEvent } from "react";
import type { DatasetVersionItem, ImportErrorInfo } from "@sailfin/sdk";
import { useAction, useAsync, usePolling, useUnmountSignal } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import type { UploadProgress } from "../../lib/upload.js";
import { ErrorNote, Loaded, Loading } from "../../ui/feedback.js";
import { Facts, PageHeader, ProgressBar, ReadOnlyNote, TableWrap } from "../../ui/layout.js";
import { StatusBadge } from "../../ui/status.js";
import { UploadProgressBar } from "../../ui/upload-progress.js";
import { formatBytes, formatCount, formatTime } from "../../ui/format.js";
import { importFile } from "./import-file.js";

/**
 * One dataset: its versions with import and release state, each version's validation report
 * (the invalid lines by file and line number), releasing, and uploading a new version. Re-reads
 * every second while an import or a release is running.
 */
export function DatasetPage(props: { datasetId: string }) {
  const { client, can } = useSession();
  const canWrite = can("dataset:write") && can("storage:write");
  const versions = useAsync((signal) => client.datasets.listVersions({ datasetId: props.datasetId, maxKeys: 100 }, { signal }).toArray(1000), [props.datasetId]);
  const busy = (versions.data ?? []).some((v) => v.importStatus === "Running" || v.publishStatus === "Publishing");
  usePolling(versions, 1_000, busy);
  // A version's own link (`/dataset-versions/<id>` → `#<id>`): scroll to it once the versions are in.
  const scrolled = useRef(false);
  useEffect(() => {
    const target = window.location.hash.slice(1);
    if (scrolled.current || versions.data === undefined || target === "") return;
    scrolled.current = true;
    document.getElementById(target)?.scrollIntoView({ block: "start" });
  }, [versions.data]);
  const first = versions.data?.[0];
  const [adding, setAdding] = useState(false);

  return (
    <>
      <PageHeader
        title={first?.datasetName ?? props.datasetId}
        crumbs={[{ to: "/datasets", label: "Datasets" }]}
        sub={first === undefined ? null : <span className="muted">{first.dataFormat} · {first.storageType} · <code>{props.datasetId}</code></span>}
        actions={canWrite && !adding ? <button type="button" className="secondary" onClick={() => setAdding(true)}>Upload a new version</button> : null}
      />
      {adding ? <NewVersionForm datasetId={props.datasetId} onDone={() => { setAdding(false); versions.reload(); }} /> : null}
      {!canWrite ? <ReadOnlyNote action="dataset:write" /> : null}
      <Loaded state={versions} what="dataset versions">
        {(list) => list.map((v) => <VersionCard key={v.versionId} version={v} canWrite={canWrite} onChange={versions.reload} />)}
      </Loaded>
    </>
  );
}

function VersionCard(props: { version: DatasetVersionItem; canWrite: boolean; onChange: () => void }) {
  const { client } = useSession();
  const v = props.version;
  const release = useAction(async () => {
    await client.datasets.publishVersion({ versionId: v.versionId });
    props.onChange();
  });
  const releasable = v.importStatus === "Finished" && (v.publishStatus === "Unpublished" || v.publishStatus === "PublishFailed");
  return (
    <section className="card version-card" id={v.versionId} aria-labelledby={`${v.versionId}-title`} data-testid="dataset-version">
      <div className="section-head">
        <h2 id={`${v.versionId}-title`}>Version {v.version} <StatusBadge status={v.importStatus} /> <StatusBadge status={v.publishStatus} /></h2>
        {props.canWrite && releasable ? (
          <button type="button" disabled={release.busy} onClick={() => { void release.run(); }}>{release.busy ? "Releasing…" : "Release"}</button>
        ) : null}
      </div>
      <ErrorNote error={release.error} />
      {v.importStatus === "Running" ? <ProgressBar value={v.importProgress} label="Import progress" /> : null}
      <Facts items={[
        ["Version id", <code key="id">{v.versionId}</code>],
        ["Samples", formatCount(v.sampleCount)],
        ["Characters", formatCount(v.characterCount)],
        ["Size", formatBytes(v.storageSize)],
        ["Created", formatTime(v.createTime)],
        ["Released", formatTime(v.publishTime)],
        ...(v.contentHash === "" ? [] : [["Content hash", <code key="hash" className="hash">{v.contentHash.slice(0, 16)}…</code>] as const]),
      ]} />
      {v.importStatus === "Finished" && v.publishStatus === "Unpublished"
        ? <p className="muted small">Imported. Release it to train or evaluate on it: a released version is frozen.</p>
        : null}
      <ValidationReport info={v.importErrorInfo} />
    </section>
  );
}

/** The import's findings: the invalid lines, exact to file and line, or the failure that is not about a line. */
function ValidationReport(props: { info: ImportErrorInfo | null }) {
  const info = props.info;
  if (info === null) return null;
  if (info.errorCount === 0 && info.message === "") return <p className="ok-note">Every line is valid.</p>;
  return (
    <div className="report" data-testid="validation-report">
      <h3>Validation report</h3>
      {/* With invalid lines the message only counts them, which the table says better. */}
      {info.message === "" || info.errorCount > 0 ? null : <p className="error-detail">{info.message}</p>}
      {info.errorCount === 0 ? null : (
        <>
          <p>
            {formatCount(info.errorCount)} invalid line{info.errorCount === 1 ? "" : "s"}{info.truncated > 0 ? `; the first ${info.errors.length} are listed` : ""}.
            {" "}Fix {info.errorCount === 1 ? "it" : "them"} in the file and upload it again as a new version.
          </p>
          <TableWrap label="Invalid lines">
            <thead><tr>{info.files.length > 1 ? <th scope="col">File</th> : null}<th scope="col">Line</th><th scope="col">Field</th><th scope="col">Problem</th></tr></thead>
            <tbody>
              {info.errors.map((e, i) => (
                <tr key={`${e.file ?? ""}:${e.line}:${i}`}>
                  {info.files.length > 1 ? <td>{e.file ?? ""}</td> : null}
                  <td>{e.line}</td>
                  <td><code>{e.field}</code></td>
                  <td>{e.reason}</td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        </>
      )}
    </div>
  );
}

function NewVersionForm(props: { datasetId: string; onDone: () => void }) {
  const { client, session } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const signal = useUnmountSignal();
  const upload = useAction(async () => {
    if (file === null) return;
    const version = await client.datasets.createVersion({ datasetId: props.datasetId }, { signal });
    await importFile(client, { csrfToken: session.csrfToken, datasetId: props.datasetId, versionId: version.versionId, file, onProgress: setProgress, signal });
    props.onDone();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void upload.run();
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Upload a new version">
      <label className="field">
        <span>File (JSONL)</span>
        <input type="file" required accept=".jsonl,.json,.txt,application/json,text/plain" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      <UploadProgressBar progress={progress} />
      <ErrorNote error={upload.error} />
      <div className="form-actions">
        <button type="submit" disabled={upload.busy || file === null}>{upload.busy ? "Uploading…" : "Upload and import"}</button>
        <button type="button" className="secondary" onClick={props.onDone} disabled={upload.busy}>Cancel</button>
      </div>
    </form>
  );
}

/** `/console/dataset-versions/<versionId>`: a version's own link (lineage, task pages) → its dataset's page. */
export function DatasetVersionRedirect(props: { versionId: string }) {
  const { client } = useSession();
  const version = useAsync((signal) => client.datasets.describeVersion({ versionId: props.versionId }, { signal }), [props.versionId]);
  useEffect(() => {
    if (version.data !== undefined) navigate(`/datasets/${version.data.datasetId}#${version.data.versionId}`, { replace: true });
  }, [version.data]);
  return version.error === undefined ? <Loading what="the dataset version" /> : <ErrorNote error={version.error} retry={version.reload} />;
}
