/**
 * One badge for every status word the API uses (tasks, versions, datasets, compressions,
 * evaluations, exports): its tone says whether the thing is working, done, failed or idle.
 */
type Tone = "ok" | "busy" | "bad" | "idle";

const TONES: Readonly<Record<string, Tone>> = {
  Done: "ok", Ready: "ok", Finished: "ok", Published: "ok", Successed: "ok", succeeded: "ok", Succeeded: "ok",
  Running: "busy", running: "busy", Waiting: "busy", Queued: "busy", Creating: "busy", creating: "busy", Publishing: "busy",
  Pending: "busy", Uploading: "busy", Stopping: "busy", stopping: "busy", Doing: "busy",
  Serving: "ok", Deploying: "busy", New: "busy",
  Failed: "bad", failed: "bad", Fail: "bad", PublishFailed: "bad",
  Stopped: "idle", stopped: "idle", Cancelled: "idle", Paused: "idle", NotStarted: "idle", Unpublished: "idle", Terminated: "idle",
};

export function StatusBadge(props: { status: string }) {
  const tone = TONES[props.status] ?? "idle";
  return <span className={`badge badge-${tone}`}>{props.status}</span>;
}

/** Statuses after which nothing changes any more (no need to follow). */
export function isFinal(status: string): boolean {
  return ["Done", "Failed", "Stopped", "Ready", "Fail", "Successed", "succeeded", "failed", "stopped", "Finished", "Terminated", "Published", "PublishFailed"].includes(status);
}
