import { SailfinError, nowIso, type V1Id } from "@sailfin/contract";
import { appendEvent } from "@sailfin/store";
import type { Actor, EngineResources } from "../resources.js";
import { findDatasetVersion, parseStoredReport, type DatasetVersionDetail } from "./records.js";

/**
 * Releases (V2 "publishes") a dataset version: only after a successful import, and from then on
 * the version is immutable and usable for training. Sets the state Released, the content
 * hash (sha256 of the imported JSONL) and the release time. Releasing a released version again
 * is a no-op.
 *
 * @example
 * const { version } = await releaseDatasetVersion(res, actor, "ds-…", "versionId");
 * version.content_hash // "9f86d0…"
 */
export async function releaseDatasetVersion(res: EngineResources, actor: Actor, ref: V1Id, field: string): Promise<DatasetVersionDetail> {
  const detail = await findDatasetVersion(res.db, ref, field);
  const { version } = detail;
  if (version.state === "Released") return detail;
  assertReleasable(detail, field);
  const hash = parseStoredReport(version)?.sha256 ?? null;
  if (hash === null) throw new SailfinError("Conflict", { field, detail: `dataset version ${version.id} has no imported content to release` });
  const now = nowIso();
  await res.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable("dataset_versions")
      .set({ state: "Released", content_hash: hash, released_at: now, modified_at: now })
      .where("num", "=", version.num)
      .where("state", "=", "Imported")
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      throw new SailfinError("Conflict", { field, detail: `dataset version ${version.id} changed while releasing; try again` });
    }
    await appendEvent(trx, { objectKind: "datasetVersion", objectId: version.id, actor: actor.accessKey, from: "Imported", to: "Released", reason: `sha256 ${hash}` });
  });
  return findDatasetVersion(res.db, version.num, field);
}

function assertReleasable({ version }: DatasetVersionDetail, field: string): void {
  switch (version.state) {
    case "Imported":
      return;
    case "Importing":
      throw new SailfinError("Conflict", { field, detail: `the import into dataset version ${version.id} is still running; release it when it has finished` });
    case "ImportFailed": {
      const report = parseStoredReport(version);
      throw new SailfinError("Conflict", {
        field,
        detail: `the last import into dataset version ${version.id} failed (${report?.error ?? "invalid data"}); fix the data and import again`,
      });
    }
    default:
      throw new SailfinError("Conflict", { field, detail: `dataset version ${version.id} has no imported data; import it first` });
  }
}
