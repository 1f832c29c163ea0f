/**
 * Work the serving process does after answering (dataset and model imports). Each task's state
 * lives in its row, so a task lost with the process is resumed at the next start; this class
 * only tracks the promises so shutdown and tests can wait for them.
 */
export class BackgroundTasks {
  readonly #running = new Set<Promise<void>>();
  readonly #onError: (name: string, error: unknown) => void;

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
}
