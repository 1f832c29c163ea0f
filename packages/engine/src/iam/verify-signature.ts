import { timingSafeEqual } from "node:crypto";
import {
  SailfinError, canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, hmacHex, uriEncode,
} from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { findCredential, signingKeyOf, type Credential } from "./access-keys.js";
import { signedBodyDigest, type SignedBodyDigest } from "./body-digest.js";

const AUTH_PATTERN = /^bce-auth-v1\/([^/]+)\/([^/]+)\/(\d+)\/([^/]*)\/([0-9a-f]{64})$/;
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Clock skew allowed for timestamps in the future (reference §3.3 suggests <= 15 min). */
const MAX_FUTURE_SKEW_S = 15 * 60;
/**
 * Longest validity a signature may claim. SDKs use 300 s (Python, Go) and 1800 s (Node, Java);
 * Baidu's own curl examples sign for 180000 s. Longer claims are refused, so a leaked header
 * cannot be replayed for years.
 */
const MAX_EXPIRATION_S = 7 * 24 * 3600;
/**
 * How far `x-bce-date` may be from the auth-string timestamp. Python and Go take both from one
 * clock reading; Node and Java read the clock twice in the same tick, so the two differ by one
 * second when a second boundary falls between the readings.
 */
const DATE_TOLERANCE_S = 1;

interface SignedRequest {
  readonly method: string;
  /** The request target as received: path and raw query. */
  readonly url: string;
  /** Header values by lower-case name (Node's `IncomingMessage.headers`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The host the client addressed as a trusted reverse proxy reports it (`X-Forwarded-Host`),
   * when the server trusts its proxy (SAILFIN_TRUST_PROXY); the signed host may be this one.
   */
  readonly forwardedHost?: string;
}

interface VerifiedSignature {
  readonly credential: Credential;
  /**
   * The body the signature vouches for (signed `x-bce-content-sha256` / `Content-MD5`): the
   * route must check the bytes it reads against it (`BodyDigestCheck`); null when none is signed.
   */
  readonly bodyDigest: SignedBodyDigest | null;
}

/**
 * Verifies a bce-auth-v1 signature as reference §3.3 prescribes, tolerant of each official
 * SDK's quirks: unsorted `signedHeaders` (Python), host signed without the port (Go, Java),
 * `Action=` with an empty value (Python on V1 routes), `x-bce-date` a second off the
 * auth-string timestamp (Node, Java). Stricter than the recipe where it costs no SDK anything:
 * `host` must be signed (every official SDK signs it), every signed header must be present, and
 * `x-bce-date`, when sent, must be the auth-string time. Go's query-in-the-path signing of the
 * bearer-token request is tolerated too. Returns the caller's credential and
 * the body digests it signed.
 */
export async function verifySignature(
  res: EngineResources,
  request: SignedRequest,
  now: Date = new Date(),
): Promise<VerifiedSignature> {
  const authorization = headerValue(request.headers, "authorization");
  if (authorization === undefined) {
    throw new SailfinError("InvalidHTTPAuthHeader", { detail: "the Authorization header is missing" });
  }
  const { accessKey, timestamp, prefix, signedAt, expiration, names, signature } = parseAuthorization(authorization);
  const nowMs = now.getTime();
  if (nowMs > signedAt + expiration * 1000) {
    throw new SailfinError("RequestExpired", { detail: `Timestamp date is ${timestamp}.` });
  }
  if (signedAt - nowMs > MAX_FUTURE_SKEW_S * 1000) {
    throw new SailfinError("RequestExpired", { detail: `Timestamp date ${timestamp} is in the future.` });
  }

  if (!names.includes("host")) {
    throw new SailfinError("InvalidHTTPAuthHeader", { detail: "the host header must be among the signed headers" });
  }
  const absent = names.find((name) => headerValue(request.headers, name) === undefined);
  if (absent !== undefined) {
    throw new SailfinError("InvalidHTTPAuthHeader", { detail: `the signed header ${absent} is not in the request` });
  }
  const date = headerValue(request.headers, "x-bce-date");
  // The usual case first: the very timestamp of the authorization string (already validated).
  if (date !== undefined && date !== timestamp
    && !(TIMESTAMP_PATTERN.test(date.trim()) && Math.abs(Date.parse(date.trim()) - signedAt) <= DATE_TOLERANCE_S * 1000)) {
    throw new SailfinError("InvalidHTTPAuthHeader", {
      detail: `x-bce-date must be the authorization timestamp ${timestamp} (within ${DATE_TOLERANCE_S} s)`,
    });
  }

  const credential = await findCredential(res, accessKey);
  if (credential === null) throw new SailfinError("InvalidAccessKeyId");

  const key = signingKeyOf(credential, prefix);
  const targets = [canonicalTarget(request.url)];
  // Go's bearer-token request puts the query into the URI it signs (reference §15.4): the query
  // is then part of the canonical path, and the canonical query is empty.
  if (request.url.includes("?")) targets.push({ uri: canonicalUri(request.url), query: "" });

  for (const { uri, query } of targets) {
    for (const headers of headerVariants(request, names, timestamp)) {
      const expected = hmacHex(key, canonicalRequest(request.method, uri, query, canonicalHeaders(headers, encodeHeaderPart)));
      if (constantTimeEqual(expected, signature)) {
        return { credential, bodyDigest: signedBodyDigest(names, (name) => headerValue(request.headers, name)) };
      }
    }
  }
  throw new SailfinError("SignatureDoesNotMatch");
}

