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
