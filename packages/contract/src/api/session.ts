import { ACTIONS, POLICIES, type Action, type PolicyName } from "../policies.js";

/**
 * Sailfin extension: the web console's session (docs/api.md "Console sessions"). A browser
 * trades an access key pair for an HttpOnly cookie once; the secret never stays in the page.
 *
 *   POST   /sailfin/v1/session   {accessKey, secretKey} → ConsoleSession + Set-Cookie
 *   GET    /sailfin/v1/session   → ConsoleSession (a fresh read of the key's policies), or 401 NotSignedIn
 *   DELETE /sailfin/v1/session   → 204, the cookie cleared
 *
 * Every other route accepts the cookie in place of a signature; a request with the cookie that
 * is not GET/HEAD must carry `X-Sailfin-CSRF: <csrfToken>`.
 *
 * No zod here (the sign-in body's schema is in sign-in-body.ts): zod's entry point configures
 * itself when imported, so a module that imports it cannot be left out of the console's bundle,
 * and the console needs only these constants (≈ 19 KB gzip saved).
 */
export const SESSION_PATH = "/sailfin/v1/session";
export const SESSION_COOKIE = "sailfin_session";
/** Lower case, as fetch and Node hand header names around. */
export const CSRF_HEADER = "x-sailfin-csrf";

export interface ConsoleSession {
  readonly accessKey: string;
  readonly policies: readonly PolicyName[];
  /** The IAM actions the policies grant (`tuning:read`, `tuning:write`…): what the page may offer. */
  readonly actions: readonly Action[];
  /** Echo it in `X-Sailfin-CSRF` on every mutating request. */
  readonly csrfToken: string;
  /** ISO-8601 UTC; the cookie's Max-Age ends at the same moment. */
  readonly expiresAt: string;
}

/**
 * The actions a set of policies grants, in catalog order.
 *
 * @example grantedActions(["QianfanReadAccessPolicy"]).includes("tuning:write") // false
 */
export function grantedActions(policies: readonly PolicyName[]): Action[] {
  const granted = new Set<Action>(policies.flatMap((name) => POLICIES[name] as readonly Action[]));
  return ACTIONS.filter((action) => granted.has(action));
}
