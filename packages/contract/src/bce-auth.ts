import { createHmac } from "node:crypto";
import { signingParts, type SignInput } from "./bce-canonical.js";

/**
 * bce-auth-v1 (reference §3.1) for Node: the HMACs over the canonical strings of
 * `bce-canonical.ts`, synchronous (node:crypto). The server's verifier and Node tools use this;
 * the browser-safe SDK signs the same parts with WebCrypto.
 */
export * from "./bce-canonical.js";

export function hmacHex(key: string, message: string): string {
  return createHmac("sha256", key).update(message, "utf8").digest("hex");
}

export function signingKey(secretKey: string, prefix: string): string {
  return hmacHex(secretKey, prefix);
}

/**
 * Computes the `Authorization` header value for a request.
 *
 * @example
 * const authorization = signRequest({ accessKey, secretKey, method: "POST", path: "/v2/finetuning",
 *   query: { Action: "DescribeFineTuningJobs" }, headers: { host: "127.0.0.1:8866", "x-bce-date": ts }, timestamp: ts });
 */
export function signRequest(input: SignInput): string {
  const { prefix, canonical, signedHeaders } = signingParts(input);
  const signature = hmacHex(signingKey(input.secretKey, prefix), canonical);
  return `${prefix}/${signedHeaders}/${signature}`;
}
