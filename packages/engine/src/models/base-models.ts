import type { Db } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import type { ModelSummary } from "./check-model-files.js";
import { parseConfigSummary } from "./config-summary.js";
import { versionFilesKey } from "./model-rows.js";

/**
 * Base models for fine-tuning. Sailfin has no platform presets: a base model is a model set with
 * at least one `Ready` complete model version — imported from files (source `Import`) or
 * published from training (source `Train`: merged weights, config and tokenizer) — and its
 * fine-tuning name (V2 `model`, V1 `trainType`) is the set's name. Its latest such version is the
 * one trained. Compressed versions (a later issue) are for inference, not training.
 * Fine-tuning reads base models only through this file.
 */

/** The checked shape of a base model: its config summary without the architecture (kept beside it). */
export type ResolvedBaseModelConfig = Omit<ModelSummary, "architecture">;

export interface ResolvedBaseModel {
  readonly setNum: number;
  readonly setId: string;
  readonly setName: string;
  readonly versionNum: number;
  readonly versionId: string;
  readonly architecture: string;
  readonly config: ResolvedBaseModelConfig;
  /** Artifact folder of the weights (`models/<versionId>/`). */
  readonly artifactPath: string;
}

interface Row {
  setNum: number; setId: string; setName: string; versionNum: number; versionId: string;
  architecture: string | null; configSummary: string | null; artifactPath: string | null;
}

const BASE_SOURCES = ["Import", "Train"];

function baseQuery(db: Db) {
  return db
    .selectFrom("model_versions as v")
    .innerJoin("model_sets as s", "s.num", "v.set_num")
    .select([
      "s.num as setNum", "s.id as setId", "s.name as setName", "v.num as versionNum", "v.id as versionId",
      "v.architecture as architecture", "v.config_summary as configSummary", "v.artifact_path as artifactPath",
    ])
    .where("v.source_type", "in", BASE_SOURCES)
    .where("v.status", "=", "Ready");
}

/**
 * The base model named `name`: the latest Ready imported version of that model set, or null.
 *
 * @example const base = await resolveBaseModel(res, "qwen2-tiny"); // base?.config.hiddenSize
 */
export async function resolveBaseModel(res: EngineResources, name: string): Promise<ResolvedBaseModel | null> {
  const row = await baseQuery(res.db).where("s.name", "=", name).orderBy("v.num", "desc").limit(1).executeTakeFirst();
  return row === undefined ? null : toResolved(row);
}

/** Every base model (latest Ready imported version of each set), ordered by name. */
export async function listBaseModels(res: EngineResources): Promise<ResolvedBaseModel[]> {
  const latest = res.db
    .selectFrom("model_versions")
    .select((eb) => eb.fn.max("num").as("num"))
    .where("source_type", "in", BASE_SOURCES)
    .where("status", "=", "Ready")
    .groupBy("set_num");
  const rows = await baseQuery(res.db).where("v.num", "in", latest).orderBy("s.name", "asc").execute();
  return rows.map(toResolved).filter((base): base is ResolvedBaseModel => base !== null);
}

/**
 * Null when the summary cannot be read: Ready imports always carry the one checkModelFiles
 * wrote, and a model whose shape is unknown cannot be offered for training.
 */
function toResolved(row: Row): ResolvedBaseModel | null {
  const summary = parseConfigSummary(row.configSummary);
  if (summary === null) return null;
  const { architecture, ...config } = summary;
  return {
    setNum: row.setNum,
    setId: row.setId,
    setName: row.setName,
    versionNum: row.versionNum,
    versionId: row.versionId,
    architecture: row.architecture ?? architecture,
    artifactPath: versionFilesKey({ id: row.versionId, artifactPath: row.artifactPath }),
    config,
  };
}
