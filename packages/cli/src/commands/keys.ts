import { POLICY_NAMES } from "@sailfin/contract";
import { list, str } from "../args.js";
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import { json, table } from "../output.js";

/** `sailfin keys …`: access key pairs (IAM extension actions; the admin's policies are needed), and `keys api-key …`, a key's own API keys (service:invoke). */

export const keysCommands: Command[] = [
  {
    name: "keys create",
    usage: "--policy NAME [--policy NAME…] [--description TEXT] [--json]",
    summary: "create an access key pair (the secret is shown once)",
    flags: { policy: { type: "string", multiple: true }, description: { type: "string" } },
    async run(ctx, _args, flags) {
      const policies = list(flags, "policy");
      if (policies.length === 0) throw new UsageError(`\`keys create\` needs --policy, one of: ${POLICY_NAMES.join(", ")}`);
      const description = str(flags, "description");
      const created = await (await ctx.client()).keys.create({ policies, ...(description === undefined ? {} : { description }) });
      if (ctx.json) ctx.out(json(created));
      else {
        ctx.out(`accessKey: ${created.accessKey}`);
        ctx.out(`secretKey: ${created.secretKey}`);
        ctx.out(`policies:  ${created.policies.join(", ")}`);
        ctx.out("The secret key is shown only now: store it safely.");
      }
      return 0;
    },
  },
  {
    name: "keys list",
    usage: "[--json]",
    summary: "list access keys (never their secrets)",
    async run(ctx) {
      const accessKeyList = await (await ctx.client()).keys.list();
      ctx.out(ctx.json ? json(accessKeyList) : table(accessKeyList, ["accessKey", "policies", "description", "createTime"]));
      return 0;
    },
  },
  {
    name: "keys delete",
    usage: "ACCESS_KEY",
    summary: "delete an access key pair",
    positionals: { names: ["ACCESS_KEY"], min: 1 },
    async run(ctx, [accessKey]) {
      await (await ctx.client()).keys.delete({ accessKey: accessKey! });
      ctx.say(`deleted ${accessKey}`);
      if (ctx.json) ctx.out(json(true));
      return 0;
    },
  },
  {
    name: "keys api-key create",
    usage: "[--description TEXT] [--json]",
    summary: "create an API key of your access key for the chat routes (shown once)",
    flags: { description: { type: "string" } },
    async run(ctx, _args, flags) {
      const description = str(flags, "description");
      const created = await (await ctx.client()).keys.createApiKey(description === undefined ? {} : { description });
      if (ctx.json) ctx.out(json(created));
      else {
        ctx.out(`apiKeyId: ${created.apiKeyId}`);
        ctx.out(`apiKey:   ${created.apiKey}`);
        ctx.out("The API key is shown only now: store it safely (use it as `Authorization: Bearer`, or an OpenAI SDK's apiKey).");
      }
      return 0;
    },
  },
  {
    name: "keys api-key list",
    usage: "[--json]",
    summary: "list your access key's API keys (never the keys)",
    async run(ctx) {
      const apiKeyList = await (await ctx.client()).keys.listApiKeys();
      ctx.out(ctx.json ? json(apiKeyList) : table(apiKeyList, ["apiKeyId", "description", "createTime"]));
      return 0;
    },
  },
  {
    name: "keys api-key delete",
    usage: "API_KEY_ID",
    summary: "delete one of your access key's API keys",
    positionals: { names: ["API_KEY_ID"], min: 1 },
    async run(ctx, [apiKeyId]) {
      await (await ctx.client()).keys.deleteApiKey({ apiKeyId: apiKeyId! });
      ctx.say(`deleted ${apiKeyId}`);
      if (ctx.json) ctx.out(json(true));
      return 0;
    },
  },
];
