import type { UploadProgress } from "../lib/upload.js";
import { formatBytes } from "./format.js";

/** Bytes sent of a running upload. */
export function UploadProgressBar(props: { progress: UploadProgress | null }) {
  if (props.progress === null) return null;
  const { loaded, total } = props.progress;
  const percent = total > 0 ? (loaded / total) * 100 : 0;
  return (
    <div className="progress" data-testid="upload-progress">
      <progress max={100} value={percent} aria-label="Upload progress">{Math.round(percent)}%</progress>
      <span className="progress-value">{formatBytes(loaded)} of {formatBytes(total)}</span>
    </div>
  );
}
