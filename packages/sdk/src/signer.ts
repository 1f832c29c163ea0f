import { signingParts, type SignInput } from "@sailfin/contract/api";

/**
 * bce-auth-v1 with WebCrypto (`crypto.subtle`, in Node 20 and every browser's secure context):
 * the canonical strings come from the contract, shared with the server's verifier, so only the
 * two HMACs differ from the Node signer (contract `signRequest`, node:crypto).
 */

const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (value === undefined) {
    throw new Error("WebCrypto (crypto.subtle) is not available: use Node 20+ or a secure context (https or localhost)");
  }
  return value;
}

function hex(buffer: ArrayBuffer): string {
  let out = "";
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Lower-case hex HMAC-SHA256 of a UTF-8 message under a UTF-8 key. */
export async function hmacSha256Hex(key: string, message: string): Promise<string> {
  const cryptoKey = await subtle().importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await subtle().sign("HMAC", cryptoKey, encoder.encode(message)));
}

/** Lower-case hex SHA-256 of bytes (the upload check compares it with the server's `sha256`). */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  return hex(await subtle().digest("SHA-256", bytes as BufferSource));
}

/**
 * The `Authorization` header value for a request, as the server verifies it.
 *
 * @example
 * const authorization = await signRequestAsync({ accessKey, secretKey, method: "POST", path: "/v2/finetuning",
 *   query: { Action: "DescribeFineTuningJobs" }, headers: { host: "127.0.0.1:8866", "x-bce-date": ts }, timestamp: ts });
 */
export async function signRequestAsync(input: SignInput): Promise<string> {
  const { prefix, canonical, signedHeaders } = signingParts(input);
  const signingKey = await hmacSha256Hex(input.secretKey, prefix);
  return `${prefix}/${signedHeaders}/${await hmacSha256Hex(signingKey, canonical)}`;
}
