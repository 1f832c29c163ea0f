import { useState } from "react";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { useFollow } from "../../lib/use-follow.js";
import { ErrorNote } from "../../ui/feedback.js";
import { Section } from "../../ui/layout.js";
import { StatusBadge } from "../../ui/status.js";
import { formatTime } from "../../ui/format.js";

/**
 * Exports an evaluation's results (CreateEvalResultExportTask, kept by the server) and offers the
 * zip's signed download link once Done. The link is signed for a limited time, so an export is
 * made when asked for rather than an old one being looked up.
 */
export function ExportPanel(props: { evalId: string }) {
  const { client, can } = useSession();
  const [exportTaskId, setExportTaskId] = useState<string | null>(null);
  const task = useAsync(async (signal) => (exportTaskId === null ? null : client.exports.describe({ exportTaskId }, { signal })), [exportTaskId]);
  const state = task.data?.state;
  const busy = exportTaskId !== null && (state === undefined || state === "Pending" || state === "Uploading");
  useFollow(exportTaskId ?? undefined, busy, task.reload);
  const start = useAction(async () => {
    setExportTaskId(await client.exports.create({ evalId: props.evalId, storageType: "sysStorage", exportContent: ["prompt", "prediction", "completion", "metrics"] }));
  });
  const canExport = can("eval:write");
  const t = task.data;
  return (
    <Section title="Export" actions={canExport && !busy ? <button type="button" disabled={start.busy} onClick={() => { void start.run(); }}>{start.busy ? "Starting…" : t ? "Export again" : "Export results"}</button> : null}>
      <ErrorNote error={start.error ?? task.error} />
      {t === null || t === undefined ? (
        <p className="muted">{canExport ? "Export the prompts, answers, references and scores as a zip (JSONL and CSV)." : "Exporting needs a key that grants eval:write."}</p>
      ) : (
        <div className="export" data-testid="export">
          <p><StatusBadge status={t.state} /> export <code>{t.exportTaskId}</code>, started {formatTime(t.createTime)}</p>
          {t.failReason ? <p className="error-detail">{t.failReason}</p> : null}
          {t.state === "Done" && t.downloadUrl !== "" ? (
            <p><a className="button" href={t.downloadUrl} download>Download results (zip)</a> <span className="muted small">The link is signed and expires; export again for a fresh one.</span></p>
          ) : null}
          {busy ? <p className="muted" role="status">Preparing the file…</p> : null}
        </div>
      )}
    </Section>
  );
}
