import type { BodyInput, CreateServiceBody, ServiceItem } from "@sailfin/sdk";
import { bool, list, num, str, type FlagValues } from "../args.js";
import type { Command, Context } from "../command.js";
import { PAGE_SIZE } from "../connection.js";
import { UsageError } from "../errors.js";
import { json, record, table } from "../output.js";
import { waitUntilFinal } from "../render/wait.js";

/**
 * `sailfin services …` over V2 `/v2/service`: deploy a model version behind an endpoint
 * (`sailfin chat ENDPOINT` then talks to it), list, show, stop, start, delete.
 */

const DEPLOYING = new Set(["New", "Deploying"]);
const COLUMNS = ["serviceId", "name", "endpoint", "runStatus", "modelId", "createTime"];
const intervalOf = (flags: FlagValues) => (num(flags, "interval", { min: 0.05 }) ?? 2) * 1000;

export const servicesCommands: Command[] = [
  {
    name: "services deploy",
    usage: "amv-… [--name NAME] [--endpoint SUFFIX] [--pool POOL] [--description TEXT] [--wait] [--json]",
    summary: "serve a Ready model version behind an endpoint (--wait: until it serves)",
    flags: {
      name: { type: "string" }, endpoint: { type: "string" }, pool: { type: "string" }, description: { type: "string" },
      wait: { type: "boolean" }, interval: { type: "string", hidden: true },
    },
    positionals: { names: ["MODEL_VERSION"], min: 1 },
    run: (ctx, [versionId], flags) => deploy(ctx, versionId!, flags),
  },
  {
    name: "services list",
    usage: "[--name TEXT] [--status Serving,Stopped,…] [--json]",
    summary: "list services (names containing TEXT, in these run statuses)",
    flags: { name: { type: "string" }, status: { type: "string", multiple: true } },
    async run(ctx, _args, flags) {
      const name = str(flags, "name");
      const statuses = list(flags, "status");
      const services = await (await ctx.client()).services.list({
        maxKeys: PAGE_SIZE, ...(name === undefined ? {} : { name }), ...(statuses.length === 0 ? {} : { runStatus: statuses }),
      }).toArray();
      ctx.out(ctx.json ? json(services) : table(services, COLUMNS));
      return 0;
    },
  },
  {
    name: "services show",
    usage: "svco-… [--json]",
    summary: "a service: its endpoint, call URL, run status and model version",
    positionals: { names: ["SERVICE"], min: 1 },
    async run(ctx, [id]) {
      const wanted = serviceId(id!);
      const service = await (await ctx.client()).services.describe({ serviceId: wanted });
      ctx.out(ctx.json ? json(service) : show(service));
      return 0;
    },
  },
  change("stop", "stop serving (the engine's worker slot is freed)", (client, serviceId) => client.services.stop({ serviceId })),
  change("start", "serve a stopped service again", (client, serviceId) => client.services.start({ serviceId })),
  change("delete", "delete a service", (client, serviceId) => client.services.delete({ serviceId })),
];

/** `services stop|start|delete svco-…`. */
function change(verb: string, summary: string, act: (client: Awaited<ReturnType<Context["client"]>>, serviceId: string) => Promise<void>): Command {
  return {
    name: `services ${verb}`,
    usage: "svco-… [--json]",
    summary,
    positionals: { names: ["SERVICE"], min: 1 },
    async run(ctx, [id]) {
      const wanted = serviceId(id!);
      await act(await ctx.client(), wanted);
      ctx.out(ctx.json ? json(true) : `${verb === "stop" ? "stopping" : verb === "start" ? "starting" : "deleted"} ${id}`);
      return 0;
    },
  };
}

function serviceId(id: string): string {
  if (!id.startsWith("svco-")) throw new UsageError(`${id} is not a service id (svco-…); \`sailfin services list\` shows them`);
  return id;
}

function show(service: ServiceItem): string {
  return record(service, ["serviceId", "name", "description", "endpoint", "url", "runStatus", "failureReason", "modelSetId", "modelId", "resourceConfig", "createTime", "modifyTime"]);
}

async function deploy(ctx: Context, versionId: string, flags: FlagValues): Promise<number> {
  if (!versionId.startsWith("amv-")) throw new UsageError(`${versionId} is not a model version (amv-…); \`sailfin models show am-…\` lists a model's versions`);
  const client = await ctx.client();
  // The set and a default name come from the version (the name a person would pick: the version's).
  const version = await client.models.describe({ modelId: versionId });
  const endpoint = str(flags, "endpoint");
  const pool = str(flags, "pool");
  const description = str(flags, "description");
  const body: BodyInput<typeof CreateServiceBody> = {
    modelId: versionId, modelSetId: version.modelSetId, name: str(flags, "name") ?? version.modelName,
    ...(endpoint === undefined ? {} : { urlSuffix: endpoint }),
    ...(description === undefined ? {} : { description }),
    ...(pool === undefined ? {} : { resourceConfig: { resourceId: pool } }),
  };
  const { serviceId: id } = await client.services.create(body);
  if (!bool(flags, "wait")) {
    ctx.out(ctx.json ? json(id) : `deploying ${id}; \`sailfin services show ${id}\` shows when it serves`);
    return 0;
  }
  const service = await waitUntilFinal({
    label: id, quiet: ctx.json, intervalMs: intervalOf(flags),
    read: () => client.services.describe({ serviceId: id }),
    status: (s) => s.runStatus, progress: () => null, isFinal: (s) => !DEPLOYING.has(s),
  });
  if (ctx.json) ctx.out(json(service));
  else if (service.runStatus === "Serving") ctx.out(`${id} Serving at endpoint ${service.endpoint}: \`sailfin chat ${service.endpoint}\``);
  else ctx.out(`${id} ${service.runStatus}${service.failureReason ? `: ${service.failureReason}` : ""}`);
  return service.runStatus === "Serving" ? 0 : 1;
}
