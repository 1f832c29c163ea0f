import { useAsync, usePolling } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { ErrorNote, Loaded, Loading } from "../../ui/feedback.js";
import { Facts, PageHeader, Section } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge } from "../../ui/status.js";
import { LineageGraph } from "../../ui/lineage-graph.js";
import { formatTime } from "../../ui/format.js";
import { loadLineage } from "./lineage.js";
import { SourceText } from "./source.js";

/**
 * One model version: status (followed while Creating), where it came from, and its lineage
 * graph (dataset → task → version → compressed version → evaluations, services), with shortcuts to
 * compress, evaluate or deploy it.
 */
export function VersionPage(props: { modelId: string }) {
  const { client, can } = useSession();
  const version = useAsync((signal) => client.models.describe({ modelId: props.modelId }, { signal }), [props.modelId]);
  const status = version.data?.status;
  usePolling(version, 1_000, status === "Creating");
  const lineage = useAsync(async (signal) => (version.data === undefined ? undefined : loadLineage(client, version.data, signal)), [version.data?.modelId, status]);
  const v = version.data;
  const ready = v?.status === "Ready";

  return (
    <>
      <PageHeader
        title={<>{v?.modelName ?? props.modelId} {v === undefined ? null : <StatusBadge status={v.status} />}</>}
        crumbs={[{ to: "/models", label: "Models" }, ...(v === undefined ? [] : [{ to: `/models/${v.modelSetId}`, label: v.modelName.replace(/-V\d+$/, "") }])]}
        actions={v === undefined || !ready ? undefined : (
          <div className="inline-actions">
            {can("comp:write") && v.isSupportModelComp ? <Link className="button secondary" to={`/compression?source=${v.modelId}`}>Compress</Link> : null}
            {can("eval:write") ? <Link className="button" to={`/evaluations?models=${v.modelId}`}>Evaluate</Link> : null}
            {can("service:write") ? <Link className="button secondary" to={`/services?deploy=${v.modelId}`}>Deploy</Link> : null}
          </div>
        )}
      />
      <Loaded state={version} what="the model version">
        {(detail) => (
          <>
            {detail.status === "Creating" ? <p className="notice" role="status">Preparing the version's files… this page updates by itself.</p> : null}
            {detail.failReason === undefined || detail.failReason === "" ? null : (
              <div className="error-note" role="alert">
                <p className="error-title">This version could not be created.</p>
                <p className="error-detail">{detail.failReason}</p>
                <p className="error-hint">{detail.sourceInfo.sourceType === "Import" ? "Upload the complete model folder again as a new version." : "Publish the task again; if it fails again, look at the worker's log."}</p>
              </div>
            )}
            <Facts items={[
              ["Version id", <code key="id">{detail.modelId}</code>],
              ["Source", <SourceText key="src" source={detail.sourceInfo} />],
              ["Base model", detail.model || "—"],
              ["Created", formatTime(detail.createTime)],
              ["Context length", detail.tokenLimitations === undefined ? "—" : `${detail.tokenLimitations.trivial.inputTokens} tokens`],
              ["Compressible", detail.isSupportModelComp ? "yes" : "no"],
            ]} />
            <Section title="Lineage">
              {lineage.data === undefined ? (lineage.error === undefined ? <Loading what="the lineage" /> : <ErrorNote error={lineage.error} retry={lineage.reload} />) : <LineageGraph nodes={lineage.data.nodes} edges={lineage.data.edges} />}
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}
