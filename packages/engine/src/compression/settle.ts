import type { Db } from "@sailfin/store";
import type { Actor } from "../resources.js";
import { insertCreatingVersion, versionFolder } from "../models/model-rows.js";
import { settlePublishedVersion } from "../models/publish-from-run.js";
import type { CompRunSpec } from "./comp-tasks.js";

/** Artifact key of a compression's output folder: the new version's own folder. */
export function compOutputKey(spec: CompRunSpec): string {
  return versionFolder(spec.outputVersionId);
}

/**
 * The worker's last step of a compression, inside the fenced transaction that finishes the run:
 * the output version is created (Acceleration, lineage to the task) and turned Ready with its
 * folder and size. The source's architecture and config summary carry over (quantization keeps
 * the shapes; the summary only describes them).
 *
 * @example await settleCompression(trx, actor, runNum, spec, sizeBytes)
 */
export async function settleCompression(trx: Db, actor: Actor, runNum: number, spec: CompRunSpec, sizeBytes: number): Promise<void> {
  const source = await trx.selectFrom("model_versions").select(["architecture", "config_summary", "id"])
    .where("num", "=", spec.sourceVersionNum).executeTakeFirst();
  const version = await insertCreatingVersion(trx, actor, {
    id: spec.outputVersionId, setNum: spec.targetSetNum, description: `${spec.weight} of ${spec.sourceVersionId}`,
    sourceType: "Acceleration", sourceCompNum: runNum,
    architecture: source?.architecture ?? null, configSummary: source?.config_summary ?? null,
  });
  await settlePublishedVersion(trx, actor, version.num, { status: "Ready", artifactPath: compOutputKey(spec), sizeBytes });
}

