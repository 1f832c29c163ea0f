import { test } from "node:test";
import assert from "node:assert/strict";
import {
  authStringPrefix, canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, hmacHex, signRequest, signingKey,
} from "./bce-auth.js";

// Reference §3.4, vector A: a V2 call as the JS/Go SDKs sign it on the default host.
test("vector A: V2 DescribeFineTuningJobs, 1800 s, sorted headers", () => {
  const prefix = authStringPrefix("AK_EXAMPLE", "2024-01-01T00:00:00Z", 1800);
  const key = signingKey("SK_EXAMPLE", prefix);
  assert.equal(key, "443a51e4c2d63baeaa2c82d40de179db1d972cbd57991c80902d11c1446b9b77");
  const canonical = canonicalRequest(
    "POST",
    canonicalUri("/v2/finetuning"),
    canonicalQuery("Action=DescribeFineTuningJobs"),
    canonicalHeaders([["content-type", "application/json"], ["host", "qianfan.baidubce.com"], ["x-bce-date", "2024-01-01T00:00:00Z"]]),
  );
  assert.equal(
    canonical,
    "POST\n/v2/finetuning\nAction=DescribeFineTuningJobs\ncontent-type:application%2Fjson\nhost:qianfan.baidubce.com\nx-bce-date:2024-01-01T00%3A00%3A00Z",
  );
  assert.equal(hmacHex(key, canonical), "014f28c6d6c46971f023cbb4270868f82d7eb09cb7a3e3532bcb398ffadaf71d");
  assert.equal(
    signRequest({
      accessKey: "AK_EXAMPLE", secretKey: "SK_EXAMPLE", method: "POST", path: "/v2/finetuning",
      query: { Action: "DescribeFineTuningJobs" },
      headers: { "x-bce-date": "2024-01-01T00:00:00Z", host: "qianfan.baidubce.com", "Content-Type": "application/json" },
      timestamp: "2024-01-01T00:00:00Z", expirationSeconds: 1800,
    }),
    "bce-auth-v1/AK_EXAMPLE/2024-01-01T00:00:00Z/1800/content-type;host;x-bce-date/014f28c6d6c46971f023cbb4270868f82d7eb09cb7a3e3532bcb398ffadaf71d",
  );
});

// Reference §3.4, vector B: Python call_action on a V1 route (empty Action=, host with port, 300 s).
test("vector B: V1 jobDetail as Python signs it, empty Action value", () => {
  const prefix = authStringPrefix("AK_EXAMPLE", "2024-01-01T00:00:00Z", 300);
  const key = signingKey("SK_EXAMPLE", prefix);
  assert.equal(key, "0ff7cdc729249c52f80a6640522b422451d630ae2d27b9657ddcd766cdab844b");
  // Python's signedHeaders come from a set: unsorted; canonicalHeaders sorts the lines itself.
  const canonical = canonicalRequest(
    "POST",
    canonicalUri("/wenxinworkshop/finetune/jobDetail"),
    canonicalQuery("Action="),
    canonicalHeaders([
      ["x-bce-date", "2024-01-01T00:00:00Z"], ["request-source", "qianfan_py_sdk_v0.4.12.3"],
      ["host", "127.0.0.1:8866"], ["content-type", "application/json"],
    ]),
  );
  assert.equal(
    canonical,
    "POST\n/wenxinworkshop/finetune/jobDetail\nAction=\ncontent-type:application%2Fjson\nhost:127.0.0.1%3A8866\nrequest-source:qianfan_py_sdk_v0.4.12.3\nx-bce-date:2024-01-01T00%3A00%3A00Z",
  );
  assert.equal(hmacHex(key, canonical), "11ea1054b69203ea5d47ad4acfc99b2c172fd681e0ba026721577304c2d7f4a2");
});

test("canonical query drops authorization, sorts, keeps empty values and re-encodes", () => {
  assert.equal(canonicalQuery("b=2&authorization=x&a=&c=h%20i"), "a=&b=2&c=h%20i");
  assert.equal(canonicalQuery(""), "");
});

test("canonical URI re-encodes every segment but keeps slashes", () => {
  assert.equal(canonicalUri("/v2/a b/c%20d"), "/v2/a%20b/c%20d");
  assert.equal(canonicalUri(""), "/");
});
