import { CreateApiKeyBody, DeleteApiKeyBody, parseWith, type CreatedApiKey, type DescribeApiKeysResult } from "@sailfin/contract";
import { createApiKey, deleteApiKey, listApiKeys } from "@sailfin/engine";
import { v2, type RouteDef } from "../route.js";

/**
 * Sailfin extension: API keys (`/v2/iam?Action=…ApiKey…`, `sailfin keys api-key`), the lasting
 * `Authorization: Bearer` keys Qianfan's console issues for V2 inference and the OpenAI SDKs. Each
 * acts as the access key that made it, with its policies, so a key manages only its own, and any
 * key that may call a service may make one: it grants nothing the key lacks. Only signed (or
 * console-session) calls reach these routes; a bearer token or API key cannot.
 */
export const apiKeyRoutes: RouteDef[] = [
  v2("iam", "CreateApiKey", "service:invoke", async (ctx, body): Promise<CreatedApiKey> => {
    const input = parseWith(CreateApiKeyBody, body);
    return createApiKey(ctx.res, ctx.caller, input.description ?? "");
  }, true),
  v2("iam", "DescribeApiKeys", "service:invoke", async (ctx): Promise<DescribeApiKeysResult> => ({
    apiKeyList: await listApiKeys(ctx.res, ctx.caller),
  }), true),
  v2("iam", "DeleteApiKey", "service:invoke", async (ctx, body) => {
    const input = parseWith(DeleteApiKeyBody, body);
    await deleteApiKey(ctx.res, ctx.caller, input.apiKeyId);
    return true;
  }, true),
];