interface AuthorizationParts {
  readonly accessKey: string;
  readonly timestamp: string;
  /** `bce-auth-v1/{accessKey}/{timestamp}/{expiration}`, the signing key's derivation input. */
  readonly prefix: string;
  readonly signedAt: number;
  readonly expiration: number;
  /** The signed header names, trimmed and lower-case, as listed. */
  readonly names: readonly string[];
  readonly signature: string;
}

/**
 * Parsed authorization strings: a client sends the same one for every request it makes within a
 * second. Only what the string alone decides is kept (its syntax and limits); the clock, the
 * request's headers and the signature itself are checked on every request.
 */
const parsedAuthorizations = new Map<string, AuthorizationParts>();
const PARSED_AUTHORIZATIONS_KEPT = 1024;

function parseAuthorization(authorization: string): AuthorizationParts {
  const known = parsedAuthorizations.get(authorization);
  if (known !== undefined) return known;
  const match = AUTH_PATTERN.exec(authorization.trim());
  if (match === null) throw new SailfinError("InvalidHTTPAuthHeader", { detail: "not a bce-auth-v1 authorization string" });
  const [, accessKey, timestamp, expirationText, signedHeaderList, signature] = match as unknown as string[];
  if (!TIMESTAMP_PATTERN.test(timestamp!)) {
    throw new SailfinError("InvalidHTTPAuthHeader", { detail: "timestamp must be YYYY-MM-DDThh:mm:ssZ" });
  }
  const signedAt = Date.parse(timestamp!);
  const expiration = Number(expirationText);
  if (Number.isNaN(signedAt)) throw new SailfinError("InvalidHTTPAuthHeader", { detail: "invalid timestamp" });
  if (expiration > MAX_EXPIRATION_S) {
    throw new SailfinError("InvalidHTTPAuthHeader", { detail: `expiration may not exceed ${MAX_EXPIRATION_S} seconds` });
  }
  const names = Object.freeze(signedHeaderList!.split(";").map((n) => n.trim().toLowerCase()).filter((n) => n !== ""));
  const parts: AuthorizationParts = Object.freeze({
    accessKey: accessKey!, timestamp: timestamp!, prefix: `bce-auth-v1/${accessKey}/${timestamp}/${expirationText}`,
    signedAt, expiration, names, signature: signature!,
  });
  // Bounded (entries and their length) by dropping everything: a miss only costs the parsing.
  if (authorization.length <= 1024) {
    if (parsedAuthorizations.size >= PARSED_AUTHORIZATIONS_KEPT) parsedAuthorizations.clear();
    parsedAuthorizations.set(authorization, parts);
  }
  return parts;
}

/** Encoded header names and values: most repeat on every request (host, content type, the second's date). */
const encodedHeaderParts = new Map<string, string>();

function encodeHeaderPart(value: string): string {
  let encoded = encodedHeaderParts.get(value);
  if (encoded === undefined) {
    encoded = uriEncode(value);
    if (value.length <= 256) {
      if (encodedHeaderParts.size >= 1024) encodedHeaderParts.clear();
      encodedHeaderParts.set(value, encoded);
    }
  }
  return encoded;
}

/** Canonical URI and query by request target: a client calls the same few targets over and over. */
const canonicalTargets = new Map<string, { readonly uri: string; readonly query: string }>();
const CANONICAL_TARGETS_KEPT = 256;

function canonicalTarget(url: string): { readonly uri: string; readonly query: string } {
  let target = canonicalTargets.get(url);
  if (target === undefined) {
    const queryStart = url.indexOf("?");
    target = {
      uri: canonicalUri(queryStart < 0 ? url : url.slice(0, queryStart)),
      query: canonicalQuery(queryStart < 0 ? "" : url.slice(queryStart + 1)),
    };
    // Bounded (entries and their length) by dropping everything: targets are caller-chosen, and a
    // miss only costs the encoding.
    if (url.length > 512) return target;
    if (canonicalTargets.size >= CANONICAL_TARGETS_KEPT) canonicalTargets.clear();
    canonicalTargets.set(url, target);
  }
  return target;
}

/** The signed headers as received, then with the tolerated variations (host port, trusted proxy's host, date race). */
function* headerVariants(
  request: SignedRequest,
  names: readonly string[],
  timestamp: string,
): Generator<Array<[string, string]>> {
  const base = names.map((name) => [name, headerValue(request.headers, name) ?? ""] as [string, string]);
  yield base;
  // `host` is always signed (checked before this runs).
  const hostIndex = names.indexOf("host");
  const signedHost = base[hostIndex]![1];
  const hosts: string[] = [];
  const bare = signedHost.replace(/:\d+$/, "");
  if (bare !== signedHost) hosts.push(bare);
  const forwarded = request.forwardedHost;
  if (forwarded !== undefined && forwarded !== signedHost) hosts.push(forwarded, forwarded.replace(/:\d+$/, ""));
  const dateIndex = names.indexOf("x-bce-date");
  const dates = dateIndex >= 0 && base[dateIndex]![1] !== timestamp ? [timestamp] : [];
  for (const host of [undefined, ...hosts]) {
    for (const date of [undefined, ...dates]) {
      if (host === undefined && date === undefined) continue;
      yield base.map(([name, value], i) => [name, i === hostIndex && host !== undefined ? host : i === dateIndex && date !== undefined ? date : value]);
    }
  }
}

function headerValue(headers: SignedRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(",") : value;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}
