import type { ModelSetRow, ModelVersionRow } from "./model-rows.js";

/**
 * What the model-repository operations hand the routes: each row mapped once to camelCase, so
 * no route reads a column. `labels` is parsed here; the other values are the stored ones.
 */
export interface ModelSetRecord {
  readonly num: number;
  readonly id: string;
  readonly name: string;
  /** V2 `modelType` (ModelSetType). */
  readonly modelType: string;
  readonly source: string;
  readonly labels: string[];
  readonly description: string;
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export interface ModelVersionRecord {
  readonly num: number;
  readonly id: string;
  readonly setNum: number;
  readonly version: number;
  readonly description: string;
  /** `Train`, `Import` or `Acceleration`. */
  readonly sourceType: string;
  /** `Creating`, `Ready` or `Fail`. */
  readonly status: string;
  readonly failReason: string | null;
  readonly architecture: string | null;
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export function toModelSetRecord(row: ModelSetRow): ModelSetRecord {
  return {
    num: row.num, id: row.id, name: row.name, modelType: row.model_type, source: row.source,
    labels: JSON.parse(row.labels) as string[], description: row.description, createdAt: row.created_at, modifiedAt: row.modified_at,
  };
}

export function toModelVersionRecord(row: ModelVersionRow): ModelVersionRecord {
  return {
    num: row.num, id: row.id, setNum: row.set_num, version: row.version, description: row.description,
    sourceType: row.source_type, status: row.status, failReason: row.fail_reason, architecture: row.architecture,
    createdAt: row.created_at, modifiedAt: row.modified_at,
  };
}
