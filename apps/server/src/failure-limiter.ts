/**
 * Counts failures per key (an IP, an access key) in a sliding window, to slow down guessing:
 * sign-in answers 429 once either its IP or the access key it names has failed `limit` times
 * in the last `windowMs`. In memory, per process: with N replicas a guesser gets N times the
 * budget, still nowhere near enough to guess a 32-character secret.
 */
export class FailureLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();

  constructor(options: { limit: number; windowMs: number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
  }

  /** Seconds until every one of `keys` may try again; 0 when none is over the limit. */
  retryAfterS(keys: readonly string[], now: number = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const recent = this.#recent(key, now);
      if (recent.length >= this.#limit) wait = Math.max(wait, recent[recent.length - this.#limit]! + this.#windowMs - now);
    }
    return Math.ceil(wait / 1000);
  }

  fail(keys: readonly string[], now: number = Date.now()): void {
    // Bounded memory under a flood of distinct keys: forget the idle ones, then everything.
    if (this.#failures.size > 10_000) {
      for (const key of [...this.#failures.keys()]) if (this.#recent(key, now).length === 0) this.#failures.delete(key);
      if (this.#failures.size > 10_000) this.#failures.clear();
    }
    for (const key of keys) {
      const recent = this.#recent(key, now);
      recent.push(now);
      // Only the newest `limit` failures decide anything.
      this.#failures.set(key, recent.slice(-this.#limit));
    }
  }

  #recent(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }
}
