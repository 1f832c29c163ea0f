import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { SailfinError } from "@sailfin/contract";
import { RUN_WATCH_ACTIONS, findStreamRun, parseStreamCursor, readRunStream, runReadAction, type EngineResources } from "@sailfin/engine";
import { assertGranted } from "../../gate.js";

/**
 * Sailfin extension: a run's live events as Server-Sent Events (docs/api.md "Live events").
 *
 *   GET /sailfin/v1/events/<task-…|amva-…|ame-…|amemt-…>      Last-Event-ID: <id> (or ?lastEventId=)
 *
 * Signed with bce-auth-v1 like every console call, or `?access_token=` so a browser's
 * EventSource (which cannot set headers) can connect. Each item's `id` is the stream cursor
 * after it: a reconnect resumes exactly after the last item received. The route polls the
 * database while the client is connected (rows are the truth; there is no in-process bus to
 * miss or to keep in step across replicas), and stops the moment the client goes.
 */
interface EventStreamOptions {
  /** Pause between reads when nothing is waiting. */
  readonly pollMs: number;
  /** Comment lines that keep proxies from closing an idle stream (default 15 s). */
  readonly heartbeatMs?: number;
}

/** EventSource's reconnect delay. */
const RETRY_MS = 1_000;

export function registerEventStream(app: FastifyInstance, res: EngineResources, options: EventStreamOptions): void {
  // Open streams end when the server closes, or closing would wait on them forever.
  const live = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const stream of live) stream.abort();
  });

  app.get("/sailfin/v1/events/:objectId", { config: { access: { dialect: "v2", iam: RUN_WATCH_ACTIONS } } }, async (request, reply) => {
    const { objectId } = request.params as { objectId: string };
    const caller = request.sailfin!.caller!;
    const header = request.headers["last-event-id"];
    const query = (request.query as Record<string, unknown>).lastEventId;
    const lastEventId = typeof header === "string" && header !== "" ? header : typeof query === "string" ? query : undefined;
    const cursor = parseStreamCursor(lastEventId, typeof header === "string" && header !== "" ? "Last-Event-ID" : "lastEventId");

    const run = await findStreamRun(res.db, objectId);
    if (run === null) throw new SailfinError("PathNotFound", { detail: `no task, compression, evaluation or export ${objectId}` });
    assertGranted(caller, runReadAction(run.kind));
    let batch = await readRunStream(res.db, run, cursor);
    // Resumed after the end: 204 is what tells an EventSource to stop reconnecting.
    if (lastEventId !== undefined && lastEventId.trim() !== "" && batch.items.length === 0 && batch.finished) {
      return reply.code(204).header("x-bce-request-id", request.id).send();
    }

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-bce-request-id": request.id,
    });
    const stop = new AbortController();
    const { signal } = stop;
    live.add(stop);
    raw.on("close", () => stop.abort());
    // Gone before the listener was in place: 'close' will not come again.
    if (raw.destroyed) stop.abort();
    const heartbeat = setInterval(() => raw.write(": ping\n\n"), options.heartbeatMs ?? 15_000);
    try {
      await send(raw, signal, `retry: ${RETRY_MS}\n\n`);
      let progress: number | null = null;
      for (;;) {
        for (const item of batch.items) await send(raw, signal, frame(item.type, item.data, item.id));
        if (batch.progress !== null && batch.progress !== progress) {
          progress = batch.progress;
          // No id: progress is a snapshot, not a point of the log; a reconnect gets the current one.
          await send(raw, signal, frame("progress", { progress }));
        }
        if (batch.finished) {
          await send(raw, signal, frame("end", { status: batch.status }));
          break;
        }
        if (!batch.more) await sleep(options.pollMs, undefined, { signal });
        batch = await readRunStream(res.db, run, batch.cursor);
      }
    } catch (error) {
      // A client that left is the normal end; anything else ends the stream and the client resumes.
      if (!signal.aborted) request.log.error({ err: error, objectId }, "event stream failed");
    } finally {
      clearInterval(heartbeat);
      live.delete(stop);
      raw.end();
    }
  });
}

function frame(type: string, data: unknown, id?: string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Writes with backpressure: a slow reader holds this stream, never the server's memory. */
async function send(raw: ServerResponse, signal: AbortSignal, text: string): Promise<void> {
  signal.throwIfAborted();
  if (!raw.write(text)) await once(raw, "drain", { signal });
}
