import { SailfinError } from "@sailfin/contract";
import type { Placement, ResourcePool, ResourcePools } from "./pool-config.js";

/** A run's resource request as the API gives it (Qianfan's `resourceConfig`, plus Sailfin's `processesPerNode`). */
export interface ResourceRequest {
  readonly resourceId?: string | undefined;
  readonly nodeNum?: number | undefined;
  readonly processesPerNode?: number | undefined;
}

/** Request field names, for errors; the defaults are V2's. */
interface ResourceFields {
  readonly resourceId: string;
  readonly nodeNum: string;
  readonly processesPerNode: string;
}

const V2_FIELDS: ResourceFields = {
  resourceId: "resourceConfig.resourceId", nodeNum: "resourceConfig.nodeNum", processesPerNode: "resourceConfig.processesPerNode",
};

/** The pool with this id, or undefined. */
function findPool(pools: ResourcePools, id: string): ResourcePool | undefined {
  return pools.pools.find((p) => p.id === id);
}

/**
 * Where a training run goes: the named pool (default: the default pool), `nodeNum` nodes (default:
 * the pool's defaultNodes) of `processesPerNode` ranks (default: the pool's). Refuses, naming the
 * field, a pool that does not exist or cannot hold the request.
 *
 * @example const placement = placeTrainingRun(res.pools, { resourceId: "cpu-slurm", nodeNum: 1 });
 */
export function placeTrainingRun(pools: ResourcePools, request: ResourceRequest | undefined, fields: ResourceFields = V2_FIELDS): Placement {
  const id = request?.resourceId ?? pools.defaultId;
  const pool = findPool(pools, id);
  if (pool === undefined) {
    throw new SailfinError("InvalidParameter", {
      field: fields.resourceId, detail: `resource pool "${id}" does not exist; pools: ${pools.pools.map((p) => p.id).join(", ")}`,
    });
  }
  const nodes = request?.nodeNum ?? pool.defaultNodes;
  if (nodes > pool.maxNodes) {
    throw new SailfinError("InvalidParameter", { field: fields.nodeNum, detail: `pool "${pool.id}" holds at most ${pool.maxNodes} node(s) a run, not ${nodes}` });
  }
  const processesPerNode = request?.processesPerNode ?? pool.processesPerNode;
  if (processesPerNode > pool.processesPerNode) {
    throw new SailfinError("InvalidParameter", {
      field: fields.processesPerNode, detail: `pool "${pool.id}" holds at most ${pool.processesPerNode} process(es) a node, not ${processesPerNode}`,
    });
  }
  return { poolId: pool.id, nodes, processesPerNode };
}

/**
 * Where a run of a kind without a resource field goes (compression, evaluation, export, publish,
 * imports): the default pool, one process on one node — only training recipes run several ranks.
 */
export function defaultPlacement(pools: ResourcePools): Placement {
  return { poolId: pools.defaultId, nodes: 1, processesPerNode: 1 };
}

/** A run's placement as describe routes show it (V2 task and V1 job `resourceConfig`). */
interface PlacementView {
  readonly resourceId: string;
  readonly nodeNum: number;
  readonly processesPerNode: number;
  /** The pool's executor as configured now; null when the pool is no longer configured. */
  readonly executor: string | null;
  readonly executorJobId: string | null;
}

/**
 * Renders a run's recorded placement for the describe routes.
 *
 * @example placementView(res.pools, run.placement) // { resourceId: "cpu-slurm", nodeNum: 1, processesPerNode: 2, executor: "slurm", executorJobId: "42" }
 */
export function placementView(
  pools: ResourcePools, placement: { readonly poolId: string; readonly nodes: number; readonly processesPerNode: number; readonly executorJobId: string | null },
): PlacementView {
  return {
    resourceId: placement.poolId, nodeNum: placement.nodes, processesPerNode: placement.processesPerNode,
    executor: findPool(pools, placement.poolId)?.executor ?? null, executorJobId: placement.executorJobId,
  };
}
