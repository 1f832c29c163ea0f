import { DATASET, EVAL, FINETUNE, MODELREPO, expectDeclaredReached, v1, v2 } from "./sdk-coverage.js";
import type { PythonSdk } from "./python-sdk.js";

/**
 * Which server routes each official-Python-SDK test file reaches, declared statically so that
 * sdk-python-coverage.test.ts can compare their union with ROUTES without running the files
 * (node:test runs files in parallel processes, in no fixed order). Each file checks its own list
 * at its end with `expectReachedRoutes`: every route listed must have answered one of that
 * file's SDK requests with success (the driver records every request the SDK sends), so a list
 * cannot claim more than the file does. Names are `routeName`'s (apps/server route.ts).
 */


export const PYTHON_SDK_ROUTES = {
  "sdk-python.test.ts": [
    ...v2("finetuning", "CreateFineTuningJob", "DescribeFineTuningJobs", "CreateFineTuningTask", "DescribeFineTuningTask",
      "DescribeFineTuningTasks", "StopFineTuningTask", "DescribeFineTuningSupportModels"),
    ...v1(FINETUNE, "createTask", "createJob", "jobDetail", "stopJob"),
    ...v2("model", "CreateCustomModelSet", "DescribeCustomModelSets", "DescribeModelSet", "DescribeModel"),
    ...v1(MODELREPO, "modelDetail", "modelVersionDetail", "model/user/list"),
  ],
  "sdk-python-eval.test.ts": [
    ...v2("model", "CreateCustomModelSet", "CreateModelCompTask", "DescribeModelCompTask", "DescribeModelCompTasks", "DescribeModel", "DeleteModelCompTask"),
    ...v1(EVAL, "model/list", "create", "detail", "report", "result/list", "result/export", "result/export/info", "delete"),
  ],
  "sdk-python-datasets.test.ts": [
    ...v1(DATASET, "create", "import", "info", "statusList", "release", "delete"),
    ...v2("dataset", "CreateDataset", "DescribeDatasets", "DeleteDataset", "CreateDatasetVersion", "DescribeDatasetVersion",
      "DescribeDatasetVersions", "DeleteDatasetVersion", "PublishDatasetVersion", "CreateImportTask", "DescribeImportTask"),
  ],
  "sdk-python-exports.test.ts": [
    ...v1(DATASET, "export", "exportRecord", "importErrorDetail", "info"),
    ...v2("dataset", "CreateExportTask", "DescribeExportTask"),
    ...v2("model", "CreateModelExportTask", "DescribeModelExportTask"),
  ],
  "sdk-python-routes.test.ts": [
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
  "batch-inference.test.ts": [
    ...v2("batchinference", "CreateBatchInferenceTask", "DescribeBatchInferenceTask", "DescribeBatchInferenceTasks", "StopBatchInferenceTask"),
  ],
  "sdk-python-runs.test.ts": [
    ...v2("finetuning", "CreateFineTuningJob", "CreateFineTuningTask", "DescribeFineTuningTask"),
    ...v1(MODELREPO, "publishTrainModel", "modelVersionDetail"),
    ...v2("model", "CreateCustomModelSet", "CreateCustomModel", "DescribeModel"),
    ...v2("eval", "CreateEvalTask", "DescribeEvalTask", "DescribeEvalTaskReport", "CreateEvalResultExportTask", "DescribeEvalResultExportTask", "DeleteEvalTask"),
  ],
  "sdk-python-services.test.ts": [
    ...v2("service", "CreateService", "DescribeService", "DescribeServices", "ModifyService"),
    ...v1("/wenxinworkshop/service/", "apply", "detail", "list"),
  ],
} as const satisfies Record<string, readonly string[]>;

type PythonSdkSuite = keyof typeof PYTHON_SDK_ROUTES;

/** Fails naming each route `suite` declares that none of this driver's requests reached with success. */
export function expectReachedRoutes(py: PythonSdk, suite: PythonSdkSuite): void {
  expectDeclaredReached(PYTHON_SDK_ROUTES[suite], py.reachedRoutes(), `${suite} declares routes its Python SDK calls did not reach with success`);
}
