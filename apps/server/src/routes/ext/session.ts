import type { FastifyInstance, FastifyReply } from "fastify";
import { SESSION_PATH, SailfinError, SignInBody, grantedActions, parseWith, type ConsoleSession } from "@sailfin/contract";
import { endConsoleSession, findConsoleSession, openConsoleSession, type ConsoleSessionRecord, type EngineResources } from "@sailfin/engine";
import type { KeyPairLimiter } from "../../failure-limiter.js";
import {
  assertSameOrigin, authenticateSession, clearSessionCookie, sessionCookie, setSessionCookie,
} from "../../session-auth.js";

/**
 * Sailfin extension: the web console's sign-in (docs/api.md "Console sessions").
 *
 *   POST   /sailfin/v1/session  {accessKey, secretKey}  → 200 ConsoleSession + Set-Cookie sailfin_session
 *   GET    /sailfin/v1/session                          → 200 ConsoleSession, or 401 NotSignedIn
 *   DELETE /sailfin/v1/session  (X-Sailfin-CSRF)        → 204, cookie cleared
 *
 * Answers are plain JSON; errors are V2's `{requestId, code, message}`. A wrong pair is 403
 * AccessDenied whichever half was wrong; guesses are throttled per client address and per key
 * (KeyPairLimiter, shared with the OAuth token endpoint): 429 with Retry-After. The IP is the
 * client's as the server sees it: behind a proxy, SAILFIN_TRUST_PROXY makes it the forwarded one.
 */
interface SessionRoutesOptions {
  /** Session lifetime (SAILFIN_SESSION_TTL_S). */
  readonly ttlS: number;
  /** Guesses at key pairs, counted with the OAuth token endpoint's. */
  readonly limiter: KeyPairLimiter;
}

export function registerSessionRoutes(app: FastifyInstance, res: EngineResources, options: SessionRoutesOptions): void {
  const open = { config: { access: { open: "the session's own door: a key pair, or the cookie it set", dialect: "v2" } } } as const;
  const render = (reply: FastifyReply, session: ConsoleSessionRecord): ConsoleSession => {
    reply.header("cache-control", "no-store").header("x-bce-request-id", reply.request.id);
    const { accessKey, policies } = session.credential;
    return { accessKey, policies, actions: grantedActions(policies), csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  };

  app.post(SESSION_PATH, open, async (request, reply) => {
    // Sign-in CSRF (a foreign page signing the browser in as the attacker's key).
    assertSameOrigin(request);
    const input = parseWith(SignInBody, request.body ?? {});
    const attempt = options.limiter.reserve(request.ip, input.accessKey);
    if (attempt.retryAfterS > 0) {
      reply.header("retry-after", String(attempt.retryAfterS));
      throw new SailfinError("TooManyRequests", { detail: `retry in ${attempt.retryAfterS} s` });
    }
    const session = await openConsoleSession(res, { accessKey: input.accessKey, secretKey: input.secretKey, ttlS: options.ttlS });
    if (session === null) throw new SailfinError("AccessDenied", { detail: "the access key and secret key do not match a key of this server" });
    attempt.succeeded();
    const previous = sessionCookie(request);
    if (previous !== undefined) await endConsoleSession(res, previous);
    setSessionCookie(reply, session.token, options.ttlS);
    return render(reply, session);
  });

  app.get(SESSION_PATH, open, async (request, reply) => {
    const token = sessionCookie(request);
    const session = token === undefined ? null : await findConsoleSession(res, token);
    if (session === null) throw new SailfinError("NotSignedIn");
    return render(reply, session);
  });

  app.delete(SESSION_PATH, open, async (request, reply) => {
    const token = sessionCookie(request);
    if (token !== undefined) {
      // A live session needs its CSRF token to end (no foreign page signs the user out); a dead one is gone already.
      const alive = await authenticateSession(res, request, token).catch((error: unknown) => {
        if (error instanceof SailfinError && error.id === "NotSignedIn") return null;
        throw error;
      });
      if (alive !== null) await endConsoleSession(res, token);
    }
    clearSessionCookie(reply);
    return reply.code(204).header("x-bce-request-id", request.id).send();
  });
}
