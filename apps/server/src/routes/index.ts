import type { RouteDef } from "./route.js";
import { iamRoutes } from "./ext/iam.js";

/** Every JSON route of both dialects. Each resource family owns one file per dialect. */
export const ROUTES: readonly RouteDef[] = [...iamRoutes];
