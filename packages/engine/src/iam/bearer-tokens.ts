import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Insertable } from "kysely";
import { SailfinError } from "@sailfin/contract";
import type { BearerTokenTable } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import { checkKeyPair, findCredential, type Credential } from "./access-keys.js";

/**
 * Bearer tokens (`GET /v1/BCE-BEARER/token`, reference §15.4) and API keys: `bce-v3/ALTAK-…/<hex>`
 * strings that act as the access key that made them, with its policies, on the inference routes
 * only (a token cannot manage keys: a leaked one must not be able to mint a lasting key). Only
 * the SHA-256 of the whole token is stored, so a token is shown once; deleting the access key
 * deletes its tokens, and a token whose key is gone is refused anyway.
 */

/** Qianfan's cap: 30 days. */
const MAX_BEARER_TTL_S = 2_592_000;
/**
 * The shortest lifetime issued: Python never refreshes a token younger than an hour (reference
 * §15.4), so a shorter one would turn into hard 401s; a shorter request is raised to this.
 */
const MIN_BEARER_TTL_S = 3600;
/** API keys one access key may hold: a bound on what a caller can make the table hold. */
const MAX_API_KEYS_PER_KEY = 100;

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_PATTERN = /^bce-v3\/ALTAK-[A-Za-z0-9]{20}\/[0-9a-f]{40}$/;

interface IssuedBearerToken {
  readonly userId: string;
  readonly token: string;
  readonly status: "enable";
  readonly createTime: string;
  readonly expireTime: string;
}

interface ApiKeyRecord {
  /** `apikey-<num>`: names the key for listing and deleting (the token itself is never stored). */
  readonly apiKeyId: string;
  readonly description: string;
  readonly createTime: string;
}

/**
 * Issues a bearer token for `caller`, valid `expireInSeconds` clamped to [1 h, 30 days].
 * @example await issueBearerToken(res, caller, 43200) // {userId, token: "bce-v3/ALTAK-…/…", status: "enable", …}
 */
export async function issueBearerToken(res: EngineResources, caller: Credential, expireInSeconds: number): Promise<IssuedBearerToken> {
  const ttl = Math.min(MAX_BEARER_TTL_S, Math.max(MIN_BEARER_TTL_S, Math.floor(expireInSeconds)));
  const token = newToken();
  // Whole seconds: every SDK parses the times (Python < 3.11 wants 0, 3 or 6 fraction digits).
  const now = Math.floor(Date.now() / 1000) * 1000;
  const createTime = isoZ(now);
  const expireTime = isoZ(now + ttl * 1000);
  // The caller's expired tokens go as it takes a new one: the table holds what is still usable.
  await res.db.deleteFrom("bearer_tokens")
    .where("access_key", "=", caller.accessKey).where("kind", "=", "bearer").where("expires_at", "<=", createTime).execute();
  const row: Insertable<BearerTokenTable> = { token_hash: hashToken(token), kind: "bearer", access_key: caller.accessKey, created_at: createTime, expires_at: expireTime };
  await res.db.insertInto("bearer_tokens").values(row).execute();
  return { userId: caller.accessKey, token, status: "enable", createTime, expireTime };
}

/** Creates a lasting API key for `caller`; the key is returned only here. */
export async function createApiKey(res: EngineResources, caller: Credential, description: string): Promise<ApiKeyRecord & { readonly apiKey: string }> {
  const held = await res.db.selectFrom("bearer_tokens").select((eb) => eb.fn.countAll<number>().as("n"))
    .where("access_key", "=", caller.accessKey).where("kind", "=", "api-key").executeTakeFirst();
  if (Number(held?.n ?? 0) >= MAX_API_KEYS_PER_KEY) {
    throw new SailfinError("Conflict", { detail: `an access key may hold at most ${MAX_API_KEYS_PER_KEY} API keys; delete one first` });
  }
  const apiKey = newToken();
  const createTime = isoZ(Date.now());
  const values: Insertable<BearerTokenTable> = { token_hash: hashToken(apiKey), kind: "api-key", access_key: caller.accessKey, description, created_at: createTime, expires_at: null };
  const row = await res.db.insertInto("bearer_tokens").values(values).returning("num").executeTakeFirstOrThrow();
  return { apiKey, apiKeyId: `apikey-${row.num}`, description, createTime };
}

