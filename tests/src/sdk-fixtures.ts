import { ROUTES } from "@sailfin/server";
import type { TestServer } from "./harness.js";
import { releasedDataset } from "./fixtures/dataset-imports.js";
import { TINY, importBaseModel, stageFolder, writeTinyModels } from "./fixtures/model-imports.js";

/**
 * Shared pieces of the official-SDK tests (sdk-node.test.ts, sdk-python.test.ts): which routes
 * exist yet, and the training inputs a fine-tuning task needs (a base model and a released
 * dataset version).
 */

/** True when the server declares this V2 action. */
function hasV2(resource: string, action: string): boolean {
  return ROUTES.some((r) => r.dialect === "v2" && r.resource === resource && r.action === action);
}

/** True when the server declares this V1 path. */
function hasV1(path: string): boolean {
  return ROUTES.some((r) => r.dialect === "v1" && r.path === path);
}

/** `false` when every route is there, else the reason to skip (node:test `skip` option). */
export function skipUnless(...routes: Array<[string, string] | string>): false | string {
  const missing = routes.filter((r) => (typeof r === "string" ? !hasV1(r) : !hasV2(r[0], r[1])));
  if (missing.length === 0) return false;
  return `route not implemented yet: ${missing.map((r) => (typeof r === "string" ? r : `/v2/${r[0]}?Action=${r[1]}`)).join(", ")}`;
}

export interface TrainingInputs {
  /** Base model name: what CreateFineTuningJob's `model` names. */
  readonly baseModel: string;
  /** The base model's set (`am-…`) and Ready version (`amv-…`), with their V1 numbers. */
  readonly baseModelSetId: string;
  readonly baseModelSetNum: number;
  readonly baseModelVersionId: string;
  readonly baseModelVersionNum: number;
  /** A released dataset version id (`ds-…`): what datasetConfig.versions[].versionId names. */
  readonly datasetVersionId: string;
  readonly datasetVersionNum: number;
}

/**
 * A base model and a released SFT dataset version for the fine-tuning calls.
 *
 * Both go through the real APIs, with the helpers every test shares (fixtures/): a tiny Llama
 * written by `writeTinyModel`, staged in a bucket, `CreateCustomModelSet`, `CreateCustomModel`
 * (sourceType Import), `DescribeModel` until Ready; a JSONL file uploaded into a bucket,
 * `CreateDataset`, `CreateImportTask`, `PublishDatasetVersion`, each waited for with
 * `DescribeDatasetVersion`.
 */
export async function seedTrainingInputs(server: TestServer, tag: string): Promise<TrainingInputs> {
  const tiny = await writeTinyModels({ llama: { ...TINY, seed: 7 } });
  try {
    await stageFolder(server, tiny.dir("llama"), "sdk-models", `sdk-base-${tag}`);
  } finally {
    await tiny.remove();
  }
  const model = await importBaseModel(server, `sdk-base-${tag}`, { bucket: "sdk-models", objectPath: `sdk-base-${tag}/` });
  const dataset = await releasedDataset(server, {
    name: `sdk-data-${tag}`, format: "PromptResponse",
    lines: ["你好", "what is sailfin?", "2+2"].map((q, i) => JSON.stringify([{ prompt: q, response: [[`answer ${i}`]] }])),
  });
  return {
    baseModel: `sdk-base-${tag}`, baseModelSetId: model.setId, baseModelSetNum: model.setNum,
    baseModelVersionId: model.versionId, baseModelVersionNum: model.versionNum,
    datasetVersionId: dataset.versionId, datasetVersionNum: dataset.num,
  };
}
