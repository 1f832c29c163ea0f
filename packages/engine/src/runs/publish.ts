import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { RuntimeExportSpec } from "@sailfin/contract";
import { SYSTEM_ACTOR } from "../resources.js";
import { settlePublishedVersion, type PublishRunSpec } from "../models/publish-from-run.js";
import { folderKey, isMissingArtifact } from "../artifacts/run-files.js";
import { versionFilesKey } from "../models/model-rows.js";
import type { RunDeps } from "./deps.js";
import { defineRunKind } from "./define.js";
import { failed, type RunOutcome } from "./outcome.js";
import { runtimeFailure } from "./runtime-failure.js";

/** The payload of a `publish` run (written by publishFromRun). */
export const publishSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("publish"),
  versionId: z.string(),
  versionNum: z.int(),
  sourceRunId: z.string(),
  sourceRunNum: z.int(),
  step: z.int(),
  checkpointPath: z.string(),
  baseVersionId: z.string(),
}) satisfies z.ZodType<PublishRunSpec>;

/** Where a publish writes: the version's folder, the only artifact key of a model version. */
function publishOutputKey(spec: PublishRunSpec): string {
  return `models/${spec.versionId}/`;
}

/** The `export` recipe's spec.json. @example exportRuntimeSpec({ modelDir, checkpoint, outputDir }) */
function exportRuntimeSpec(paths: { readonly modelDir: string; readonly checkpoint: string; readonly outputDir: string }): RuntimeExportSpec {
  return { version: 1, modelDir: paths.modelDir, checkpoint: paths.checkpoint, outputDir: paths.outputDir };
}

/**
 * One attempt of a publish: the runtime's `export` recipe writes the checkpoint (LoRA merged
 * into the base) as a complete Hugging Face folder into `models/<versionId>/`; the version turns
 * Ready in the fenced transaction that finishes the run (or Fail in the one that fails it).
 */
export async function runPublish(spec: PublishRunSpec, deps: RunDeps): Promise<RunOutcome> {
  const { run, files } = deps;
  const base = await deps.reads.modelVersion({ id: spec.baseVersionId });
  if (base === null) return failed("user", `the base model version ${spec.baseVersionId} no longer exists`);
  const key = publishOutputKey(spec);
  // A previous attempt may have left files (here or half-uploaded): start clean.
  await files.discard(key);
  const outputDir = await files.output(key);
  const workDir = await files.output(`runs/${run.id}/`);
  let modelDir: string;
  let checkpoint: string;
  try {
    modelDir = await files.input(folderKey(versionFilesKey(base)));
    checkpoint = await files.input(folderKey(spec.checkpointPath));
  } catch (error) {
    // As the runtime says of a checkpoint folder deleted from the local store.
    if (isMissingArtifact(error)) return failed("user", `the checkpoint or base model is gone: ${error.message}`);
    throw error;
  }
  const runtime = await deps.runRuntime({
    recipe: "export", jobKey: `${run.id}/export`, specPath: join(workDir, `spec.attempt-${run.attempt}.json`),
    spec: exportRuntimeSpec({ modelDir, checkpoint, outputDir }), keepCheckpoints: 1,
  });
  if (runtime.kind === "lost") return runtime;
  const { ending, result } = runtime;
  if (ending?.kind === "done" && result.exitCode === 0) {
    const sizeBytes = await folderSize(outputDir);
    // Uploaded before the run settles: the version turns Ready only once the store holds it whole.
    await files.commit(key);
    return {
      kind: "done", reason: `exported step ${spec.step} of ${spec.sourceRunId}`,
      settle: async (trx) => { await settlePublishedVersion(trx, { accessKey: run.owner }, spec.versionNum, { status: "Ready", artifactPath: key, sizeBytes }); },
    };
  }
  await files.discard(key);
  if (ending?.kind === "stopped") return failed("system", "the export was interrupted");
  const failure = runtimeFailure("export", ending, result);
  return failed(failure.failure, failure.reason);
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

export const publishRun = defineRunKind({
  kind: "publish", noun: "publish", readAction: "tuning:read", concurrency: "file-work", needsRuntime: true, spec: publishSpecSchema, run: runPublish,
  // A publish that ends without success (Failed, or Cancelled) fails its model version in the same
  // transaction, or it would stay Creating for good.
  onEnded: async (trx, spec, ending) => {
    await settlePublishedVersion(trx, SYSTEM_ACTOR, spec.versionNum, { status: "Fail", failReason: ending.reason });
  },
});
