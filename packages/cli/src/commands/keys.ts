import { POLICY_NAMES } from "@sailfin/contract";
import { envClient } from "../client.js";
import { table } from "../output.js";

export const KEYS_USAGE = `sailfin keys create --policy NAME [--policy NAME…] [--description TEXT] [--json]
sailfin keys list [--json]
sailfin keys delete ACCESS_KEY`;

interface KeyRow { accessKey: string; secretKey?: string; policies: string[]; description: string; createTime: string }

export async function keys(args: string[], flags: Record<string, string | string[] | boolean | undefined>, out: (s: string) => void): Promise<number> {
  const client = envClient();
  const [sub, ...rest] = args;
  const json = flags.json === true;
  switch (sub) {
    case "create": {
      const policies = ([] as string[]).concat((flags.policy as string | string[] | undefined) ?? []);
      if (policies.length === 0) throw new Error(`--policy is required; one of: ${POLICY_NAMES.join(", ")}`);
      const created = await client.v2<KeyRow>("iam", "CreateAccessKey", {
        policies, ...(typeof flags.description === "string" ? { description: flags.description } : {}),
      });
      if (json) out(JSON.stringify(created, null, 2));
      else {
        out(`accessKey: ${created.accessKey}`);
        out(`secretKey: ${created.secretKey}`);
        out(`policies:  ${created.policies.join(", ")}`);
        out("The secret key is shown only now: store it safely.");
      }
      return 0;
    }
    case "list": {
      const { accessKeyList } = await client.v2<{ accessKeyList: KeyRow[] }>("iam", "DescribeAccessKeys", {});
      out(json ? JSON.stringify(accessKeyList, null, 2) : table(accessKeyList as never, ["accessKey", "policies", "description", "createTime"]));
      return 0;
    }
    case "delete": {
      const accessKey = rest[0];
      if (accessKey === undefined) throw new Error("usage: sailfin keys delete ACCESS_KEY");
      await client.v2("iam", "DeleteAccessKey", { accessKey });
      out(`deleted ${accessKey}`);
      return 0;
    }
    default:
      throw new Error(`usage:\n${KEYS_USAGE}`);
  }
}
