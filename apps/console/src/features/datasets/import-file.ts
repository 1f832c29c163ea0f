import type { SailfinClient } from "@sailfin/sdk";
import { uploadFile, type UploadProgress } from "../../lib/upload.js";
import { UPLOAD_BUCKET } from "./formats.js";

/**
 * Uploads a file into a dataset version's folder and starts its import (CreateImportTask); the
 * version's page then follows the import and shows its validation report. Resolves to the
 * import task id.
 */
export async function importFile(client: SailfinClient, input: {
  csrfToken: string;
  datasetId: string;
  versionId: string;
  file: File;
  onProgress: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}): Promise<string> {
  const name = input.file.name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "data.jsonl";
  const uploaded = await uploadFile({
    bucket: UPLOAD_BUCKET, path: `${input.datasetId}/${input.versionId}/${name}`, file: input.file,
    csrfToken: input.csrfToken, onProgress: input.onProgress, ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  return client.datasets.createImportTask({ versionId: input.versionId, files: [uploaded.uri] }, input.signal === undefined ? {} : { signal: input.signal });
}
