/**
 * Live events: the read side of a run's event stream (Sailfin's SSE route). The route polls
 * `readRunStream` with the cursor of the last item it sent.
 */
export { parseStreamCursor } from "./stream-cursor.js";
export { findStreamRun, readRunStream, runReadAction, RUN_WATCH_ACTIONS } from "./read-run-stream.js";
