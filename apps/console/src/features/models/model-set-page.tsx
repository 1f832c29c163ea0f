import { useState } from "react";
import { useAsync, usePolling } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { Empty, Loaded } from "../../ui/feedback.js";
import { Facts, PageHeader, Section, TableWrap } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge } from "../../ui/status.js";
import { formatTime } from "../../ui/format.js";
import { ImportModelForm } from "./import-model-form.js";
import { SourceText } from "./source.js";

/** One model set and its versions (newest first). */
export function ModelSetPage(props: { modelSetId: string }) {
  const { client, can } = useSession();
  const canWrite = can("model:write") && can("storage:write");
  const set = useAsync(async (signal) => {
    const detail = await client.models.describeSet({ modelSetId: props.modelSetId }, { signal });
    const versions = await Promise.all(detail.modelIds.map((modelId) => client.models.describe({ modelId }, { signal })));
    return { detail, versions };
  }, [props.modelSetId]);
  const [importing, setImporting] = useState(false);
  const creating = (set.data?.versions ?? []).some((v) => v.status === "Creating");
  usePolling(set, 1_000, creating);

  return (
    <>
      <PageHeader
        title={set.data?.detail.modelSetName ?? props.modelSetId}
        crumbs={[{ to: "/models", label: "Models" }]}
        actions={canWrite && !importing ? <button type="button" className="secondary" onClick={() => setImporting(true)}>Import a new version</button> : null}
      />
      {importing ? <ImportModelForm modelSetId={props.modelSetId} onCancel={() => setImporting(false)} /> : null}
      <Loaded state={set} what="the model set">
        {({ detail, versions }) => (
          <>
            <Facts items={[["Set id", <code key="id">{detail.modelSetId}</code>], ["Type", detail.modelType], ["Created", formatTime(detail.createTime)], ...(detail.description ? [["Description", detail.description] as const] : [])]} />
            {versions.length === 0 ? (
              <Empty title="No version in this set yet.">
                <p>Publish a finished fine-tuning task into it, import a model folder, or compress a version into it.</p>
              </Empty>
            ) : (
              <Section title="Versions">
                <TableWrap label="Versions">
                  <thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Source</th><th scope="col">Created</th></tr></thead>
                  <tbody>
                    {versions.map((v) => (
                      <tr key={v.modelId}>
                        <td><Link to={`/versions/${v.modelId}`}>{v.modelName}</Link></td>
                        <td><StatusBadge status={v.status} /></td>
                        <td><SourceText source={v.sourceInfo} /></td>
                        <td>{formatTime(v.createTime)}</td>
                      </tr>
                    ))}
                  </tbody>
                </TableWrap>
              </Section>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}
