/** Dataset and model exports, and the download links of every export kind. */
export { exportDownloadUrl, downloadQuery, checkDownloadSignature, findExportFile } from "./download-link.js";
export {
  createDatasetExport, describeDatasetExport, listDatasetExports, datasetExportsOf, type DatasetExportView,
} from "./dataset-exports.js";
export { createModelExport, latestModelExport, type ModelExportView } from "./model-exports.js";
