import { DATASET, EVAL, FINETUNE, MODELREPO, expectDeclaredReached, v1, v2 } from "./sdk-coverage.js";
import type { NodeSdk } from "./node-sdk.js";

/**
 * Which server routes each official-Node-SDK (`consoleAction`) test file reaches, declared
 * statically so that sdk-node-coverage.test.ts can compare their union with ROUTES without
 * running the files (node:test runs files in parallel processes, in no fixed order). Each file
 * checks its own list at its end with `expectReachedRoutes`: every route listed must have
 * answered one of that file's checked calls (NodeSdk.v1 / NodeSdk.v2) with success, so a list
 * cannot claim more than the file does. Names are `routeName`'s (apps/server route.ts).
 */


export const NODE_SDK_ROUTES = {
  "sdk-node-routes.test.ts": [
    ...v2("finetuning", "CreateFineTuningJob", "DescribeFineTuningJobs", "DeleteFineTuningJob", "CreateFineTuningTask", "DescribeFineTuningTasks",
      "DescribeFineTuningTask", "StopFineTuningTask", "DeleteFineTuningTask", "DescribeFineTuningSupportModels"),
    ...v1(FINETUNE, "createTask", "createJob", "jobDetail", "stopJob"),
    ...v2("model", "CreateCustomModelSet", "DescribeCustomModelSets", "DescribeSystemModelSets", "DescribeModelSet", "DeleteModelSet",
      "CreateCustomModel", "DescribeModel", "DeleteModel"),
    ...v1(MODELREPO, "modelDetail", "modelVersionDetail", "model/user/list", "model/preset/list", "model/batchDelete", "model/version/batchDelete"),
    ...v2("model", "CreateModelCompTask", "DescribeModelCompTasks", "DescribeModelCompTask", "CancelModelCompTask", "StopModelCompTask", "DeleteModelCompTask"),
    ...v1(EVAL, "create", "detail", "cancel", "model/list", "result/list", "delete"),
    ...v2("eval", "CreateEvalTask", "DescribeEvalTasks", "DescribeEvalTask", "StopEvalTask", "DeleteEvalTask"),
  ],
  "sdk-node-datasets.test.ts": [
    ...v1(DATASET, "create", "import", "info", "statusList", "release", "delete"),
    ...v2("dataset", "CreateDataset", "DescribeDatasets", "DeleteDataset", "CreateDatasetVersion", "DescribeDatasetVersion",
      "DescribeDatasetVersions", "DeleteDatasetVersion", "PublishDatasetVersion", "CreateImportTask", "DescribeImportTask"),
  ],
  "sdk-node-exports.test.ts": [
    ...v1(DATASET, "export", "exportRecord", "importErrorDetail", "info"),
    ...v2("dataset", "CreateExportTask", "DescribeExportTask"),
    ...v2("model", "CreateModelExportTask", "DescribeModelExportTask"),
  ],
  "batch-inference.test.ts": [
    ...v2("batchinference", "CreateBatchInferenceTask", "DescribeBatchInferenceTask", "DescribeBatchInferenceTasks", "StopBatchInferenceTask"),
  ],
  "sdk-node-runs.test.ts": [
    ...v2("finetuning", "CreateFineTuningJob", "CreateFineTuningTask", "DescribeFineTuningTask"),
    ...v1(MODELREPO, "publishTrainModel", "modelVersionDetail"),
    ...v2("model", "CreateCustomModelSet", "CreateCustomModel", "DescribeModel"),
    ...v1(EVAL, "create", "detail", "report", "result/list", "result/export", "result/export/info"),
    ...v2("eval", "DescribeEvalTask", "DescribeEvalTaskReport", "CreateEvalResultExportTask", "DescribeEvalResultExportTask"),
  ],
  "sdk-node-services.test.ts": [
    ...v2("service", "CreateService", "DescribeService", "DescribeServices", "ModifyService"),
    ...v1("/wenxinworkshop/service/", "apply", "detail", "list"),
  ],
} as const satisfies Record<string, readonly string[]>;

type NodeSdkSuite = keyof typeof NODE_SDK_ROUTES;

/** Fails naming each route `suite` declares that none of this driver's checked calls reached with success. */
export function expectReachedRoutes(sdk: NodeSdk, suite: NodeSdkSuite): void {
  expectDeclaredReached(NODE_SDK_ROUTES[suite], sdk.reachedRoutes(), `${suite} declares routes its consoleAction calls did not reach with success`);
}
