import type { FastifyReply, FastifyRequest } from "fastify";
import { CSRF_HEADER, SESSION_COOKIE, SailfinError } from "@sailfin/contract";
import { csrfTokenMatches, findConsoleSession, type ConsoleSessionRecord, type EngineResources } from "@sailfin/engine";

/**
 * The console's cookie, as an alternative to a bce-auth-v1 signature (docs/api.md "Console
 * sessions"). A cookie travels with every request the browser makes to this origin, whoever
 * made the page, so a cookie-authenticated request that can change something must prove it
 * came from the console: the session's CSRF token in `X-Sailfin-CSRF` (a foreign page cannot
 * read it, nor set a custom header cross-origin without a CORS preflight this server never
 * grants) and, when the browser names it, an `Origin` of this very host.
 */

/** The `sailfin_session` cookie's value, or undefined. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === "" ? undefined : value;
    }
  }
  return undefined;
}

/** Whether the method can change anything (everything but GET and HEAD is checked). */
function isMutatingMethod(method: string): boolean {
  return method !== "GET" && method !== "HEAD";
}

/**
 * Refuses a request whose `Origin` names another host (`Host`, or a trusted proxy's
 * `X-Forwarded-Host`). Hosts, not schemes, are compared: behind
 * a proxy that terminates TLS the server sees http while the browser says https.
 */
export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string | null;
  try {
    host = origin === "null" ? null : new URL(origin).host;
  } catch {
    host = null;
  }
  // `request.host` is X-Forwarded-Host only from a proxy SAILFIN_TRUST_PROXY trusts.
  const own = [request.headers.host, request.host].filter((h): h is string => typeof h === "string");
  if (host === null || !own.some((h) => h.toLowerCase() === host!.toLowerCase())) {
    throw new SailfinError("InvalidCSRFToken", { detail: `Origin ${origin} is not this server` });
  }
}

/**
 * The session of a cookie-carrying request, with the CSRF checks of a mutating one. Throws
 * NotSignedIn when the session is unknown, expired or its key deleted.
 */
export async function authenticateSession(res: EngineResources, request: FastifyRequest, token: string): Promise<ConsoleSessionRecord> {
  const session = await findConsoleSession(res, token);
  if (session === null) throw new SailfinError("NotSignedIn");
  if (isMutatingMethod(request.method)) {
    assertSameOrigin(request);
    const given = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(session, typeof given === "string" ? given : undefined)) {
      throw new SailfinError("InvalidCSRFToken", { detail: `the ${CSRF_HEADER} header is missing or wrong` });
    }
  }
  return session;
}

/** `Secure` when the browser reached us over https (directly, or as a TLS proxy says). */
function isHttps(request: FastifyRequest): boolean {
  return request.protocol === "https" || request.headers["x-forwarded-proto"] === "https";
}

export function setSessionCookie(reply: FastifyReply, token: string, maxAgeS: number): void {
  reply.header("set-cookie", cookie(reply.request, token, maxAgeS));
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.header("set-cookie", cookie(reply.request, "", 0));
}

function cookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${isHttps(request) ? "; Secure" : ""}`;
}
