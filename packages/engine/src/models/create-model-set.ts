import { SailfinError, newId, nowIso, type ModelSetType } from "@sailfin/contract";
import { appendEvent, type Db } from "@sailfin/store";
import { isUniqueViolation } from "../unique-retry.js";
import type { Actor, EngineResources } from "../resources.js";
import { MODEL_SET_KIND, findSetByName, type ModelSetRow } from "./model-rows.js";
import { toModelSetRecord, type ModelSetRecord } from "./records.js";

/**
 * Model set names double as fine-tuning base model names (`model` / `trainType`), so they stay
 * printable and unambiguous: 2-50 letters (any script), digits, `_`, `-` and `.`.
 */
const NAME_PATTERN = /^[\p{L}\p{N}_.-]{2,50}$/u;

function assertModelSetName(name: string, field: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new SailfinError("InvalidParameter", { field, detail: "2-50 characters of letters, digits, _ - ." });
  }
}

interface CreateModelSetInput {
  readonly name: string;
  readonly modelType: ModelSetType;
  readonly labels?: readonly string[];
  readonly description?: string;
  /** The request field holding the name, for errors (`modelSetName`, V1 `modelName`). */
  readonly nameField: string;
}

/**
 * Creates a user model set ("my model"); a taken name is a Conflict naming the field.
 *
 * @example await createModelSet(res, actor, { name: "qwen2-tiny", modelType: "Text2Text", nameField: "modelSetName" })
 */
export async function createModelSet(res: EngineResources, actor: Actor, input: CreateModelSetInput): Promise<ModelSetRecord> {
  return toModelSetRecord(await res.db.transaction().execute((trx) => insertModelSet(trx, actor, input)));
}

/** The insert itself, for callers that create a set and its first version in one transaction. */
export async function insertModelSet(trx: Db, actor: Actor, input: CreateModelSetInput): Promise<ModelSetRow> {
  assertModelSetName(input.name, input.nameField);
  const taken = () => new SailfinError("Conflict", { field: input.nameField, detail: `a model named ${input.name} already exists` });
  if ((await findSetByName(trx, input.name)) !== null) throw taken();
  const id = newId("modelSet");
  const now = nowIso();
  try {
    await trx
      .insertInto("model_sets")
      .values({
        id,
        name: input.name,
        model_type: input.modelType,
        source: "UserCreate",
        labels: JSON.stringify(input.labels ?? []),
        description: input.description ?? "",
        created_at: now,
        modified_at: now,
      })
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw taken();
    throw error;
  }
  await appendEvent(trx, { objectKind: MODEL_SET_KIND, objectId: id, actor: actor.accessKey, from: null, to: "Created" });
  return trx.selectFrom("model_sets").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}
