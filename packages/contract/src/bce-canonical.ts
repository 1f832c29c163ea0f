/**
 * bce-auth-v1 (reference §3.1) without the HMAC: the canonical request, the auth-string prefix
 * and the header list, as pure string functions. The server's verifier and the Node signer
 * (`bce-auth.ts`, node:crypto) and the SDK's signer (WebCrypto, browser-safe) all build on
 * these, so every side computes byte-identical strings. No imports: safe in any runtime.
 */

/** RFC 3986 encoding: keep A-Z a-z 0-9 - . _ ~, every other UTF-8 byte as %XX. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Canonical URI: each path segment decoded (as received) and re-encoded; `/` kept. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === "") return "/";
  return rawPath
    .split("/")
    .map((segment) => uriEncode(safeDecode(segment)))
    .join("/");
}

/** Canonical query from a raw query string: pairs re-encoded, `authorization` dropped, sorted. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === "") return "";
  const pairs: string[] = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : safeDecode(part.slice(eq + 1));
    if (key.toLowerCase() === "authorization") continue;
    pairs.push(`${uriEncode(key)}=${uriEncode(value)}`);
  }
  return pairs.sort().join("&");
}

/** Canonical query from parameters (what clients sign). */
export function canonicalQueryFromParams(params: Record<string, string>): string {
  return Object.entries(params)
    .filter(([key]) => key.toLowerCase() !== "authorization")
    .map(([key, value]) => `${uriEncode(key)}=${uriEncode(value)}`)
    .sort()
    .join("&");
}

/**
 * Canonical headers: `name:value` lines (encoded, trimmed, empty values dropped), sorted.
 * `encode` must be `uriEncode` or give the same strings (the verifier passes a memoised one).
 */
export function canonicalHeaders(headers: ReadonlyArray<readonly [string, string]>, encode: (value: string) => string = uriEncode): string {
  const lines: string[] = [];
  for (const [name, value] of headers) {
    const trimmed = value.trim();
    if (trimmed !== "") lines.push(`${encode(name.trim().toLowerCase())}:${encode(trimmed)}`);
  }
  return lines.sort().join("\n");
}

export function authStringPrefix(accessKey: string, timestamp: string, expirationSeconds: number): string {
  return `bce-auth-v1/${accessKey}/${timestamp}/${expirationSeconds}`;
}

export function canonicalRequest(method: string, uri: string, query: string, headers: string): string {
  return `${method.toUpperCase()}\n${uri}\n${query}\n${headers}`;
}

/** `YYYY-MM-DDThh:mm:ssZ`, the timestamp form of the auth string and `x-bce-date`. */
export function bceTimestamp(date: Date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export interface SignInput {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly method: string;
  /** The request path as sent (no query). */
  readonly path: string;
  readonly query: Record<string, string>;
  /** Headers to sign, by name (any case). */
  readonly headers: Record<string, string>;
  readonly timestamp?: string;
  readonly expirationSeconds?: number;
}

/** What a signer HMACs: the auth-string prefix (key derivation), the canonical request, the header list. */
export interface SigningParts {
  readonly prefix: string;
  readonly canonical: string;
  /** `content-type;host;x-bce-date`: the signed header names, lower-case and sorted. */
  readonly signedHeaders: string;
}

/**
 * Everything of a signature but the two HMACs: `signingKey = HMAC(secretKey, prefix)`, then
 * `signature = HMAC(signingKey, canonical)`, and the header is `${prefix}/${signedHeaders}/${signature}`.
 *
 * @example
 * const parts = signingParts({ accessKey, secretKey, method: "POST", path: "/v2/finetuning",
 *   query: { Action: "DescribeFineTuningJobs" }, headers: { host: "127.0.0.1:8866", "x-bce-date": ts }, timestamp: ts });
 */
export function signingParts(input: SignInput): SigningParts {
  const timestamp = input.timestamp ?? bceTimestamp();
  const prefix = authStringPrefix(input.accessKey, timestamp, input.expirationSeconds ?? 1800);
  const entries = Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v] as const);
  const signed = entries.filter(([, v]) => v.trim() !== "").map(([k]) => k).sort();
  const canonical = canonicalRequest(
    input.method,
    canonicalUri(input.path),
    canonicalQueryFromParams(input.query),
    canonicalHeaders(entries),
  );
  return { prefix, canonical, signedHeaders: signed.join(";") };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
