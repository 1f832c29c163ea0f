import { test } from "node:test";
import assert from "node:assert/strict";
import { authStringPrefix, signingKey } from "@sailfin/contract";
import { signingKeyOf, type Credential } from "./access-keys.js";

const credential = (secretKey: string): Credential => ({
  accessKey: "AK_EXAMPLE", secretKey, policies: [], description: "", createdAt: "2024-01-01T00:00:00Z",
});

test("signingKeyOf derives HMAC(secret, prefix) and follows the prefix and the secret", () => {
  const first = credential("SK_EXAMPLE");
  const p1 = authStringPrefix("AK_EXAMPLE", "2024-01-01T00:00:00Z", 1800);
  const p2 = authStringPrefix("AK_EXAMPLE", "2024-01-01T00:00:01Z", 1800);
  assert.equal(signingKeyOf(first, p1), signingKey("SK_EXAMPLE", p1));
  assert.equal(signingKeyOf(first, p1), signingKey("SK_EXAMPLE", p1));
  assert.equal(signingKeyOf(first, p2), signingKey("SK_EXAMPLE", p2));
  assert.equal(signingKeyOf(first, p1), signingKey("SK_EXAMPLE", p1));
  // The same access key re-created with another secret is another credential object.
  assert.equal(signingKeyOf(credential("SK_OTHER"), p1), signingKey("SK_OTHER", p1));
});
