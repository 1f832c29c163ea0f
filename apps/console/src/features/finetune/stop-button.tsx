import { useState } from "react";
import type { FineTuningTaskDetail } from "@sailfin/sdk";
import { useAction } from "../../lib/use-async.js";
import { useCan, useSession } from "../../lib/session.js";
import { ErrorNote } from "../../ui/feedback.js";

/**
 * Stops a waiting, running or paused task, after a second click to confirm (in the page, not a
 * native dialog, so it stays keyboard- and screen-reader-friendly), and pauses or resumes it (one
 * click: both can be undone). Hidden without `tuning:write`.
 */
export function StopButton(props: { task: FineTuningTaskDetail; onStopped: () => void }) {
  const { client } = useSession();
  const allowed = useCan("tuning:write");
  const [confirming, setConfirming] = useState(false);
  const stop = useAction(async () => {
    await client.tasks.stop({ taskId: props.task.taskId });
    setConfirming(false);
    props.onStopped();
  });
  const status = props.task.runStatus;
  const pause = useAction(async () => {
    await (status === "Paused" ? client.tasks.resume({ taskId: props.task.taskId }) : client.tasks.pause({ taskId: props.task.taskId }));
    props.onStopped();
  });
  if (!allowed || !(status === "Running" || status === "Waiting" || status === "Paused")) return null;
  return (
    <div className="inline-actions">
      {/* Pause saves a checkpoint and frees the worker; resume continues from that checkpoint. */}
      <button type="button" className="secondary" disabled={pause.busy} onClick={() => { void pause.run(); }}>{status === "Paused" ? "Resume" : "Pause"}</button>
      <ErrorNote error={pause.error} />
      {confirming ? (
        <>
          <span>Stop training? The last checkpoint is kept.</span>
          <button type="button" className="danger" disabled={stop.busy} onClick={() => { void stop.run(); }}>{stop.busy ? "Stopping…" : "Confirm stop"}</button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>Keep training</button>
        </>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>Stop training</button>
      )}
      <ErrorNote error={stop.error} />
    </div>
  );
}
