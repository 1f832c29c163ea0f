import type { FastifyInstance } from "fastify";
import { SailfinError, type BearerTokenResult } from "@sailfin/contract";
import { issueBearerToken, type EngineResources } from "@sailfin/engine";

/**
 * `GET /v1/BCE-BEARER/token?expireInSeconds=N` (reference §15.4): trades a bce-auth-v1 signed call
 * for a bearer token the V2 inference routes accept (`Authorization: Bearer …`). The answer is raw
 * JSON, no envelope, as every SDK reads its top-level keys; errors are V2's. The lifetime is
 * clamped to [1 h, 30 days] (engine/iam/bearer-tokens.ts says why).
 */
export function registerBearerToken(app: FastifyInstance, res: EngineResources): void {
  const access = { dialect: "v2", iam: "service:invoke" } as const;
  app.get("/v1/BCE-BEARER/token", { config: { access } }, async (request): Promise<BearerTokenResult> => {
    const raw = (request.query as Record<string, unknown>).expireInSeconds;
    const seconds = typeof raw === "string" && /^[0-9]{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(seconds > 0)) {
      throw new SailfinError("InvalidParameter", { field: "expireInSeconds", detail: "must be a positive whole number of seconds" });
    }
    return issueBearerToken(res, request.sailfin!.caller!, seconds);
  });
}
