import type { EngineResources } from "../resources.js";
import { attemptDelivery, claimDueDeliveries, type DeliveryPolicy } from "./deliver.js";
import { fanOutEvents } from "./fan-out.js";

interface WebhookDispatcherOptions extends DeliveryPolicy {
  /** Pause between rounds when there is nothing to catch up on. */
  readonly pollMs: number;
  /** Attempts in flight at once, over all webhooks. */
  readonly concurrency: number;
  /** See fan-out.ts (PostgreSQL holes in event numbers). */
  readonly gapGraceMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookDispatcherOptions = {
  pollMs: 1_000,
  timeoutMs: 5_000,
  // 10 s, 20 s, … 21 min: 8 attempts span about 21 minutes, enough to ride out a receiver's restart or deploy.
  backoffMs: 10_000,
  maxBackoffMs: 3_600_000,
  maxAttempts: 8,
  concurrency: 8,
  gapGraceMs: 10_000,
};

const FAN_OUT_BATCH = 500;

/**
 * The webhook loop of a server process: each round fans new events out into deliveries, then
 * starts due attempts in free slots, without waiting for them, so a slow or dead receiver
 * holds one slot for at most its timeout and never the loop, the other webhooks or a request.
 * A round's failure (the database restarting) is logged and the next round tries again; the
 * state lives in rows, so a restart of the process loses nothing.
 *
 * @example const dispatcher = new WebhookDispatcher(res, DEFAULT_WEBHOOK_OPTIONS); dispatcher.start(); … await dispatcher.stop();
 */
export class WebhookDispatcher {
  readonly #res: EngineResources;
  readonly #options: WebhookDispatcherOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | null = null;
  #stopped = false;

  constructor(res: EngineResources, options: WebhookDispatcherOptions) {
    this.#res = res;
    this.#options = options;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Stops the loop, aborts attempts in flight (recorded as interrupted, retried later) and waits for them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#round;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** One round; true when a full batch of events was read (more are waiting). */
  async round(): Promise<boolean> {
    let more = false;
    try {
      more = (await fanOutEvents(this.#res, { batch: FAN_OUT_BATCH, gapGraceMs: this.#options.gapGraceMs })).more;
    } catch (error) {
      this.#res.log.error({ err: error }, "webhook fan-out failed");
    }
    try {
      if (!this.#stopped) {
        const claimed = await claimDueDeliveries(this.#res, this.#options.concurrency - this.#inFlight.size, this.#options);
        for (const delivery of claimed) {
          const attempt = attemptDelivery(this.#res, delivery, this.#options, this.#abort.signal)
            .catch((error: unknown) => this.#res.log.error({ err: error, delivery: delivery.num }, "webhook delivery failed"))
            .finally(() => this.#inFlight.delete(attempt));
          this.#inFlight.add(attempt);
        }
      }
    } catch (error) {
      this.#res.log.error({ err: error }, "claiming webhook deliveries failed");
    }
    return more;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.round().then((more) => {
        this.#round = null;
        this.#schedule(more ? 0 : this.#options.pollMs);
      });
    }, ms);
  }
}
