import type {
  AccessKeyItem, BodyInput, CreateAccessKeyBody, CreatedAccessKey, DeleteAccessKeyBody, DescribeAccessKeysResult, DescribePoliciesResult,
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

  /** DescribePolicies: the policy names a key may carry. */
  async policies(options?: CallOptions): Promise<readonly PolicyName[]> {
    return (await this.#t.v2<DescribePoliciesResult>("iam", "DescribePolicies", {}, options)).policyList;
  }
}