/** The caller's own API keys, oldest first. */
export async function listApiKeys(res: EngineResources, caller: Credential): Promise<ApiKeyRecord[]> {
  const rows = await res.db.selectFrom("bearer_tokens").select(["num", "description", "created_at"])
    .where("access_key", "=", caller.accessKey).where("kind", "=", "api-key").orderBy("num", "asc").execute();
  return rows.map((r) => ({ apiKeyId: `apikey-${r.num}`, description: r.description, createTime: r.created_at }));
}

/** Deletes one of the caller's own API keys; another key's (or an unknown id) is NotFound alike. */
export async function deleteApiKey(res: EngineResources, caller: Credential, apiKeyId: string): Promise<void> {
  const match = /^apikey-([1-9][0-9]{0,15})$/.exec(apiKeyId);
  const result = match === null ? undefined : await res.db.deleteFrom("bearer_tokens")
    .where("num", "=", Number(match[1])).where("access_key", "=", caller.accessKey).where("kind", "=", "api-key")
    .executeTakeFirst();
  if (result === undefined || Number(result.numDeletedRows) === 0) {
    throw new SailfinError("NotFound", { field: "apiKeyId", detail: `API key ${apiKeyId} not found` });
  }
}

/**
 * The credential a bearer token or API key acts as. Throws AccessTokenInvalid (unknown, malformed,
 * or its access key deleted) or AccessTokenExpired.
 */
export async function verifyBearerToken(res: EngineResources, token: string, now: Date = new Date()): Promise<Credential> {
  if (!TOKEN_PATTERN.test(token)) throw new SailfinError("AccessTokenInvalid", { detail: "not a bce-v3 bearer token or API key" });
  const hash = hashToken(token);
  const row = await res.db.selectFrom("bearer_tokens").selectAll().where("token_hash", "=", hash).executeTakeFirst();
  // The index found the row by its hash; the hashes are compared again in constant time so the
  // answer never depends on how much of a guess matched.
  if (row === undefined || !timingSafeEqual(Buffer.from(row.token_hash, "hex"), Buffer.from(hash, "hex"))) {
    throw new SailfinError("AccessTokenInvalid");
  }
  if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) throw new SailfinError("AccessTokenExpired");
  const credential = await findCredential(res, row.access_key);
  if (credential === null) throw new SailfinError("AccessTokenInvalid", { detail: "the access key that made it was deleted" });
  return credential;
}

/**
 * `Authorization: Bearer AK:SK` (OpenAI's dialect: its SDKs send one opaque key) split at the
 * first `:` into an access key id and its secret key; null when the token has no `:` (a bearer
 * token or API key never has one).
 */
export function splitKeyPairBearer(token: string): { readonly accessKey: string; readonly secretKey: string } | null {
  const colon = token.indexOf(":");
  return colon < 0 ? null : { accessKey: token.slice(0, colon), secretKey: token.slice(colon + 1) };
}

/**
 * The credential of a `Bearer AK:SK` pair, checked as console sign-in checks one (checkKeyPair:
 * constant time, an unknown key against a throwaway secret), so a wrong secret and an unknown key
 * are the same AccessTokenInvalid as a bad bearer token.
 *
 * @example const credential = await verifyKeyPairBearer(res, splitKeyPairBearer(token)!);
 */
export async function verifyKeyPairBearer(res: EngineResources, pair: { readonly accessKey: string; readonly secretKey: string }): Promise<Credential> {
  const credential = await checkKeyPair(res, pair.accessKey, pair.secretKey);
  if (credential === null) throw new SailfinError("AccessTokenInvalid");
  return credential;
}

function newToken(): string {
  const bytes = randomBytes(20);
  const id = Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
  return `bce-v3/ALTAK-${id}/${randomBytes(20).toString("hex")}`;
}

function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** `YYYY-MM-DDThh:mm:ssZ`. */
function isoZ(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
