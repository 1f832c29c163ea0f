import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { useFollow } from "../../lib/use-follow.js";
import { ErrorNote, Loaded } from "../../ui/feedback.js";
import { Facts, PageHeader, ProgressBar, Section, TableWrap } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge, isFinal } from "../../ui/status.js";
import { formatTime } from "../../ui/format.js";
import { ReportTable } from "./report-table.js";
import { SampleResults } from "./sample-results.js";
import { ExportPanel } from "./export-panel.js";

/**
 * One evaluation: followed live while it runs; once finished, the versions side by side
 * (metrics, sizes, throughput), every sample's answer and scores with filters, and the export
 * of the results with a download link.
 */
export function EvaluationPage(props: { id: string }) {
  const { client, can } = useSession();
  const detail = useAsync((signal) => client.evaluations.describe({ taskId: props.id }, { signal }), [props.id]);
  const state = detail.data?.state;
  const live = useFollow(props.id, state !== undefined && !isFinal(state), detail.reload);
  const done = state === "Successed";
  const report = useAsync(async (signal) => (done ? client.evaluations.report({ taskId: props.id }, { signal }) : null), [props.id, done]);
  const stop = useAction(async () => {
    await client.evaluations.stop({ taskId: props.id });
    detail.reload();
  });
  const running = state === "Queued" || state === "Running";
  return (
    <>
      <PageHeader
        title={<>{detail.data?.taskName ?? props.id} {state === undefined ? null : <StatusBadge status={state} />}</>}
        crumbs={[{ to: "/evaluations", label: "Evaluations" }]}
        actions={can("eval:write") && running ? <button type="button" className="danger" disabled={stop.busy} onClick={() => { void stop.run(); }}>{stop.busy ? "Stopping…" : "Stop"}</button> : null}
      />
      <ErrorNote error={stop.error} />
      <Loaded state={detail} what="the evaluation">
        {(e) => (
          <>
            {running ? <ProgressBar value={live.progress ?? e.progress} label="Evaluation progress" /> : null}
            {e.failReason === undefined || e.failReason === "" ? null : (
              <div className="error-note" role="alert"><p className="error-title">The evaluation failed.</p><p className="error-detail">{e.failReason}</p><p className="error-hint">Fix what it names (a version that is not Ready, an unreachable judge) and start a new evaluation.</p></div>
            )}
            <Facts items={[
              ["Evaluation id", <code key="id">{e.taskId}</code>],
              ["Dataset", <Link key="ds" to={`/dataset-versions/${e.datasetVersionId}`}>{e.datasetVersionId}</Link>],
              ["Metrics", e.evalMode],
              ["Created", formatTime(e.createTime)],
              ["Finished", formatTime(e.finishTime)],
            ]} />
            <Section title="Versions">
              <TableWrap label="Evaluated versions">
                <thead><tr><th scope="col">Version</th><th scope="col">State</th><th scope="col">Note</th></tr></thead>
                <tbody>
                  {e.models.map((m) => (
                    <tr key={m.modelId}><td><Link to={m.modelId.startsWith("ds-") ? `/dataset-versions/${m.modelId}` : `/versions/${m.modelId}`}>{m.modelName}</Link></td><td><StatusBadge status={m.state} /></td><td>{m.message}</td></tr>
                  ))}
                </tbody>
              </TableWrap>
            </Section>
            {state === "RunningWithManualBegin" ? (
              <p>The answers are written{e.resultDatasetId === undefined ? null : <> (result dataset <Link to={`/dataset-versions/${e.resultDatasetId}`}>{e.resultDatasetId}</Link>)</>}: people score them now. <Link to={`/evaluations/${e.taskId}/score`}>Score the answers</Link></p>
            ) : done ? (
              <>
                <Section title="Report">
                  <Loaded state={report} what="the report">{(r) => (r === null ? null : <ReportTable report={r} />)}</Loaded>
                </Section>
                <SampleResults evaluation={e} />
                <ExportPanel evalId={e.taskId} />
              </>
            ) : (
              <p className="muted">{running ? "The report, the per-sample results and the export appear here once the evaluation has finished." : "This evaluation did not finish: it has no report."}</p>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}
