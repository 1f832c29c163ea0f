import type { RunKind } from "@sailfin/contract";

/**
 * Work the serving process does after answering (file clean-ups), and the in-process wake-up of
 * queue work. Each task's state lives in its row; this class only tracks the promises so
 * shutdown and tests can wait for them, and tells this process's workers that a run was queued
 * here so they claim it at once instead of at their next poll (workers elsewhere still poll).
 */
export class BackgroundTasks {
  readonly #running = new Set<Promise<void>>();
  readonly #onError: (name: string, error: unknown) => void;
  readonly #queueListeners = new Set<(kind: RunKind) => void>();

  constructor(onError: (name: string, error: unknown) => void) {
    this.#onError = onError;
  }

  run(name: string, task: () => Promise<void>): void {
    const promise = task().catch((error: unknown) => this.#onError(name, error));
    this.#running.add(promise);
    void promise.finally(() => this.#running.delete(promise));
  }

  /** Resolves when every task started so far (and any they start) has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Says a run of `kind` was committed to the queue (call after the commit, or a claim may not see it). */
  queued(kind: RunKind): void {
    for (const listener of this.#queueListeners) listener(kind);
  }

  /** Calls `listener` at each `queued`; returns the unsubscribe. @example const off = res.background.onQueued((kind) => wake(kind)); */
  onQueued(listener: (kind: RunKind) => void): () => void {
    this.#queueListeners.add(listener);
    return () => this.#queueListeners.delete(listener);
  }
}
