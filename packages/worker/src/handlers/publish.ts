import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { settlePublishedVersion, type Lease, type PublishRunSpec } from "@sailfin/engine";
import { localArtifacts, runtimeFailure, type HandlerContext, type Outcome } from "../outcome.js";
import { RuntimeLink } from "../runtime-link.js";

/** Where a publish writes: the version's folder, the only artifact key of a model version. */
export function publishOutputKey(spec: PublishRunSpec): string {
  return `models/${spec.versionId}/`;
}

/**
 * One attempt of a publish: the runtime's `export` recipe writes the checkpoint (LoRA merged
 * into the base) as a complete Hugging Face folder into `models/<versionId>/`. The loop turns
 * the version Ready or Fail in the same fenced transaction that finishes the run.
 */
export async function runPublish(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  const { res } = ctx;
  const spec = JSON.parse(lease.row.spec) as PublishRunSpec;
  const store = localArtifacts(res);
  if (store === null) return { kind: "failed", failure: "system", reason: "publishing needs a local artifact store" };
  const { root, local } = store;
  const base = await res.db.selectFrom("model_versions").select(["id", "artifact_path"]).where("id", "=", spec.baseVersionId).executeTakeFirst();
  if (base === undefined) return { kind: "failed", failure: "user", reason: `the base model version ${spec.baseVersionId} no longer exists` };
  const outputDir = local(publishOutputKey(spec));
  // A previous attempt may have left files: start clean.
  await rm(outputDir, { recursive: true, force: true });
  const workDir = local(`runs/${lease.runId}`);
  await mkdir(workDir, { recursive: true });
  const specPath = join(workDir, `spec.attempt-${lease.attempt}.json`);
  await writeFile(specPath, `${JSON.stringify({
    version: 1, modelDir: local(base.artifact_path ?? `models/${base.id}/`), checkpoint: local(spec.checkpointPath), outputDir,
  }, null, 2)}\n`);
  const link = new RuntimeLink({ db: res.db, lease, artifactRoot: root, keepCheckpoints: 1, onLeaseLost: ctx.leaseLost });
  const result = await ctx.executor.run({ recipe: "export", specPath, signal: ctx.signal, onLine: (line) => link.line(line) });
  if (!(await link.close())) return { kind: "lost" };
  const ending = link.ending;
  if (ending?.kind === "done" && result.exitCode === 0) {
    const key = publishOutputKey(spec);
    const sizeBytes = await folderSize(outputDir);
    return {
      kind: "done", reason: `exported step ${spec.step} of ${spec.sourceRunId}`,
      settle: async (trx) => { await settlePublishedVersion(trx, { accessKey: ctx.owner }, spec.versionNum, { status: "Ready", artifactPath: key, sizeBytes }); },
    };
  }
  await rm(outputDir, { recursive: true, force: true });
  if (ending?.kind === "stopped") return { kind: "failed", failure: "system", reason: "the export was interrupted" };
  return runtimeFailure(ending, result);
}

/** Total bytes of the files under `dir`. */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await folderSize(path) : (await stat(path)).size;
  }
  return total;
}
