import { z } from "zod";
import type { PolicyName } from "../policies.js";

/** Sailfin extension: access key management (`POST /v2/iam?Action=…`, docs/api.md). */

export const CreateAccessKeyBody = z.object({
  /** Qianfan system policy names (DescribePolicies lists them). */
  policies: z.array(z.string()).min(1),
  description: z.string().max(200).optional(),
});
export type CreateAccessKeyBody = z.infer<typeof CreateAccessKeyBody>;

export const DeleteAccessKeyBody = z.object({ accessKey: z.string().min(1) });
export type DeleteAccessKeyBody = z.infer<typeof DeleteAccessKeyBody>;

export interface AccessKeyItem {
  readonly accessKey: string;
  readonly policies: readonly PolicyName[];
  readonly description: string;
  readonly createTime: string;
}

/** CreateAccessKey: the only answer that carries the secret. */
export interface CreatedAccessKey extends AccessKeyItem {
  readonly secretKey: string;
}

export interface DescribeAccessKeysResult {
  readonly accessKeyList: readonly AccessKeyItem[];
}

export interface DescribePoliciesResult {
  readonly policyList: readonly PolicyName[];
}
