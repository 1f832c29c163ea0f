import { useState, type FormEvent } from "react";
import { useAction, useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate, useLocation } from "../../lib/router.js";
import { allVersions } from "../../lib/all-versions.js";
import { useMarkerList } from "../../lib/use-marker-list.js";
import { Empty, ErrorNote, Loaded } from "../../ui/feedback.js";
import { PageHeader, ReadOnlyNote } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { ListTable } from "../../ui/list-table.js";
import { StatusBadge } from "../../ui/status.js";
import { formatTime } from "../../ui/format.js";
import { suggestEndpoint } from "./endpoint.js";

/**
 * Inference services: every deployed model version with its run status and endpoint, and the
 * form that deploys one (opened by the version page's Deploy button with `?deploy=amv-…`).
 */
export function ServicesPage() {
  const { client, can } = useSession();
  const canWrite = can("service:write");
  const { search } = useLocation();
  const deploy = search.get("deploy") ?? undefined;
  const services = useMarkerList((signal) => client.services.list({ maxKeys: 50 }, { signal }), []);
  const [creating, setCreating] = useState(deploy !== undefined);
  return (
    <>
      <PageHeader title="Services" actions={canWrite && !creating ? <button type="button" onClick={() => setCreating(true)}>Deploy a model</button> : null} />
      {creating && canWrite ? <DeployForm version={deploy} onCancel={() => setCreating(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="service:write" /> : null}
      <ListTable
        list={services} noun={["service", "services"]} label="Services" rowKey={(s) => s.serviceId}
        columns={[
          { header: "Name", cell: (s) => <Link to={`/services/${s.serviceId}`}>{s.name}</Link> },
          { header: "Status", cell: (s) => <StatusBadge status={s.runStatus} /> },
          { header: "Endpoint", cell: (s) => <code>{s.endpoint}</code> },
          { header: "Model version", cell: (s) => <Link to={`/versions/${s.modelId}`}>{s.modelId}</Link> },
          { header: "Created", cell: (s) => formatTime(s.createTime) },
        ]}
        empty={
          <Empty title="No service yet.">
            <p>Deploying a Ready model version starts an inference engine on a worker; its endpoint then answers chat calls (here in the playground, or from any OpenAI client).</p>
          </Empty>
        }
      />
    </>
  );
}

function DeployForm(props: { version: string | undefined; onCancel: () => void }) {
  const { client } = useSession();
  const versions = useAsync(async (signal) => (await allVersions(client, signal)).filter((v) => v.status === "Ready"), []);
  const [versionId, setVersionId] = useState(props.version ?? "");
  const chosenId = versionId || versions.data?.[0]?.modelId || "";
  const chosen = versions.data?.find((v) => v.modelId === chosenId);
  const [name, setName] = useState("");
  const [endpoint, setEndpoint] = useState("");
  const shownName = name || (chosen?.modelName ?? "");
  const shownEndpoint = endpoint || suggestEndpoint(shownName);
  const create = useAction(async () => {
    const { serviceId } = await client.services.create({
      modelId: chosenId, ...(chosen === undefined ? {} : { modelSetId: chosen.modelSetId }), name: shownName.trim(), urlSuffix: shownEndpoint,
    });
    navigate(`/services/${serviceId}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <section className="card form" aria-label="Deploy a model version">
      <h2>Deploy a model version</h2>
      <Loaded state={versions} what="the Ready versions">
        {(ready) => ready.length === 0 ? (
          <Empty title="No Ready version to deploy.">
            <p>Publish a fine-tuning task, import a model or compress a version first.</p>
          </Empty>
        ) : (
          <form onSubmit={submit}>
            <div className="form-grid">
              <label className="field wide">
                <span>Model version</span>
                <select value={chosenId} onChange={(e) => setVersionId(e.target.value)}>
                  {ready.map((v) => <option key={v.modelId} value={v.modelId}>{v.modelName} ({v.modelId})</option>)}
                </select>
              </label>
              <label className="field">
                <span>Name</span>
                <input required maxLength={64} value={shownName} onChange={(e) => setName(e.target.value)} />
              </label>
              <label className="field">
                <span>Endpoint</span>
                <input required pattern="[a-z0-9][a-z0-9_\-]*[a-z0-9]" title="lower-case letters, digits, _ and -; a letter or digit at both ends"
                  maxLength={64} value={shownEndpoint} onChange={(e) => setEndpoint(e.target.value)} aria-describedby="endpoint-hint" />
                <small id="endpoint-hint" className="help">What callers put in <code>model</code>.</small>
              </label>
            </div>
            <ErrorNote error={create.error} />
            <div className="form-actions">
              <button type="submit" disabled={create.busy || chosenId === "" || shownName.trim() === ""}>{create.busy ? "Deploying…" : "Deploy"}</button>
              <button type="button" className="secondary" onClick={props.onCancel}>Cancel</button>
            </div>
          </form>
        )}
      </Loaded>
    </section>
  );
}
