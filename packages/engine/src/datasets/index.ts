/**
 * Datasets: a *group* is the V2 "dataset" (V1 group), a *version* the V2 "version" (V1
 * "dataset"). Only what routes, the worker and fine-tuning need is exported.
 */
export {
  findDatasetGroupByName, lockDatasetVersions, type DatasetGroupRecord, type DatasetVersionRecord,
  type DatasetVersionView,
} from "./records.js";
export { createDataset } from "./create-dataset.js";
export { createDatasetVersion } from "./create-dataset-version.js";
export { startDatasetImport } from "./import-dataset.js";
export { executeDatasetImport } from "./execute-dataset-import.js";
export { releaseDatasetVersion } from "./release-dataset-version.js";
export {
  listDatasets, listDatasetVersions, describeDatasetVersion, describeDatasetVersions, describeImportTask,
} from "./describe-datasets.js";
export { deleteDataset, deleteDatasetVersion } from "./delete-dataset.js";
export { findReleasedDatasetVersion, type ReleasedDatasetVersion } from "./find-released-dataset-version.js";
// The format table, for the routes (which reach the data package only through the engine).
export { formatFromV1, formatFromV2, formatInfo, V2_FORMAT_NAMES, type DataFormat } from "@sailfin/data";
