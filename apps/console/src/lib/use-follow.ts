import { useEffect, useRef, useState } from "react";
import { followEvents } from "./live-events.js";

/**
 * Follows a compression, evaluation or export through its live events while `active`: every
 * state change (and the end) re-reads the object with `reload`; `progress` is the newest
 * progress snapshot. Re-reads are coalesced to one per 500 ms.
 */
export function useFollow(objectId: string | undefined, active: boolean, reload: () => void): { progress: number | null } {
  const [progress, setProgress] = useState<number | null>(null);
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    if (objectId === undefined || !active) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      if (timer !== undefined) return;
      timer = setTimeout(() => { timer = undefined; reloadRef.current(); }, 500);
    };
    const stop = followEvents(objectId, {
      state: soon,
      progress: (value) => setProgress(value),
      end: () => reloadRef.current(),
      connection: (status) => { if (status === "dropped") soon(); },
    });
    return () => { stop(); clearTimeout(timer); };
  }, [objectId, active]);
  return { progress };
}
