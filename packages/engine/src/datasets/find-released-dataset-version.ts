import { SailfinError, type V1Id } from "@sailfin/contract";
import type { DataFormat } from "@sailfin/data";
import type { EngineResources } from "../resources.js";
import { findDatasetVersion, groupFormat, type DatasetGroupRow, type DatasetVersionRow } from "./records.js";

/** A released dataset version as training reads it. */
export interface ReleasedDatasetVersion {
  readonly version: DatasetVersionRow;
  readonly group: DatasetGroupRow;
  readonly format: DataFormat;
  /** Artifact key of the normalised JSONL. */
  readonly dataPath: string;
  /** sha256 of that file, fixed at release. */
  readonly contentHash: string;
}

/**
 * The released version named by its V1 number or `ds-` id, with its group's format. Unknown
 * ids are NotFound; versions not (yet) released are InvalidParameter, both naming `field`.
 *
 * @example
 * const { format, dataPath, contentHash } = await findReleasedDatasetVersion(res, "ds-…");
 */
export async function findReleasedDatasetVersion(res: EngineResources, idOrNum: V1Id, field = "versionId"): Promise<ReleasedDatasetVersion> {
  const { version, group } = await findDatasetVersion(res.db, idOrNum, field);
  if (version.state !== "Released" || version.content_hash === null || version.data_path === null) {
    throw new SailfinError("InvalidParameter", { field, detail: `dataset version ${version.id} is not released; import and release it first` });
  }
  return { version, group, format: groupFormat(group), dataPath: version.data_path, contentHash: version.content_hash };
}
