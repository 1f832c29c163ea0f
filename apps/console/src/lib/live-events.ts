import type { FineTuningMetricPoint } from "@sailfin/sdk";

/**
 * Follows one object's live events (`GET /sailfin/v1/events/<id>`, docs/api.md "Live events")
 * with the browser's EventSource, authenticated by the session cookie.
 *
 * Resuming: while the connection merely drops, EventSource reconnects by itself and sends
 * `Last-Event-ID`, so the server continues exactly after the last item. When the browser gives
 * up (an HTTP error, a 204), a new EventSource is opened after a backoff with `?lastEventId=` set
 * to the last cursor seen, so nothing is lost or repeated either way. `end` closes for good.
 */

interface StateEvent {
  readonly from: string | null;
  readonly to: string;
  readonly reason: string;
  readonly at: string;
}

type MetricEvent = FineTuningMetricPoint & { readonly at: string };

interface LiveHandlers {
  state?(event: StateEvent): void;
  metric?(point: MetricEvent): void;
  eval?(event: { step: number; evalLoss: number }): void;
  progress?(progress: number): void;
  end?(status: string): void;
  /** Connection status for the page: live, reconnecting (the browser retries) or dropped (we retry). */
  connection?(status: "live" | "reconnecting" | "dropped"): void;
}

const MAX_BACKOFF_MS = 15_000;

/** Starts following; the returned function stops (call it on unmount). */
export function followEvents(objectId: string, handlers: LiveHandlers): () => void {
  let source: EventSource | null = null;
  let lastId = "";
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    const query = lastId === "" ? "" : `?lastEventId=${encodeURIComponent(lastId)}`;
    const current = new EventSource(`/sailfin/v1/events/${encodeURIComponent(objectId)}${query}`);
    source = current;
    const on = <T>(name: string, handle: (data: T) => void) => {
      current.addEventListener(name, (event) => {
        const message = event as MessageEvent<string>;
        if (message.lastEventId !== "") lastId = message.lastEventId;
        failures = 0;
        handle(JSON.parse(message.data) as T);
      });
    };
    current.addEventListener("open", () => handlers.connection?.("live"));
    on<StateEvent>("state", (data) => handlers.state?.(data));
    on<MetricEvent>("metric", (data) => handlers.metric?.(data));
    on<{ step: number; evalLoss: number }>("eval", (data) => handlers.eval?.(data));
    on<{ progress: number }>("progress", (data) => handlers.progress?.(data.progress));
    on<{ status: string }>("end", (data) => {
      stopped = true;
      current.close();
      handlers.end?.(data.status);
    });
    current.addEventListener("error", () => {
      if (stopped) return;
      if (current.readyState === EventSource.CONNECTING) {
        handlers.connection?.("reconnecting");
        return;
      }
      current.close();
      handlers.connection?.("dropped");
      const delay = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** failures);
      failures++;
      timer = setTimeout(() => { if (!stopped) open(); }, delay);
    });
  };

  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}
