import { useState } from "react";
import type { ServiceItem } from "@sailfin/sdk";
import { useAction, useAsync, usePolling } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { navigate } from "../../lib/router.js";
import { ErrorNote, Loaded } from "../../ui/feedback.js";
import { Facts, PageHeader, Section } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge } from "../../ui/status.js";
import { formatTime } from "../../ui/format.js";
import { Playground } from "./playground.js";

/** Statuses that change by themselves: the page follows them. */
const MOVING = new Set(["New", "Deploying"]);

/**
 * One service: its endpoint and call URL, the version it serves, stop / start / delete, and
 * the chat playground (this service, and up to two others answering the same prompt).
 */
export function ServicePage(props: { serviceId: string }) {
  const { client, can } = useSession();
  const service = useAsync((signal) => client.services.describe({ serviceId: props.serviceId }, { signal }), [props.serviceId]);
  usePolling(service, 2_000, service.data !== undefined && MOVING.has(service.data.runStatus));
  const s = service.data;
  return (
    <>
      <PageHeader
        title={<>{s?.name ?? props.serviceId} {s === undefined ? null : <StatusBadge status={s.runStatus} />}</>}
        crumbs={[{ to: "/services", label: "Services" }]}
        actions={s === undefined || !can("service:write") ? undefined : <ServiceActions service={s} onChanged={service.reload} />}
      />
      <Loaded state={service} what="the service">
        {(detail) => (
          <>
            {MOVING.has(detail.runStatus) ? <p className="notice" role="status">Starting the inference engine… this page updates by itself.</p> : null}
            {detail.runStatus === "Failed" ? (
              <div className="error-note" role="alert">
                <p className="error-title">The engine could not start.</p>
                <p className="error-detail">{detail.failureReason ?? "No reason was recorded."}</p>
                <p className="error-hint">Start the service again; if it fails again, look at the worker's log.</p>
              </div>
            ) : null}
            <Facts items={[
              ["Service id", <code key="id">{detail.serviceId}</code>],
              ["Endpoint", <code key="ep">{detail.endpoint}</code>],
              ["Model version", <Link key="v" to={`/versions/${detail.modelId}`}>{detail.modelId}</Link>],
              ["Created", formatTime(detail.createTime)],
              ["V1 call URL", <code key="url" className="small">{detail.url}</code>],
            ]} />
            <Section title="Playground">
              {detail.runStatus === "Serving"
                ? (can("service:invoke") ? <Playground first={detail} /> : <p className="read-only-note">Your access key cannot call services (needs <code>service:invoke</code>).</p>)
                : <p className="muted">The playground opens once the service is Serving.</p>}
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}

function ServiceActions(props: { service: ServiceItem; onChanged: () => void }) {
  const { client } = useSession();
  const id = props.service.serviceId;
  const [confirmDelete, setConfirmDelete] = useState(false);
  const act = useAction(async (what: "stop" | "start" | "delete") => {
    await client.services[what]({ serviceId: id });
    if (what === "delete") navigate("/services");
    else props.onChanged();
  });
  const status = props.service.runStatus;
  const stopped = status === "Stopped" || status === "Failed";
  return (
    <div className="inline-actions">
      {stopped ? <button type="button" disabled={act.busy} onClick={() => { void act.run("start"); }}>Start</button>
        : <button type="button" className="secondary" disabled={act.busy} onClick={() => { void act.run("stop"); }}>Stop</button>}
      {confirmDelete ? (
        <>
          <span>Delete this service?</span>
          <button type="button" className="danger" disabled={act.busy} onClick={() => { void act.run("delete"); }}>Confirm delete</button>
          <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>Keep it</button>
        </>
      ) : <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>Delete</button>}
      <ErrorNote error={act.error} />
    </div>
  );
}
