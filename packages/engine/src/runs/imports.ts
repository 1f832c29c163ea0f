import { z } from "zod";
import type { ImportOutcome } from "../import-outcome.js";
import { failDatasetImport, type DatasetImportSpec } from "../datasets/execute-dataset-import.js";
import { failModelImport, type ModelImportSpec } from "../models/import-model-version.js";
import { defineRunKind } from "./define.js";
import type { RunOutcome } from "./outcome.js";

/** The payload of a `dataset-import` run: the import task it carries out (the run's id is the task's). */
const datasetImportSpecSchema = z.object({ importNum: z.int() }) satisfies z.ZodType<DatasetImportSpec>;

/** The payload of a `model-import` run: the Creating version it fills (its id is `import-<versionId>`). */
const modelImportSpecSchema = z.object({ versionNum: z.int() }) satisfies z.ZodType<ModelImportSpec>;

/**
 * An import's verdict as a run outcome. Both verdicts are written by the fenced transaction that
 * ends the run (`settle`), so a worker that lost its lease records nothing. Bad data is the
 * user's (no retry: an import always failed at once); an interrupted attempt (shutdown, lost
 * lease) is a system failure, released or retried and redone.
 */
function importRunOutcome(outcome: ImportOutcome): RunOutcome {
  switch (outcome.kind) {
    case "imported": return { kind: "done", reason: outcome.reason, result: outcome.result, settle: outcome.settle };
    case "rejected": return { kind: "failed", failure: "user", reason: outcome.reason, settle: outcome.settle };
    case "interrupted": return { kind: "failed", failure: "system", reason: "the import was interrupted" };
  }
}

/**
 * Validates every line of the sources and copies the records into the version (Node only). A run
 * that ends without success and without a verdict (no attempt left, a worker error) fails the
 * import, so the version is importable again.
 */
export const datasetImportRun = defineRunKind({
  kind: "dataset-import", noun: "dataset import", readAction: "dataset:read", concurrency: "file-work", needsRuntime: false, everyServer: true, spec: datasetImportSpecSchema,
  run: async (spec, deps) => importRunOutcome(await deps.imports.dataset(spec)),
  onEnded: (trx, spec, ending) => failDatasetImport(trx, spec.importNum, ending.reason),
});

/** Copies a model folder into `models/<versionId>/` and checks it (Node only); a run that ends without a verdict fails the version. */
export const modelImportRun = defineRunKind({
  kind: "model-import", noun: "model import", readAction: "model:read", concurrency: "file-work", needsRuntime: false, everyServer: true, spec: modelImportSpecSchema,
  run: async (spec, deps) => importRunOutcome(await deps.imports.model(spec)),
  onEnded: (trx, spec, ending) => failModelImport(trx, spec.versionNum, ending.reason),
});
