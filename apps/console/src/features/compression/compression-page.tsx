import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { useFollow } from "../../lib/use-follow.js";
import { ErrorNote, Loaded } from "../../ui/feedback.js";
import { Facts, PageHeader, ProgressBar, Section, TableWrap } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge, isFinal } from "../../ui/status.js";
import { formatBytes, formatDuration, formatNumber, formatTime } from "../../ui/format.js";

/** One compression task, followed live, with the source and the result side by side. */
export function CompressionPage(props: { id: string }) {
  const { client, can } = useSession();
  const comp = useAsync((signal) => client.compression.describe({ modelCompTaskId: props.id }, { signal }), [props.id]);
  const status = comp.data?.status;
  const live = useFollow(props.id, status !== undefined && !isFinal(status), comp.reload);
  const cancel = useAction(async () => {
    await client.compression.cancel({ modelCompTaskId: props.id });
    comp.reload();
  });
  const running = status === "creating" || status === "running";
  return (
    <>
      <PageHeader
        title={<>{comp.data?.name ?? props.id} {status === undefined ? null : <StatusBadge status={status} />}</>}
        crumbs={[{ to: "/compression", label: "Compression" }]}
        actions={can("comp:write") && running ? <button type="button" className="danger" disabled={cancel.busy} onClick={() => { void cancel.run(); }}>{cancel.busy ? "Stopping…" : "Stop"}</button> : null}
      />
      <ErrorNote error={cancel.error} />
      <Loaded state={comp} what="the compression task">
        {(c) => (
          <>
            {running ? <ProgressBar value={live.progress ?? c.progress} label="Compression progress" /> : null}
            {c.failedReason === undefined || c.failedReason === "" ? null : (
              <div className="error-note" role="alert"><p className="error-title">The compression failed.</p><p className="error-detail">{c.failedReason}</p><p className="error-hint">Check that the source version is Ready, then start a new compression.</p></div>
            )}
            <Facts items={[
              ["Task id", <code key="id">{c.id}</code>],
              ["Config", Object.entries(c.config).map(([k, v]) => `${k}=${String(v)}`).join(", ")],
              ["Created", formatTime(c.createTime)],
              ["Finished", formatTime(c.finishTime)],
              ["Took", formatDuration(c.seconds)],
            ]} />
            <Section title="Before and after">
              <TableWrap label="Source and compressed version">
                <thead><tr><th scope="col"></th><th scope="col">Source</th><th scope="col">Compressed</th></tr></thead>
                <tbody>
                  <tr><th scope="row">Version</th><td><Link to={`/versions/${c.sourceModelId}`}>{c.sourceModelId}</Link></td><td>{c.modelId === "" ? "—" : <Link to={`/versions/${c.modelId}`}>{c.modelId}</Link>}</td></tr>
                  <tr><th scope="row">Size</th><td>{formatBytes(c.sizeBeforeBytes)}</td><td>{formatBytes(c.sizeAfterBytes)}</td></tr>
                  <tr><th scope="row">Perplexity</th><td>{formatNumber(c.perplexityBefore)}</td><td>{formatNumber(c.perplexityAfter)}{c.perplexityDeltaPercent === null || c.perplexityDeltaPercent === undefined ? null : ` (${c.perplexityDeltaPercent >= 0 ? "+" : ""}${formatNumber(c.perplexityDeltaPercent, 3)}%)`}</td></tr>
                </tbody>
              </TableWrap>
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}
