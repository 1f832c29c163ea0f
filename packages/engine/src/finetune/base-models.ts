import type { Kysely, Transaction } from "kysely";
import type { Database } from "@sailfin/store";

/**
 * Base models, read straight from the model repository's tables: a base model named N is the
 * model set named N with its latest Ready version imported from files. (The model-repository
 * module owns those tables; this file only reads them, so fine-tuning does not depend on its code.)
 */
export interface BaseModelConfig {
  readonly hiddenSize: number | null;
  readonly numLayers: number | null;
  readonly numHeads: number | null;
  readonly numKvHeads: number | null;
  readonly vocabSize: number | null;
  readonly maxPositionEmbeddings: number | null;
  readonly tieWordEmbeddings: boolean | null;
  readonly hasChatTemplate: boolean | null;
}

export interface BaseModel {
  readonly name: string;
  readonly setNum: number;
  readonly setId: string;
  readonly versionNum: number;
  readonly versionId: string;
  readonly config: BaseModelConfig;
}

type Db = Kysely<Database> | Transaction<Database>;

function baseModelQuery(db: Db) {
  return db
    .selectFrom("model_versions as v")
    .innerJoin("model_sets as s", "s.num", "v.set_num")
    .select(["s.name as name", "s.num as setNum", "s.id as setId", "v.num as versionNum", "v.id as versionId", "v.config_summary as configSummary"])
    .where("v.source_type", "=", "Import")
    .where("v.status", "=", "Ready");
}

/** The base model named `name`, or null when no Ready imported version exists. */
export async function findBaseModel(db: Db, name: string): Promise<BaseModel | null> {
  const row = await baseModelQuery(db).where("s.name", "=", name).orderBy("v.num", "desc").limit(1).executeTakeFirst();
  return row === undefined ? null : toBaseModel(row);
}

/** Every registered base model (latest Ready imported version of each set), by name. */
export async function listBaseModels(db: Db): Promise<BaseModel[]> {
  const rows = await baseModelQuery(db).orderBy("s.name", "asc").orderBy("v.num", "desc").execute();
  const seen = new Set<number>();
  const out: BaseModel[] = [];
  for (const row of rows) {
    if (seen.has(row.setNum)) continue;
    seen.add(row.setNum);
    out.push(toBaseModel(row));
  }
  return out;
}

function toBaseModel(row: { name: string; setNum: number; setId: string; versionNum: number; versionId: string; configSummary: string | null }): BaseModel {
  return {
    name: row.name, setNum: row.setNum, setId: row.setId, versionNum: row.versionNum, versionId: row.versionId,
    config: parseBaseModelConfig(row.configSummary),
  };
}

/**
 * Reads the config summary leniently: a missing or malformed field is null (callers pick
 * defaults), and the Hugging Face snake_case spellings are accepted too.
 */
export function parseBaseModelConfig(text: string | null): BaseModelConfig {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = text === null ? {} : JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) raw = parsed as Record<string, unknown>;
  } catch {
    raw = {};
  }
  const int = (...keys: string[]): number | null => {
    for (const key of keys) {
      const value = raw[key];
      if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
    }
    return null;
  };
  const bool = (...keys: string[]): boolean | null => {
    for (const key of keys) if (typeof raw[key] === "boolean") return raw[key] as boolean;
    return null;
  };
  return {
    hiddenSize: int("hiddenSize", "hidden_size"),
    numLayers: int("numLayers", "num_hidden_layers"),
    numHeads: int("numHeads", "num_attention_heads"),
    numKvHeads: int("numKvHeads", "num_key_value_heads"),
    vocabSize: int("vocabSize", "vocab_size"),
    maxPositionEmbeddings: int("maxPositionEmbeddings", "max_position_embeddings"),
    tieWordEmbeddings: bool("tieWordEmbeddings", "tie_word_embeddings"),
    hasChatTemplate: bool("hasChatTemplate"),
  };
}
