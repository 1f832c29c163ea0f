import type { FastifyInstance } from "fastify";
import { grantAccessToken, type EngineResources } from "@sailfin/engine";
import type { KeyPairLimiter } from "../../failure-limiter.js";

/**
 * Legacy `POST /oauth/2.0/token?grant_type=client_credentials&client_id=AK&client_secret=SK`
 * (reference §3.5). Errors are `{error, error_description}` with HTTP 200, as the Python
 * client parses the body whatever the status; an unknown client_id and a wrong secret read the
 * same. Guesses are throttled with console sign-in's limiter (per client address and per key):
 * past it, HTTP 429 with Retry-After and `temporarily_unavailable` (RFC 6749 §4.1.2.1). A request
 * refused before this handler (a body that is not JSON, a NUL byte) gets the same shape with
 * `invalid_request` (app.ts renderError).
 */
export function registerOAuth(app: FastifyInstance, res: EngineResources, options: { limiter: KeyPairLimiter }): void {
  const access = { open: "the client credentials in the request are what it checks", dialect: "oauth" } as const;
  app.post("/oauth/2.0/token", { config: { access } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const body = (request.body ?? {}) as Record<string, unknown>;
    // Only a single string counts: a repeated parameter or a JSON number is no client id.
    const pick = (key: string) => {
      const value = query[key] ?? body[key];
      return typeof value === "string" ? value : undefined;
    };
    const clientId = pick("client_id") ?? "";
    const attempt = options.limiter.reserve(request.ip, clientId);
    if (attempt.retryAfterS > 0) {
      reply.code(429).header("retry-after", String(attempt.retryAfterS));
      return { error: "temporarily_unavailable", error_description: `too many failed attempts; retry in ${attempt.retryAfterS} s` };
    }
    const grant = await grantAccessToken(res, clientId, pick("client_secret"), pick("grant_type"));
    if (!grant.ok) return { error: grant.error, error_description: grant.description };
    attempt.succeeded();
    return {
      access_token: grant.accessToken,
      expires_in: grant.expiresIn,
      refresh_token: "",
      scope: "public",
      session_key: "",
      session_secret: "",
    };
  });
}
