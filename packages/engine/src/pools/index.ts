export { LOCAL_POOLS, poolsFromEnv, type Placement, type PoolEngine, type ResourcePool, type ResourcePools } from "./pool-config.js";
export { defaultPlacement, placeTrainingRun, placementView, type ResourceRequest } from "./place-run.js";
