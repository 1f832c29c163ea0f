import { createHash, randomBytes } from "node:crypto";
import type { EngineResources } from "../resources.js";
import { checkKeyPair, credentialOfRow, sameSecret, type Credential } from "./access-keys.js";

/**
 * The web console's sessions (docs/api.md "Console sessions"): an access key pair traded once
 * for a random cookie token, so the secret never stays in the browser. Only the token's sha256
 * is stored; the session acts for its access key, whose row is read at every use (policies
 * fresh, a deleted key ends its sessions at once, on every replica). Expired rows are deleted
 * lazily: when met, and in one sweep at each sign-in.
 */

/** 12 h: a working day, after which the pair must be typed again. */
export const DEFAULT_SESSION_TTL_S = 12 * 3600;
/**
 * last_seen_at is refreshed at most this often: a page polling a running task every second
 * would otherwise turn each read into a write.
 */
const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface ConsoleSessionRecord {
  /** The session's key, with its policies as the key's row holds them now. */
  readonly credential: Credential;
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

interface OpenedConsoleSession extends ConsoleSessionRecord {
  /** The cookie's value: handed out once, never stored. */
  readonly token: string;
}

interface SignInInput {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly ttlS: number;
  readonly now?: Date;
}

/**
 * Verifies the pair (constant-time against the sealed secret) and opens a session; null when
 * the pair is wrong, without saying which half.
 *
 * @example
 * const session = await openConsoleSession(res, { accessKey, secretKey, ttlS: DEFAULT_SESSION_TTL_S });
 * if (session !== null) reply.header("set-cookie", `sailfin_session=${session.token}; HttpOnly; …`);
 */
export async function openConsoleSession(res: EngineResources, input: SignInInput): Promise<OpenedConsoleSession | null> {
  const credential = await checkKeyPair(res, input.accessKey, input.secretKey);
  if (credential === null) return null;
  const now = input.now ?? new Date();
  const nowIso = now.toISOString();
  await res.db.deleteFrom("console_sessions")
    .where((eb) => eb.or([
      eb("expires_at", "<=", nowIso),
      eb("access_key", "not in", eb.selectFrom("access_keys").select("access_key")),
    ]))
    .execute();
  const token = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + input.ttlS * 1000).toISOString();
  await res.db.insertInto("console_sessions").values({
    token_hash: hashToken(token), access_key: credential.accessKey, csrf_token: csrfToken,
    created_at: nowIso, expires_at: expiresAt, last_seen_at: nowIso,
  }).execute();
  return { token, credential, csrfToken, createdAt: nowIso, expiresAt };
}

/** The live session of a cookie token, or null (unknown, expired, or its key deleted). */
export async function findConsoleSession(res: EngineResources, token: string, now: Date = new Date()): Promise<ConsoleSessionRecord | null> {
  const tokenHash = hashToken(token);
  const row = await res.db.selectFrom("console_sessions as s")
    .leftJoin("access_keys as k", "k.access_key", "s.access_key")
    .select([
      "s.access_key", "s.csrf_token", "s.created_at", "s.expires_at", "s.last_seen_at",
      "k.secret_enc", "k.policies", "k.description", "k.created_at as key_created_at",
    ])
    .where("s.token_hash", "=", tokenHash)
    .executeTakeFirst();
  if (row === undefined) return null;
  if (row.secret_enc === null || row.policies === null || Date.parse(row.expires_at) <= now.getTime()) {
    await res.db.deleteFrom("console_sessions").where("token_hash", "=", tokenHash).execute();
    return null;
  }
  if (now.getTime() - Date.parse(row.last_seen_at) >= LAST_SEEN_RESOLUTION_MS) {
    await res.db.updateTable("console_sessions").set({ last_seen_at: now.toISOString() }).where("token_hash", "=", tokenHash).execute();
  }
  return {
    credential: credentialOfRow(res, {
      access_key: row.access_key, secret_enc: row.secret_enc, policies: row.policies,
      description: row.description ?? "", created_at: row.key_created_at ?? "",
    }),
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Ends a session (sign-out); an unknown token is already ended. */
export async function endConsoleSession(res: EngineResources, token: string): Promise<void> {
  await res.db.deleteFrom("console_sessions").where("token_hash", "=", hashToken(token)).execute();
}

/** Constant-time check of the `X-Sailfin-CSRF` header against the session's token. */
export function csrfTokenMatches(session: ConsoleSessionRecord, given: string | undefined): boolean {
  return given !== undefined && sameSecret(session.csrfToken, given);
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
