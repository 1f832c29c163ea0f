import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SailfinError, runtimeHyper } from "@sailfin/contract";
import { forgetAfterStep, prepareSpecData, type FinetuneRunSpec, type Lease } from "@sailfin/engine";
import { crashReason, localArtifacts, type HandlerContext, type Outcome } from "../outcome.js";
import { RuntimeLink } from "../runtime-link.js";

/**
 * One attempt of a fine-tuning run: token shards (cached), spec.json (resuming from the run's
 * latest recorded checkpoint on a retry), the runtime, its events recorded as they come.
 */
export async function runFinetune(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  const { res } = ctx;
  const spec = JSON.parse(lease.row.spec) as FinetuneRunSpec;
  const store = localArtifacts(res);
  if (store === null) return { kind: "failed", failure: "system", reason: "training needs a local artifact store" };
  const { root, local } = store;

  const base = await res.db.selectFrom("model_versions").select(["id", "artifact_path"]).where("num", "=", spec.baseModel.versionNum).executeTakeFirst();
  if (base === undefined) return { kind: "failed", failure: "user", reason: `the base model version ${spec.baseModel.versionId} no longer exists` };
  const modelKey = base.artifact_path ?? `models/${base.id}/`;
  const hyper = spec.hyperParameters as Record<string, unknown>;
  let data;
  try {
    data = await prepareSpecData(res, spec, modelKey);
  } catch (error) {
    if (error instanceof SailfinError && error.id === "InvalidParameter") {
      return { kind: "failed", failure: "user", reason: `training data: ${error.message}` };
    }
    return { kind: "failed", failure: "system", reason: `preparing training data failed: ${(error as Error).message}` };
  }

  // A retry (crash, lost lease) resumes from the latest checkpoint this run recorded, and drops
  // what the lost attempt logged after it, so every step is recorded once.
  const latest = await res.db.selectFrom("run_checkpoints").select(["step", "path"])
    .where("run_num", "=", lease.runNum).orderBy("step", "desc").limit(1).executeTakeFirst();
  if (lease.attempt > 1 && !(await forgetAfterStep(res.db, lease, latest?.step ?? 0))) return { kind: "lost" };

  const outputDir = local(`runs/${lease.runId}`);
  await mkdir(outputDir, { recursive: true });
  const runtimeSpec = {
    version: 1,
    runId: lease.runId,
    trainMode: spec.trainMode,
    parameterScale: spec.parameterScale,
    modelDir: local(modelKey),
    initCheckpoint: spec.increment === null ? null : local(spec.increment.checkpointPath),
    data: { train: data.trainDir, validation: data.validation.rows > 0 ? data.validationDir : null },
    outputDir,
    resumeFrom: latest === undefined ? null : local(latest.path),
    hyper: runtimeHyper(spec.parameterScale, hyper),
    device: process.env.SAILFIN_DEVICE ?? "auto",
    precision: process.env.SAILFIN_PRECISION ?? "auto",
  };
  const specPath = join(outputDir, `spec.attempt-${lease.attempt}.json`);
  await writeFile(specPath, `${JSON.stringify(runtimeSpec, null, 2)}\n`);

  const link = new RuntimeLink({
    db: res.db, lease, artifactRoot: root, keepCheckpoints: Number(hyper.checkpointCount ?? 1), onLeaseLost: ctx.leaseLost,
  });
  const result = await ctx.executor.run({ recipe: "finetune", specPath, signal: ctx.signal, onLine: (line) => link.line(line) });
  if (!(await link.close())) return { kind: "lost" };
  const ending = link.ending;
  if (ending?.kind === "done" && result.exitCode === 0) return { kind: "done", reason: `training finished at step ${ending.step}` };
  if (ending?.kind === "stopped" && result.exitCode === 0) {
    return { kind: "stopped", reason: `stopped at step ${ending.step}${ending.checkpoint === null ? "" : " (checkpoint saved)"}` };
  }
  if (result.exitCode === 2 || (ending?.kind === "error" && ending.errorKind === "user")) {
    return { kind: "failed", failure: "user", reason: ending?.kind === "error" ? ending.message : crashReason(null, result.exitCode, result.signal, result.stderrTail) };
  }
  return {
    kind: "failed", failure: "system",
    reason: crashReason(ending?.kind === "error" ? ending.message : null, result.exitCode, result.signal, result.stderrTail),
  };
}
