/**
 * Live events: the read side of a run's event stream (Sailfin's SSE route). The route polls
 * `readRunStream` with the cursor of the last item it sent.
 */
export { STREAM_START, formatStreamCursor, parseStreamCursor, type StreamCursor } from "./stream-cursor.js";
export {
  STREAM_BATCH, findStreamRun, readRunStream, runReadAction, RUN_WATCH_ACTIONS, type RunStreamBatch, type StreamItem, type StreamRun,
} from "./read-run-stream.js";
