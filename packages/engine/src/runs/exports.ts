import { z } from "zod";
import type { DatasetExportSpec } from "../exports/dataset-exports.js";
import type { ModelExportSpec } from "../exports/model-exports.js";
import { defineRunKind } from "./define.js";

/** The payload of a `dataset-export` run (written by createDatasetExport). */
const datasetExportSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("dataset-export"),
  versionNum: z.int(),
  versionId: z.string(),
  creator: z.string(),
  destination: z.enum(["sysStorage", "BOS"]),
  bucket: z.string().nullable(),
  folder: z.string().nullable(),
  exportType: z.union([z.literal(1), z.literal(2)]),
}) satisfies z.ZodType<DatasetExportSpec>;

/** The payload of a `model-export` run (written by createModelExport). */
const modelExportSpecSchema = z.object({
  specVersion: z.literal(1),
  kind: z.literal("model-export"),
  versionNum: z.int(),
  versionId: z.string(),
  creator: z.string(),
  bucket: z.string().nullable(),
  folder: z.string().nullable(),
}) satisfies z.ZodType<ModelExportSpec>;

/**
 * Exports are file work in Node (no runtime), run by every serving process as imports are: a
 * user waits on them (the Python SDK polls `dataset/info` until the export is done, then
 * downloads), so they must not depend on a worker that announces them. An attempt cut short
 * publishes nothing (the store's writes are atomic) and the retry redoes it.
 */
export const datasetExportRun = defineRunKind({
  kind: "dataset-export", noun: "dataset export", readAction: "dataset:read", concurrency: "file-work", needsRuntime: false, everyServer: true,
  spec: datasetExportSpecSchema, run: (spec, deps) => deps.exports.dataset(spec),
});

/** Packs a model version's folder into one tar (exports/execute-model-export.ts). */
export const modelExportRun = defineRunKind({
  kind: "model-export", noun: "model export", readAction: "model:read", concurrency: "file-work", needsRuntime: false, everyServer: true,
  spec: modelExportSpecSchema, run: (spec, deps) => deps.exports.model(spec),
});
