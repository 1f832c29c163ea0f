import type {
  AccessKeyItem, ApiKeyItem, BodyInput, CreateAccessKeyBody, CreateApiKeyBody, CreatedApiKey, DeleteApiKeyBody, DescribeApiKeysResult, CreatedAccessKey, DeleteAccessKeyBody, DescribeAccessKeysResult, DescribePoliciesResult,
  PolicyName,
} from "@sailfin/contract/api";
import type { CallOptions, Transport } from "../transport.js";

/** Sailfin's access key management (`/v2/iam`; the caller needs QianfanFullControlAccessPolicy). */
export class Keys {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** CreateAccessKey: the only answer that carries the secret. */
  create(body: BodyInput<typeof CreateAccessKeyBody>, options?: CallOptions): Promise<CreatedAccessKey> {
    return this.#t.v2("iam", "CreateAccessKey", body, options);
  }

  async list(options?: CallOptions): Promise<readonly AccessKeyItem[]> {
    return (await this.#t.v2<DescribeAccessKeysResult>("iam", "DescribeAccessKeys", {}, options)).accessKeyList;
  }

  async delete(body: BodyInput<typeof DeleteAccessKeyBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("iam", "DeleteAccessKey", body, options);
  }

  /**
   * CreateApiKey: a lasting `Authorization: Bearer` key of the calling access key for the chat
   * routes (the OpenAI SDKs' `apiKey`); the only answer that carries it.
   */
  createApiKey(body: BodyInput<typeof CreateApiKeyBody> = {}, options?: CallOptions): Promise<CreatedApiKey> {
    return this.#t.v2("iam", "CreateApiKey", body, options);
  }

  /** DescribeApiKeys: the calling key's own API keys (never the keys themselves). */
  async listApiKeys(options?: CallOptions): Promise<readonly ApiKeyItem[]> {
    return (await this.#t.v2<DescribeApiKeysResult>("iam", "DescribeApiKeys", {}, options)).apiKeyList;
  }

  async deleteApiKey(body: BodyInput<typeof DeleteApiKeyBody>, options?: CallOptions): Promise<void> {
    await this.#t.v2("iam", "DeleteApiKey", body, options);
  }

  /** DescribePolicies: the policy names a key may carry. */
  async policies(options?: CallOptions): Promise<readonly PolicyName[]> {
    return (await this.#t.v2<DescribePoliciesResult>("iam", "DescribePolicies", {}, options)).policyList;
  }
}
