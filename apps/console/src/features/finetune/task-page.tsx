import { Suspense, lazy, useCallback, useEffect, useRef, useState } from "react";
import type { FineTuningTaskDetail } from "@sailfin/sdk";
import { useAsync, usePolling } from "../../lib/use-async.js";
import { useCan, useSession } from "../../lib/session.js";
import { followEvents } from "../../lib/live-events.js";
import { MetricSeries } from "../../lib/metric-series.js";
import { Loaded, Loading } from "../../ui/feedback.js";
import { Facts, PageHeader, ProgressBar, Section, TableWrap } from "../../ui/layout.js";
import { StatusBadge, isFinal } from "../../ui/status.js";
import { Link } from "../../ui/link.js";
import { formatCount, formatDuration, formatNumber, formatTime } from "../../ui/format.js";
import { PublishForm } from "./publish-form.js";
import { StopButton } from "./stop-button.js";

// uPlot is only needed here: its chunk loads with the first task page, not with the app.
const LossChart = lazy(async () => ({ default: (await import("../../ui/loss-chart.js")).LossChart }));

/**
 * A fine-tuning task (`/console/tasks/<taskId>`, the task's vdlLink): the live chart fed by the
 * event stream, progress, ETA and throughput, checkpoints, and the stop and publish actions.
 * The task itself is re-read on every state change and every few seconds while it runs (the
 * checkpoint list is not in the stream).
 */
export function TaskPage(props: { taskId: string }) {
  const { client } = useSession();
  const task = useAsync((signal) => client.tasks.describe({ taskId: props.taskId }, { signal }), [props.taskId]);
  const live = useLiveTask(props.taskId, task.reload);
  const status = task.data?.runStatus;

  usePolling(task, 5_000, status !== undefined && !isFinal(status));

  return (
    <>
      <PageHeader
        title={<>Task <code>{props.taskId}</code> {status === undefined ? null : <StatusBadge status={status} />}</>}
        crumbs={[{ to: "/jobs", label: "Fine-tuning" }, ...(task.data === undefined ? [] : [{ to: `/jobs/${task.data.jobId}`, label: task.data.jobName || task.data.jobId }])]}
        actions={task.data === undefined ? undefined : <StopButton task={task.data} onStopped={task.reload} />}
      />
      <Loaded state={task} what="the task">
        {(detail) => <TaskBody task={detail} live={live} />}
      </Loaded>
    </>
  );
}

interface LiveTask {
  readonly series: MetricSeries;
  readonly revision: number;
  readonly progress: number | null;
  readonly runningSince: number | null;
  readonly connection: "live" | "reconnecting" | "dropped" | "ended" | "connecting";
}

/** The event stream of one task, folded into chart columns and figures. */
function useLiveTask(taskId: string, onStateChange: () => void): LiveTask {
  const [series, setSeries] = useState(() => new MetricSeries());
  const [revision, setRevision] = useState(0);
  const [progress, setProgress] = useState<number | null>(null);
  const [runningSince, setRunningSince] = useState<number | null>(null);
  const [connection, setConnection] = useState<LiveTask["connection"]>("connecting");
  const pending = useRef(false);
  const changed = useRef(onStateChange);
  changed.current = onStateChange;

  useEffect(() => {
    const fresh = new MetricSeries();
    setSeries(fresh);
    setProgress(null);
    setRunningSince(null);
    setConnection("connecting");
    // Points arrive in bursts (a history page is hundreds of items at once): one render per frame.
    const bump = () => {
      if (pending.current) return;
      pending.current = true;
      requestAnimationFrame(() => {
        pending.current = false;
        setRevision((r) => r + 1);
      });
    };
    return followEvents(taskId, {
      metric: (point) => { fresh.upsert(point); bump(); },
      eval: ({ step, evalLoss }) => { fresh.setEval(step, evalLoss); bump(); },
      progress: (value) => setProgress(value),
      state: (event) => {
        if (event.to === "Running" && event.from !== "Running") setRunningSince(Date.parse(event.at));
        changed.current();
      },
      end: () => { setConnection("ended"); changed.current(); },
      connection: (value) => {
        setConnection(value);
        // A dropped stream may mean the task is over (a 204): the re-read shows it.
        if (value === "dropped") changed.current();
      },
    });
  }, [taskId]);

  return { series, revision, progress, runningSince, connection };
}

