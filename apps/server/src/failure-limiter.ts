/**
 * Counts failures per key (an IP, an access key) in a sliding window, to slow down guessing:
 * sign-in answers 429 once either its IP or the access key it names has failed `limit` times
 * in the last `windowMs`. In memory, per process: with N replicas a guesser gets N times the
 * budget, still nowhere near enough to guess a 32-character secret.
 *
 * An attempt counts as a failure from the moment it starts (`reserve`) until it is known to have
 * succeeded: a burst of parallel guesses cannot slip past the limit while the first ones are
 * still being checked.
 */
export interface Reservation {
  /** Seconds until every key may try again; when above 0 nothing was counted. */
  readonly retryAfterS: number;
  /** The attempt succeeded: it no longer counts. */
  succeeded(): void;
}

/** Most keys remembered; past it the least recently failed are forgotten first. */
const MAX_KEYS = 10_000;

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

  /**
   * Starts an attempt: refused (retryAfterS > 0, nothing counted) when a key is over the limit,
   * else counted as a failure until `succeeded()`.
   *
   * @example
   * const attempt = limiter.reserve([`ip:${ip}`, `key:${accessKey}`]);
   * if (attempt.retryAfterS > 0) throw tooMany(attempt.retryAfterS);
   * if (await checkPair()) attempt.succeeded();
   */
  reserve(keys: readonly string[], now: number = Date.now()): Reservation {
    const wait = this.retryAfterS(keys, now);
    if (wait > 0) return { retryAfterS: wait, succeeded: () => {} };
    this.fail(keys, now);
    return {
      retryAfterS: 0,
      succeeded: () => {
        for (const key of keys) {
          const times = this.#failures.get(key);
          const at = times?.lastIndexOf(now) ?? -1;
          if (times !== undefined && at >= 0) times.splice(at, 1);
        }
      },
    };
  }

  fail(keys: readonly string[], now: number = Date.now()): void {
    for (const key of keys) {
      const recent = this.#recent(key, now);
      recent.push(now);
      // Re-inserted, so the map's order is least recently failed first; only the newest `limit` failures decide anything.
      this.#failures.delete(key);
      this.#failures.set(key, recent.slice(-this.#limit));
    }
    // Bounded memory under a flood of distinct keys, without forgetting the keys under attack.
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= MAX_KEYS) break;
      this.#failures.delete(key);
    }
  }

  #recent(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }
}
