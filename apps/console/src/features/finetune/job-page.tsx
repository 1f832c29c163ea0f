import { useState } from "react";
import { useAsync } from "../../lib/use-async.js";
import { useSession } from "../../lib/session.js";
import { Empty, ErrorNote, Loaded } from "../../ui/feedback.js";
import { Facts, PageHeader, ReadOnlyNote, Section, TableWrap } from "../../ui/layout.js";
import { Link } from "../../ui/link.js";
import { StatusBadge } from "../../ui/status.js";
import { formatTime } from "../../ui/format.js";
import { NewTaskForm } from "./new-task-form.js";

/** One job: its tasks (training runs) and the form that starts a new one. */
export function JobPage(props: { jobId: string }) {
  const { client, can } = useSession();
  const canWrite = can("tuning:write");
  // There is no DescribeFineTuningJob: the job comes from the list.
  const job = useAsync(async (signal) => {
    for await (const item of client.jobs.list({ maxKeys: 100 }, { signal })) if (item.jobId === props.jobId) return item;
    return null;
  }, [props.jobId]);
  const tasks = useAsync((signal) => client.tasks.list({ jobId: props.jobId, maxKeys: 100 }, { signal }).toArray(1000), [props.jobId]);
  const [creating, setCreating] = useState(false);
  const detail = job.data ?? undefined;

  if (job.data === null) {
    return (
      <>
        <PageHeader title="Job not found" crumbs={[{ to: "/jobs", label: "Fine-tuning" }]} />
        <p>No job <code>{props.jobId}</code> exists (it may have been deleted). <Link to="/jobs">See every job</Link>.</p>
      </>
    );
  }
  return (
    <>
      <PageHeader
        title={detail?.name ?? props.jobId}
        crumbs={[{ to: "/jobs", label: "Fine-tuning" }]}
        actions={canWrite && !creating && detail !== undefined ? <button type="button" onClick={() => setCreating(true)}>New task</button> : null}
      />
      <ErrorNote error={job.error} retry={job.reload} />
      {detail === undefined ? null : (
        <Facts items={[["Base model", detail.model], ["Train mode", detail.trainMode], ["Created", formatTime(detail.createTime)], ["Job id", <code key="id">{detail.jobId}</code>]]} />
      )}
      {creating && detail !== undefined ? <NewTaskForm job={detail} onCancel={() => setCreating(false)} /> : null}
      {!canWrite ? <ReadOnlyNote action="tuning:write" /> : null}
      <Loaded state={tasks} what="tasks">
        {(list) => list.length === 0 ? (
          <Empty title="No task in this job yet.">
            <p>{canWrite ? <>A task trains the base model on released datasets: <strong>New task</strong> shows the form and a quote before anything starts.</> : "Tasks started here will be listed."}</p>
          </Empty>
        ) : (
          <Section title="Tasks">
            <TableWrap label="Tasks">
              <thead><tr><th scope="col">Task</th><th scope="col">Status</th><th scope="col">Scale</th><th scope="col">Created</th><th scope="col">Finished</th></tr></thead>
              <tbody>
                {list.map((t) => (
                  <tr key={t.taskId}>
                    <td><Link to={`/tasks/${t.taskId}`}>{t.taskId}</Link>{t.description === "" ? null : <div className="muted small">{t.description}</div>}</td>
                    <td><StatusBadge status={t.runStatus} />{t.runProgress === undefined ? null : <span className="muted small"> {t.runProgress}</span>}</td>
                    <td>{t.parameterScale}</td>
                    <td>{formatTime(t.createDate)}</td>
                    <td>{formatTime(t.finishDate)}</td>
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          </Section>
        )}
      </Loaded>
    </>
  );
}
