import type { FastifyInstance } from "fastify";
import { grantAccessToken, type EngineResources } from "@sailfin/engine";

/**
 * Legacy `POST /oauth/2.0/token?grant_type=client_credentials&client_id=AK&client_secret=SK`
 * (reference §3.5). Errors are `{error, error_description}` with HTTP 200, as the Python
 * client parses the body whatever the status; a request refused before this handler (a body
 * that is not JSON, a NUL byte) gets the same shape with `invalid_request` (app.ts renderError).
 */
export function registerOAuth(app: FastifyInstance, res: EngineResources): void {
  app.post("/oauth/2.0/token", async (request) => {
    const query = request.query as Record<string, unknown>;
    const body = (request.body ?? {}) as Record<string, unknown>;
    // Only a single string counts: a repeated parameter or a JSON number is no client id.
    const pick = (key: string) => {
      const value = query[key] ?? body[key];
      return typeof value === "string" ? value : undefined;
    };
    const grant = await grantAccessToken(res, pick("client_id"), pick("client_secret"), pick("grant_type"));
    if (!grant.ok) return { error: grant.error, error_description: grant.description };
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
