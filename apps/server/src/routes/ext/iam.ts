import {
  CreateAccessKeyBody, DeleteAccessKeyBody, parseWith, POLICY_NAMES,
  type CreatedAccessKey, type DescribeAccessKeysResult, type DescribePoliciesResult,
} from "@sailfin/contract";
import { createAccessKey, deleteAccessKey, listAccessKeys } from "@sailfin/engine";
import { v2, type RouteDef } from "../route.js";

/** Sailfin extension: access key management (`/v2/iam`), for the `sailfin keys` commands. */
export const iamRoutes: RouteDef[] = [
  v2("iam", "CreateAccessKey", "iam:manage", async (ctx, body): Promise<CreatedAccessKey> => {
    const input = parseWith(CreateAccessKeyBody, body);
    const created = await createAccessKey(ctx.res, {
      policies: input.policies,
      ...(input.description === undefined ? {} : { description: input.description }),
    });
    return { accessKey: created.accessKey, secretKey: created.secretKey, policies: created.policies, description: created.description, createTime: created.createdAt };
  }, true),
  v2("iam", "DescribeAccessKeys", "iam:manage", async (ctx): Promise<DescribeAccessKeysResult> => {
    const keys = await listAccessKeys(ctx.res);
    return {
      accessKeyList: keys.map((k) => ({ accessKey: k.accessKey, policies: k.policies, description: k.description, createTime: k.createdAt })),
    };
  }, true),
  v2("iam", "DeleteAccessKey", "iam:manage", async (ctx, body) => {
    const input = parseWith(DeleteAccessKeyBody, body);
    await deleteAccessKey(ctx.res, input.accessKey, ctx.caller.accessKey);
    return true;
  }, true),
  v2("iam", "DescribePolicies", "iam:manage", async (): Promise<DescribePoliciesResult> => ({ policyList: POLICY_NAMES }), true),
];
