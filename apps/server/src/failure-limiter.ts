/**
 * Counts failures per key (a client address, an access key) in a sliding window, to slow down
 * guessing: `reserve` refuses once any of its keys has failed `limit` times in the last
 * `windowMs`. In memory, per process: with N replicas a guesser gets N times the budget, still
 * nowhere near enough to guess a 40-character secret. `KeyPairLimiter` (below) is the policy
 * sign-in and the OAuth token endpoint apply with it.
 *
 * An attempt counts as a failure from the moment it starts (`reserve`) until it is known to have
 * succeeded: a burst of parallel guesses cannot slip past the limit while the first ones are
 * still being checked.
 */
interface Reservation {
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
    return this.count(keys, now);
  }

  /** Counts an attempt on every key as a failure, whatever the counts, until `succeeded()`. */
  count(keys: readonly string[], now: number = Date.now()): Reservation {
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

/** What `KeyPairLimiter` allows, per window. */
interface KeyPairLimits {
  /** Failures from one client address, whatever keys they name: past it the address waits. */
  readonly perClient: number;
  /**
   * Failures naming one access key, from all addresses together. Past it the key is under
   * attack: a client that has itself failed on the key in the window waits, one that has not
   * is still checked, so the owner typing the right secret is never locked out by strangers.
   */
  readonly perKey: number;
  readonly windowMs: number;
}

const DEFAULT_KEY_PAIR_LIMITS: KeyPairLimits = { perClient: 10, perKey: 100, windowMs: 60_000 };

/**
 * Throttles guesses at an access key's secret (console sign-in, the OAuth token endpoint), per
 * client and per key, so that guessing is slow and yet no one can lock the owner out. A lock
 * per key alone (as before) let anyone shut the owner out from every address with 10 wrong
 * guesses a minute; a limit per address alone lets a guesser with many addresses try a key
 * `perClient` times per address. Here an address gets `perClient` failures in all; once a key
 * has failed `perKey` times it gets no further guess on that key from an address that already
 * failed on it (one guess per address per window), while an address that has not failed on it
 * is still answered, right or wrong.
 *
 * @example
 * const attempt = limiter.reserve(request.ip, accessKey);
 * if (attempt.retryAfterS > 0) throw tooMany(attempt.retryAfterS);
 * if (await checkKeyPair(res, accessKey, secretKey)) attempt.succeeded();
 */
export class KeyPairLimiter {
  readonly #clients: FailureLimiter;
  readonly #keys: FailureLimiter;
  /** A client's failures on one key: one is enough to be held back while the key is under attack. */
  readonly #pairs: FailureLimiter;

  constructor(limits: KeyPairLimits = DEFAULT_KEY_PAIR_LIMITS) {
    this.#clients = new FailureLimiter({ limit: limits.perClient, windowMs: limits.windowMs });
    this.#keys = new FailureLimiter({ limit: limits.perKey, windowMs: limits.windowMs });
    this.#pairs = new FailureLimiter({ limit: 1, windowMs: limits.windowMs });
  }

  /** Starts an attempt from `client` (its address) at `accessKey`: refused, or counted until `succeeded()`. */
  reserve(client: string, accessKey: string, now: number = Date.now()): Reservation {
    const clientKey = [`client:${client}`];
    const key = [`key:${accessKey}`];
    const pair = [`client:${client} key:${accessKey}`];
    const underAttack = this.#keys.retryAfterS(key, now) > 0;
    const wait = Math.max(this.#clients.retryAfterS(clientKey, now), underAttack ? this.#pairs.retryAfterS(pair, now) : 0);
    if (wait > 0) return { retryAfterS: wait, succeeded: () => {} };
    const counted = [this.#clients.count(clientKey, now), this.#keys.count(key, now), this.#pairs.count(pair, now)];
    return { retryAfterS: 0, succeeded: () => counted.forEach((reservation) => reservation.succeeded()) };
  }
}
