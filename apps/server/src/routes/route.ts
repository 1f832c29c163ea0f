import type { Action } from "@sailfin/contract";
import type { Credential, EngineResources } from "@sailfin/engine";

/**
 * A route is declared once, with the IAM action it needs. The server turns the declaration into
 * a Fastify route; the IAM table test and the compatibility document read the same list.
 */
export interface RouteContext {
  readonly res: EngineResources;
  readonly caller: Credential;
  /** `http://host:port` as the client reached us (for links we hand out). */
  readonly baseUrl: string;
}

type Handler = (ctx: RouteContext, body: unknown) => Promise<unknown>;

export interface V2Action {
  readonly dialect: "v2";
  /** `finetuning` for `/v2/finetuning`. */
  readonly resource: string;
  readonly action: string;
  readonly iam: Action;
  readonly handler: Handler;
  /** True for Sailfin's own actions (documented in docs/api.md, not in Qianfan's reference). */
  readonly extension?: boolean;
}

export interface V1Route {
  readonly dialect: "v1";
  /** Full path, `/wenxinworkshop/finetune/jobDetail`. */
  readonly path: string;
  readonly iam: Action;
  readonly handler: Handler;
  /** The V1 dataset family also carries `status`/`success` in its envelope. */
  readonly datasetFamily?: boolean;
}

export type RouteDef = V2Action | V1Route;

export function v2(resource: string, action: string, iam: Action, handler: Handler, extension = false): V2Action {
  return { dialect: "v2", resource, action, iam, handler, extension };
}

export function v1(path: string, iam: Action, handler: Handler, options: { datasetFamily?: boolean } = {}): V1Route {
  return { dialect: "v1", path, iam, handler, datasetFamily: options.datasetFamily ?? false };
}

export function routeName(def: RouteDef): string {
  return def.dialect === "v2" ? `POST /v2/${def.resource}?Action=${def.action}` : `POST ${def.path}`;
}
