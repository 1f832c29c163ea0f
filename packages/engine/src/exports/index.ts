/** Dataset and model exports, and the download links of every export kind. */
export {
  EXPORT_KINDS, DOWNLOAD_LINK_TTL_S, exportDownloadUrl, downloadQuery, checkDownloadSignature, findExportFile, type ExportFile,
} from "./download-link.js";
export {
  createDatasetExport, describeDatasetExport, listDatasetExports, datasetExportsOf,
  type DatasetExportSpec, type DatasetExportResult, type DatasetExportView,
} from "./dataset-exports.js";
export { createModelExport, latestModelExport, type ModelExportSpec, type ModelExportResult, type ModelExportView } from "./model-exports.js";
export { executeDatasetExport } from "./execute-dataset-export.js";
export { executeModelExport } from "./execute-model-export.js";
