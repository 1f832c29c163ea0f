import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { newAccessKeyId, newSecretKey, SailfinError, isPolicyName, signingKey, type PolicyName, nowIso } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";

interface AccessKeyRecord {
  readonly accessKey: string;
  readonly policies: PolicyName[];
  readonly description: string;
  readonly createdAt: string;
}

export interface Credential extends AccessKeyRecord {
  readonly secretKey: string;
}

/**
 * A short-lived cache of decrypted credentials. Every signed request needs the secret, and a
 * database round trip per request would dominate a cheap read. Entries live 5 s, so a key
 * deleted through another replica stops working within that; this replica drops it at once.
 */
const CACHE_TTL_MS = 5000;
type CacheEntry = { credential: Credential | null; until: number };
/** One cache per database handle: two servers in one process (tests) never share entries. */
const caches = new WeakMap<object, Map<string, CacheEntry>>();

function cacheOf(res: EngineResources): Map<string, CacheEntry> {
  let cache = caches.get(res.db);
  if (cache === undefined) {
    cache = new Map();
    caches.set(res.db, cache);
  }
  return cache;
}

function forgetCachedKey(res: EngineResources, accessKey: string): void {
  cacheOf(res).delete(accessKey);
}

export async function findCredential(res: EngineResources, accessKey: string): Promise<Credential | null> {
  const now = Date.now();
  const cache = cacheOf(res);
  const hit = cache.get(accessKey);
  if (hit !== undefined && hit.until > now) return hit.credential;
  const row = await res.db.selectFrom("access_keys").selectAll().where("access_key", "=", accessKey).executeTakeFirst();
  const credential = row === undefined ? null : credentialOfRow(res, row);
  if (cache.size > 10_000) cache.clear();
  cache.set(accessKey, { credential, until: now + CACHE_TTL_MS });
  return credential;
}

/**
 * The credential of an access key pair, or null when either half is wrong, without telling
 * which: the secret is compared in constant time, and an unknown key against a throwaway secret,
 * so both refusals take the same path. Console sign-in and the OAuth token endpoint use it.
 *
 * @example
 * const credential = await checkKeyPair(res, accessKey, secretKey);
 * if (credential === null) throw new SailfinError("AccessDenied");
 */
export async function checkKeyPair(res: EngineResources, accessKey: string, secretKey: string): Promise<Credential | null> {
  const credential = await findCredential(res, accessKey);
  const expected = credential?.secretKey ?? randomBytes(24).toString("base64url");
  return sameSecret(expected, secretKey) && credential !== null ? credential : null;
}

/** Constant-time equality of two secrets whatever their lengths: their sha256 digests are compared. */
export function sameSecret(expected: string, given: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * The bce-auth-v1 signing key, HMAC(secret, auth-string prefix), for a credential. A client
 * signs all its requests of one second with the same prefix, so the last key derived is kept
 * with the credential object and goes when its cache entry does. The request's signature itself
 * is still computed and compared on every request.
 */
const signingKeys = new WeakMap<Credential, { readonly prefix: string; readonly key: string }>();

export function signingKeyOf(credential: Credential, prefix: string): string {
  const last = signingKeys.get(credential);
  if (last !== undefined && last.prefix === prefix) return last.key;
  const key = signingKey(credential.secretKey, prefix);
  signingKeys.set(credential, { prefix, key });
  return key;
}

/** An `access_keys` row as a Credential: the secret unsealed, unknown policy names dropped. */
export function credentialOfRow(
  res: EngineResources,
  row: { access_key: string; secret_enc: string; policies: string; description: string; created_at: string },
): Credential {
  return {
    accessKey: row.access_key,
    secretKey: res.secrets.open(row.secret_enc),
    policies: parsePolicies(row.policies),
    description: row.description,
    createdAt: row.created_at,
  };
}

function parsePolicies(text: string): PolicyName[] {
  const list = JSON.parse(text) as string[];
  return list.filter(isPolicyName);
}

interface CreateAccessKeyInput {
  readonly policies: readonly string[];
  readonly description?: string;
  /** Use this pair instead of generating one (bootstrap from the environment). */
  readonly accessKey?: string;
  readonly secretKey?: string;
}

/**
 * Creates an access key pair with its policies. The secret is returned once and stored
 * encrypted.
 *
 * @example
 * const { accessKey, secretKey } = await createAccessKey(res, { policies: ["QianfanReadAccessPolicy"] });
 */
export async function createAccessKey(res: EngineResources, input: CreateAccessKeyInput): Promise<Credential> {
  if (input.policies.length === 0) {
    throw new SailfinError("InvalidParameter", { field: "policies", detail: "at least one policy is required" });
  }
  input.policies.forEach((name, index) => {
    if (!isPolicyName(name)) {
      throw new SailfinError("InvalidParameter", { field: `policies[${index}]`, detail: `unknown policy ${name}` });
    }
  });
  const policies = [...new Set(input.policies)] as PolicyName[];
  const accessKey = input.accessKey ?? newAccessKeyId();
  const secretKey = input.secretKey ?? newSecretKey();
  if (!/^[A-Za-z0-9_\-.]{8,128}$/.test(accessKey)) {
    throw new SailfinError("InvalidParameter", { field: "accessKey", detail: "8-128 characters of [A-Za-z0-9_-.]" });
  }
  const createdAt = nowIso();
  const existing = await res.db.selectFrom("access_keys").select("num").where("access_key", "=", accessKey).executeTakeFirst();
  if (existing !== undefined) throw new SailfinError("Conflict", { field: "accessKey", detail: "already exists" });
  await res.db
    .insertInto("access_keys")
    .values({
      access_key: accessKey,
      secret_enc: res.secrets.seal(secretKey),
      policies: JSON.stringify(policies),
      description: input.description ?? "",
      created_at: createdAt,
    })
    .execute();
  forgetCachedKey(res, accessKey);
  return { accessKey, secretKey, policies, description: input.description ?? "", createdAt };
}

export async function listAccessKeys(res: EngineResources): Promise<AccessKeyRecord[]> {
  const rows = await res.db.selectFrom("access_keys").selectAll().orderBy("num", "asc").execute();
  return rows.map((row) => ({
    accessKey: row.access_key,
    policies: parsePolicies(row.policies),
    description: row.description,
    createdAt: row.created_at,
  }));
}

export async function deleteAccessKey(res: EngineResources, accessKey: string, caller: string): Promise<void> {
  if (accessKey === caller) {
    throw new SailfinError("Conflict", { field: "accessKey", detail: "a key cannot delete itself" });
  }
  const result = await res.db.deleteFrom("access_keys").where("access_key", "=", accessKey).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) {
    throw new SailfinError("NotFound", { field: "accessKey", detail: `access key ${accessKey} not found` });
  }
  await res.db.deleteFrom("access_tokens").where("access_key", "=", accessKey).execute();
  await res.db.deleteFrom("bearer_tokens").where("access_key", "=", accessKey).execute();
  forgetCachedKey(res, accessKey);
}

export async function countAccessKeys(res: EngineResources): Promise<number> {
  const row = await res.db.selectFrom("access_keys").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
  return Number(row?.n ?? 0);
}
