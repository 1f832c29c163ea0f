import type { Readable } from "node:stream";
import type { EngineResources } from "../resources.js";
import type { Lease } from "../queue/lease.js";
import { recordProgress } from "../queue/record-progress.js";

/** Progress is written at most this often: a row update per chunk would dominate the copy. */
const PROGRESS_INTERVAL_MS = 1000;

/** Counts bytes into a run's progress; `lost` once a write found the lease gone (the store may wrap the error). */
interface ProgressMeter {
  lost: boolean;
  count(bytes: number): Promise<void>;
}

/** Thrown into an export's stream when a fenced progress write finds the lease gone. */
export class ExportLeaseLost extends Error {
  constructor() {
    super("the export's lease was lost");
  }
}

/**
 * A source's bytes, counted into the run's progress (fenced by the lease, at most once a second,
 * 99 at most: 100 comes with the final status) against `total`, and stopped by `signal`.
 *
 * @example const meter = progressMeter(res, lease, totalBytes); await res.artifacts.put(key, Readable.from(counted(source, meter, signal)));
 */
export function progressMeter(res: EngineResources, lease: Lease, total: number): ProgressMeter {
  let read = 0;
  let last = Date.now();
  return {
    lost: false,
    async count(bytes) {
      read += bytes;
      if (Date.now() - last < PROGRESS_INTERVAL_MS || total === 0) return;
      last = Date.now();
      if (await recordProgress(res.db, lease, { progress: Math.min(99, Math.floor((read / total) * 100)) })) return;
      this.lost = true;
      throw new ExportLeaseLost();
    },
  };
}

/** `source` passed through `meter`, aborting when `signal` does. */
export async function* counted(source: Readable, meter: ProgressMeter, signal: AbortSignal): AsyncGenerator<Buffer> {
  for await (const chunk of source as AsyncIterable<Buffer>) {
    signal.throwIfAborted();
    await meter.count(chunk.length);
    yield chunk;
  }
}
