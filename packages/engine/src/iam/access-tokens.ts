import { createHash, randomBytes } from "node:crypto";
import { SailfinError } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import { checkKeyPair, findCredential, type Credential } from "./access-keys.js";

/** 30 days, as Baidu's OAuth endpoint issues them. */
const ACCESS_TOKEN_TTL_S = 2_592_000;

type TokenGrant =
  | { readonly ok: true; readonly accessToken: string; readonly expiresIn: number }
  | { readonly ok: false; readonly error: string; readonly description: string };

/**
 * Legacy OAuth client_credentials (reference §3.5): trades an AK/SK for a bearer token usable
 * as `?access_token=` on console routes. Only the token's hash is stored. An unknown client_id
 * and a wrong secret get the same answer by the same constant-time path (`checkKeyPair`).
 */
export async function grantAccessToken(
  res: EngineResources,
  clientId: string | undefined,
  clientSecret: string | undefined,
  grantType: string | undefined,
): Promise<TokenGrant> {
  if (grantType !== "client_credentials") {
    return { ok: false, error: "unsupported_grant_type", description: "only client_credentials is supported" };
  }
  const credential = await checkKeyPair(res, clientId ?? "", clientSecret ?? "");
  if (credential === null) return { ok: false, error: "invalid_client", description: "Client authentication failed" };
  const token = `24.${randomBytes(24).toString("hex")}`;
  const now = Date.now();
  await res.db
    .insertInto("access_tokens")
    .values({
      token_hash: hashToken(token),
      access_key: credential.accessKey,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + ACCESS_TOKEN_TTL_S * 1000).toISOString(),
    })
    .execute();
  return { ok: true, accessToken: token, expiresIn: ACCESS_TOKEN_TTL_S };
}

export async function verifyAccessToken(res: EngineResources, token: string, now: Date = new Date()): Promise<Credential> {
  const row = await res.db.selectFrom("access_tokens").selectAll().where("token_hash", "=", hashToken(token)).executeTakeFirst();
  if (row === undefined) throw new SailfinError("AccessTokenInvalid");
  if (Date.parse(row.expires_at) < now.getTime()) throw new SailfinError("AccessTokenExpired");
  const credential = await findCredential(res, row.access_key);
  if (credential === null) throw new SailfinError("AccessTokenInvalid");
  return credential;
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
