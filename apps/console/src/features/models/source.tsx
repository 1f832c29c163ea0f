import type { ModelSourceInfo } from "@sailfin/sdk";
import { Link } from "../../ui/link.js";

/** Where a version came from, in one line with links. */
export function SourceText(props: { source: ModelSourceInfo }) {
  const s = props.source;
  if (s.sourceType === "Import") return <>imported from <code>{s.importBosUri}</code></>;
  if (s.sourceType === "Train") {
    return <>trained by <Link to={`/tasks/${s.trainTaskId}`}>{s.trainTaskId}</Link>{s.checkpointStep === undefined ? null : ` (step ${s.checkpointStep})`}</>;
  }
  return <>compressed from <Link to={`/versions/${s.sourceModelId}`}>{s.sourceModelId}</Link> by <Link to={`/compression/${s.accelerationTaskId}`}>{s.accelerationTaskId}</Link></>;
}
