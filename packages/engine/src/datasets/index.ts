/**
 * Datasets: a *group* is the V2 "dataset" (V1 group), a *version* the V2 "version" (V1
 * "dataset"). Only what routes, the worker and fine-tuning need is exported.
 */
export {
  datasetDataKey, findDatasetGroup, findDatasetGroupByName, findDatasetVersion as findDatasetVersionDetail, lockDatasetVersions, parseStoredReport,
  type DatasetGroupRow, type DatasetVersionRow, type DatasetImportRow, type DatasetVersionDetail,
  type DatasetGroupRecord, type DatasetVersionRecord, type DatasetImportTaskRecord, type DatasetVersionView,
  type StoredImportReport, type ImportTaskStatus,
} from "./records.js";
export { createDataset, type CreateDatasetInput, type DatasetStorageType } from "./create-dataset.js";
export { createDatasetVersion } from "./create-dataset-version.js";
export { resolveImportSources, type ImportSource } from "./import-sources.js";
export { startDatasetImport, type StartImportInput } from "./import-dataset.js";
export {
  executeDatasetImport, type DatasetImportResult, type DatasetImportSpec,
} from "./execute-dataset-import.js";
export { releaseDatasetVersion } from "./release-dataset-version.js";
export {
  listDatasets, listDatasetVersions, describeDatasetVersion, describeDatasetVersions, describeImportTask,
  type DatasetGroupSummary,
} from "./describe-datasets.js";
export { deleteDataset, deleteDatasetVersion } from "./delete-dataset.js";
export { findReleasedDatasetVersion, type ReleasedDatasetVersion } from "./find-released-dataset-version.js";
// The format table, for the routes (which reach the data package only through the engine).
export { formatFromV1, formatFromV2, formatInfo, V2_FORMAT_NAMES, type DataFormat, type FormatInfo, type LineError } from "@sailfin/data";