function TaskBody(props: { task: FineTuningTaskDetail; live: LiveTask }) {
  const { task, live } = props;
  const canPublish = useCan("model:write");
  const running = task.runStatus === "Running" || task.runStatus === "Waiting";
  const progress = task.runStatus === "Done" ? 100 : live.progress ?? parseProgress(task.runProgress) ?? 0;
  const eta = useEta(running ? progress : null, live.runningSince);
  const [publishStep, setPublishStep] = useState<number | undefined>(undefined);
  const [publishing, setPublishing] = useState(false);
  const publishable = task.runStatus === "Done" && task.checkpointList.length > 0;
  const openPublish = useCallback((step?: number) => { setPublishStep(step); setPublishing(true); }, []);

  return (
    <>
      {task.failureReason === undefined || task.failureReason === "" ? null : (
        <div className="error-note" role="alert">
          <p className="error-title">The task failed.</p>
          <p className="error-detail">{task.failureReason}</p>
          <p className="error-hint">{task.failureKind === "system"
            ? "The worker or runtime failed: start the task again; if it fails again, look at the worker's log."
            : "Fix the input it names (dataset or hyper-parameters) and start a new task."}</p>
        </div>
      )}
      <div className="stats" aria-live="polite">
        <div className="stat"><span className="stat-label">Progress</span><ProgressBar value={progress} label="Training progress" /></div>
        <div className="stat"><span className="stat-label">ETA</span><span className="stat-value" data-testid="eta">{running ? formatDuration(eta) : "—"}</span></div>
        <div className="stat"><span className="stat-label">Tokens/s</span><span className="stat-value" data-testid="tokens-per-second">{formatNumber(live.series.tokensPerSecond, 3)}</span></div>
        <div className="stat"><span className="stat-label">Step</span><span className="stat-value" data-testid="step">{formatCount(live.series.lastStep)}</span></div>
        <div className="stat"><span className="stat-label">Epoch</span><span className="stat-value">{formatNumber(live.series.epoch, 3)}</span></div>
      </div>

      <Section title="Loss" actions={<span className={`live live-${live.connection}`} data-testid="stream-status">{CONNECTION_LABEL[live.connection]}</span>}>
        {live.series.size === 0 && !running && live.connection === "ended"
          ? <p className="muted">This task logged no training steps.</p>
          : <Suspense fallback={<Loading what="the chart" />}><LossChart series={live.series} revision={live.revision} /></Suspense>}
        {live.series.size === 0 && running ? <p className="muted">Waiting for the first logged step…</p> : null}
      </Section>

      <Section
        title="Checkpoints"
        actions={canPublish && publishable && !publishing ? <button type="button" onClick={() => openPublish()}>Publish as model version</button> : null}
      >
        {publishing && canPublish ? (
          <PublishForm key={publishStep ?? "last"} task={task} step={publishStep} onCancel={() => setPublishing(false)} />
        ) : null}
        {task.checkpointList.length === 0 ? (
          <p className="muted">{running ? "No checkpoint yet: one is saved as training goes on." : "This task saved no checkpoint."}</p>
        ) : (
          <TableWrap label="Checkpoints">
            <thead><tr><th scope="col">Step</th><th scope="col">Training loss</th><th scope="col">Perplexity (eval)</th>{canPublish ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
            <tbody>
              {task.checkpointList.map((c) => (
                <tr key={c.step}>
                  <td>{c.step}</td>
                  <td>{formatNumber(c.trainingLoss)}</td>
                  <td>{formatNumber(c.perplexity)}</td>
                  {canPublish ? (
                    <td>{publishable ? <button type="button" className="secondary small" onClick={() => openPublish(c.step)}>Publish step {c.step}</button> : null}</td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </TableWrap>
        )}
      </Section>

      <Section title="Details">
        <Facts items={[
          ["Base model", task.model],
          ["Train mode", task.trainMode],
          ["Parameter scale", task.parameterScale],
          ["Created", formatTime(task.createDate)],
          ["Finished", formatTime(task.finishDate)],
          ["Datasets", <>{task.datasetConfig.versions.map((v) => <div key={v.versionId}><Link to={`/dataset-versions/${v.versionId}`}>{v.versionId}</Link> × {v.samplingRate}</div>)}</>],
          ["Validation split", `${task.datasetConfig.splitRatio}%`],
          // A task created through OpenAI's API: the names its SDK code uses for it.
          ...(task.openAiJob === undefined ? [] : [
            ["OpenAI job", <code key="ftjob" data-testid="openai-job">{task.openAiJob.id}</code>] as const,
            ["Fine-tuned model", task.openAiJob.fineTunedModel === null ? "— (once it succeeded)" : <code key="ft" data-testid="fine-tuned-model">{task.openAiJob.fineTunedModel}</code>] as const,
          ]),
          ...(task.incrementTaskId === undefined ? [] : [["Continues", <Link key="inc" to={`/tasks/${task.incrementTaskId}`}>{task.incrementTaskId} @ step {task.incrementCheckpointStep ?? "last"}</Link>] as const]),
        ]} />
        <TableWrap label="Hyper-parameters">
          <thead><tr><th scope="col">Hyper-parameter</th><th scope="col">Value</th></tr></thead>
          <tbody>
            {Object.entries(task.hyperParameterConfig).map(([key, value]) => (
              <tr key={key}><td><code>{key}</code></td><td>{Array.isArray(value) ? value.join(", ") : String(value)}</td></tr>
            ))}
          </tbody>
        </TableWrap>
      </Section>
    </>
  );
}

const CONNECTION_LABEL: Readonly<Record<LiveTask["connection"], string>> = {
  connecting: "connecting…",
  live: "● live",
  reconnecting: "reconnecting…",
  dropped: "disconnected, retrying…",
  ended: "finished",
};

function parseProgress(value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number.parseFloat(value);
  return Number.isFinite(n) ? n : null;
}

/** Seconds left, from the time since training started and the share done; ticks every second. */
function useEta(progress: number | null, since: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (progress === null) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [progress]);
  if (progress === null || since === null || progress <= 0 || progress >= 100) return null;
  const elapsed = (now - since) / 1000;
  return (elapsed * (100 - progress)) / progress;
}

