import type { RouteDef } from "./route.js";
import { iamRoutes } from "./ext/iam.js";
import { apiKeyRoutes } from "./ext/api-keys.js";
import { modelRoutes } from "./v2/model.js";
import { modelrepoRoutes } from "./v1/modelrepo.js";
import { finetuningV2Routes } from "./v2/finetuning.js";
import { finetuneV1Routes } from "./v1/finetune.js";
import { datasetV1Routes } from "./v1/datasets.js";
import { datasetV2Routes } from "./v2/dataset.js";
import { compressionRoutes } from "./v2/compression.js";
import { evalV1Routes } from "./v1/eval.js";
import { evalV2Routes } from "./v2/eval.js";
import { webhookRoutes } from "./ext/webhooks.js";
import { serviceV2Routes } from "./v2/service.js";
import { serviceV1Routes } from "./v1/service.js";

/** Every JSON route of both dialects. Each resource family owns one file per dialect. */
export const ROUTES: readonly RouteDef[] = [...iamRoutes, ...apiKeyRoutes, ...finetuningV2Routes, ...finetuneV1Routes, ...modelRoutes, ...modelrepoRoutes, ...datasetV1Routes, ...datasetV2Routes, ...compressionRoutes, ...evalV1Routes, ...evalV2Routes, ...webhookRoutes, ...serviceV2Routes, ...serviceV1Routes];
