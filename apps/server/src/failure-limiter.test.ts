import { test } from "node:test";
import assert from "node:assert/strict";
import { FailureLimiter } from "./failure-limiter.js";

test("the limiter refuses a key after `limit` failures in the window, per key, until the oldest ages out", () => {
  const limiter = new FailureLimiter({ limit: 3, windowMs: 60_000 });
  const t0 = 1_000_000;
  limiter.fail(["ip:a", "key:k"], t0);
  limiter.fail(["ip:a", "key:k"], t0 + 10_000);
  assert.equal(limiter.retryAfterS(["ip:a"], t0 + 10_000), 0);
  limiter.fail(["ip:b", "key:k"], t0 + 20_000);
  // key:k has failed 3 times (from two IPs); ip:a twice, ip:b once.
  assert.equal(limiter.retryAfterS(["ip:a"], t0 + 20_000), 0);
  assert.equal(limiter.retryAfterS(["ip:c", "key:k"], t0 + 20_000), 40);
  assert.equal(limiter.retryAfterS(["ip:c", "key:other"], t0 + 20_000), 0);
  // The first failure leaves the window at t0 + 60 s.
  assert.equal(limiter.retryAfterS(["key:k"], t0 + 59_999), 1);
  assert.equal(limiter.retryAfterS(["key:k"], t0 + 60_000), 0);
});

test("reserve counts an attempt before it is checked: a parallel burst stops at the limit; a success is taken back", () => {
  const limiter = new FailureLimiter({ limit: 3, windowMs: 60_000 });
  const t0 = 2_000_000;
  // Four attempts at once, none checked yet: the fourth is refused.
  const burst = [0, 1, 2, 3].map((i) => limiter.reserve(["ip:a", "key:k"], t0 + i));
  assert.deepEqual(burst.map((r) => r.retryAfterS > 0), [false, false, false, true]);
  // One of them turns out right: it no longer counts, so one more attempt may start.
  burst[1]!.succeeded();
  assert.equal(limiter.reserve(["ip:a", "key:k"], t0 + 10).retryAfterS, 0);
  assert.ok(limiter.reserve(["ip:a", "key:k"], t0 + 11).retryAfterS > 0);
});

test("a flood of distinct keys forgets the least recently failed, not the key under attack", () => {
  const limiter = new FailureLimiter({ limit: 3, windowMs: 60_000 });
  const t0 = 3_000_000;
  for (let i = 0; i < 3; i++) limiter.fail(["key:victim"], t0);
  for (let i = 0; i < 5_000; i++) limiter.fail([`key:noise-${i}`], t0 + 1);
  limiter.fail(["key:victim"], t0 + 2); // still being guessed: recently failed
  for (let i = 5_000; i < 12_000; i++) limiter.fail([`key:noise-${i}`], t0 + 3);
  assert.ok(limiter.retryAfterS(["key:victim"], t0 + 4) > 0, "the victim's count survived the flood");
  assert.equal(limiter.retryAfterS(["key:noise-0"], t0 + 4), 0);
});

test("KeyPairLimiter: strangers' failures on a key never lock out an address that has not failed on it", async () => {
  const { KeyPairLimiter } = await import("./failure-limiter.js");
  const limiter = new KeyPairLimiter({ perClient: 3, perKey: 6, windowMs: 60_000 });
  const t0 = 4_000_000;
  // An attacker's own address is limited, whichever keys it names.
  for (let i = 0; i < 3; i++) assert.equal(limiter.reserve("attacker", "owner-key", t0 + i).retryAfterS, 0);
  assert.equal(limiter.reserve("attacker", "owner-key", t0 + 3).retryAfterS, 60);
  assert.ok(limiter.reserve("attacker", "another-key", t0 + 3).retryAfterS > 0);
  // The owner, elsewhere, is still answered.
  const owner = limiter.reserve("owner", "owner-key", t0 + 4);
  assert.equal(owner.retryAfterS, 0);
  owner.succeeded();
  // Many addresses push the key past its budget: each that failed on it waits, a fresh one is still answered.
  for (let i = 0; i < 3; i++) assert.equal(limiter.reserve(`bot-${i}`, "owner-key", t0 + 10).retryAfterS, 0);
  assert.ok(limiter.reserve("bot-0", "owner-key", t0 + 11).retryAfterS > 0, "one guess per address while the key is under attack");
  assert.equal(limiter.reserve("bot-0", "unrelated-key", t0 + 11).retryAfterS, 0, "its other keys are not under attack");
  assert.equal(limiter.reserve("owner", "owner-key", t0 + 12).retryAfterS, 0, "the owner, who has not failed, is checked");
  // Below the key's budget a client may fail on it up to its own limit.
  assert.equal(limiter.reserve("bot-1", "fresh-key", t0 + 13).retryAfterS, 0);
  assert.equal(limiter.reserve("bot-1", "fresh-key", t0 + 14).retryAfterS, 0);
});
