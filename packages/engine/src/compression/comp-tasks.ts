import { SailfinError, newId, type Page, type PageRequest } from "@sailfin/contract";
import { keysetPage, type Db } from "@sailfin/store";
import { findSet, findVersion } from "../models/model-rows.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement } from "../pools/index.js";
import { findWorkRun, type WorkRow } from "../queue/find-work.js";
import { requestStop, type StopResult } from "../queue/request-stop.js";
import type { Actor, EngineResources } from "../resources.js";
import { toWorkRunRecord, type WorkRunRecord } from "../work-run-record.js";
import { lockModelVersions } from "../models/model-rows.js";

/**
 * Model compression (V2 `/v2/model` …ModelCompTask, reference §9): weight-only quantization of
 * a Ready model version into a new version of `modelSetId` (`sourceType: Acceleration`). A task
 * is a `runs` row of kind `compress` whose id is the task's `amva-…`; the worker runs the
 * runtime's `quantize` recipe and, in the transaction that finishes the run, creates the output
 * version Ready. A failed or stopped task leaves no version behind.
 */

/** The quantization weights Qianfan names (compared case-insensitively) and what Sailfin does for each. */
export const QUANT_WEIGHTS = {
  "INT8-PTQ": { bits: 8, groupSize: null, quantConf: "wint8" },
  W8A16C16: { bits: 8, groupSize: null, quantConf: "wint8" },
  W4A16C16: { bits: 4, groupSize: 128, quantConf: "wint4" },
} as const;
export type QuantWeight = keyof typeof QUANT_WEIGHTS;

export interface CompRunSpec {
  readonly specVersion: 1;
  readonly kind: "compress";
  readonly sourceVersionId: string;
  readonly sourceVersionNum: number;
  readonly targetSetNum: number;
  /** Allocated at creation: the worker writes `models/<outputVersionId>/`. */
  readonly outputVersionId: string;
  readonly weight: QuantWeight;
  readonly bits: 4 | 8;
  readonly groupSize: number | null;
  /** The request's config as given, echoed by describe. */
  readonly config: Record<string, unknown>;
}

/** What a finished compression measured (runs.result). */
export interface CompResult {
  readonly modelId: string;
  readonly sizeBeforeBytes: number;
  readonly sizeAfterBytes: number;
  readonly perplexityBefore: number | null;
  readonly perplexityAfter: number | null;
  readonly seconds: number;
}

/** A compression task as routes render it: its run's record, spec, source and outcome. */
export interface CompTaskView extends WorkRunRecord {
  readonly spec: CompRunSpec;
  readonly sourceModelId: string;
  readonly result: CompResult | null;
}

interface CreateCompTaskInput {
  readonly name: string;
  readonly description?: string;
  readonly sourceModelId: string;
  readonly modelSetId: string;
  readonly config: { readonly strategy: string; readonly weight?: string | undefined };
}

function parseWeight(config: CreateCompTaskInput["config"]): QuantWeight {
  if (config.strategy === "Sparsity") {
    throw new SailfinError("InvalidParameter", { field: "config.strategy", detail: "Sparsity is not supported by Sailfin yet; use Quantization" });
  }
  if (config.strategy !== "Quantization") {
    throw new SailfinError("InvalidParameter", { field: "config.strategy", detail: `must be Quantization (or Sparsity, not supported yet), not ${JSON.stringify(config.strategy)}` });
  }
  const given = config.weight;
  const weight = (Object.keys(QUANT_WEIGHTS) as QuantWeight[]).find((w) => w.toLowerCase() === String(given ?? "").toLowerCase());
  if (weight === undefined) {
    throw new SailfinError("InvalidParameter", {
      field: "config.weight", detail: `${given === undefined ? "is required for Quantization" : `${JSON.stringify(given)} is not supported`}; one of ${Object.keys(QUANT_WEIGHTS).join(", ")}`,
    });
  }
  return weight;
}

/**
 * Validates and queues a compression task; returns its `amva-…` id. The source version must be
 * Ready (it is read-locked while the task is queued, so a concurrent delete sees the task).
 *
 * @example await createCompTask(res, actor, { name: "q8", sourceModelId: "amv-…", modelSetId: "am-…", config: { strategy: "Quantization", weight: "W8A16C16" } })
 */
export async function createCompTask(res: EngineResources, actor: Actor, input: CreateCompTaskInput): Promise<string> {
  const weight = parseWeight(input.config);
  const quant = QUANT_WEIGHTS[weight];
  const set = await findSet(res.db, input.modelSetId, "modelSetId");
  const source = await findVersion(res.db, input.sourceModelId, "sourceModelId");
  const id = newId("compTask");
  await res.db.transaction().execute(async (trx) => {
    const [locked] = await lockModelVersions(trx, res.dialect, [source.num], "share");
    if (locked === undefined) throw new SailfinError("NotFound", { field: "sourceModelId", detail: `no model version ${input.sourceModelId}` });
    if (locked.status !== "Ready") {
      throw new SailfinError("InvalidParameter", { field: "sourceModelId", detail: `model version ${locked.id} is ${locked.status}; only a Ready version can be compressed` });
    }
    if (locked.source_type === "Acceleration") {
      throw new SailfinError("InvalidParameter", { field: "sourceModelId", detail: `model version ${locked.id} is already compressed; compress its full-precision source instead` });
    }
    const spec: CompRunSpec = {
      specVersion: 1, kind: "compress", sourceVersionId: locked.id, sourceVersionNum: locked.num, targetSetNum: set.num,
      outputVersionId: newId("modelVersion"), weight, bits: quant.bits, groupSize: quant.groupSize,
      config: { ...input.config, quantConf: quant.quantConf },
    };
    await enqueueRun(trx, actor, {
      id, kind: "compress", name: input.name, description: input.description ?? "", modelVersionNum: locked.num, spec,
      placement: defaultPlacement(res.pools),
    });
  });
  return id;
}

async function viewsOf(db: Db, rows: readonly WorkRow[]): Promise<CompTaskView[]> {
  const sourceNums = [...new Set(rows.map((r) => r.base_model_version_num))];
  const sources = new Map((sourceNums.length === 0 ? [] : await db.selectFrom("model_versions").select(["num", "id"])
    .where("num", "in", sourceNums).execute()).map((v) => [v.num, v.id]));
  return rows.map((row) => {
    const spec = JSON.parse(row.spec) as CompRunSpec;
    return {
      ...toWorkRunRecord(row), spec,
      sourceModelId: sources.get(row.base_model_version_num) ?? spec.sourceVersionId,
      result: row.result === null ? null : JSON.parse(row.result) as CompResult,
    };
  });
}

/** One compression task, or NotFound naming `field`. */
export async function describeCompTask(res: EngineResources, ref: string, field: string): Promise<CompTaskView> {
  return (await viewsOf(res.db, [await findWorkRun(res.db, "compress", ref, field, "compression task")]))[0]!;
}

/** A keyset page of compression tasks, newest first, optionally of one source version. */
export async function listCompTasks(res: EngineResources, request: PageRequest, sourceModelId?: string): Promise<Page<CompTaskView>> {
  let query = res.db.selectFrom("runs").selectAll().where("kind", "=", "compress");
  if (sourceModelId !== undefined) {
    const source = await findVersion(res.db, sourceModelId, "sourceModelId");
    query = query.where("base_model_version_num", "=", source.num);
  }
  const page = await keysetPage(query, request, "runs");
  return { items: await viewsOf(res.db, page.items), pageInfo: page.pageInfo };
}

/** Stops a compression task (queued: at once; running: the worker stops the runtime). */
export async function cancelCompTask(res: EngineResources, actor: Actor, ref: string, field: string): Promise<StopResult> {
  return requestStop(res.db, actor, () => findWorkRun(res.db, "compress", ref, field, "compression task"), field, "compression task");
}

/**
 * Deletes a finished compression task (its record; the output version stays, it is a model of
 * its own). A waiting or running task must be stopped first (Conflict).
 */
export async function deleteCompTask(res: EngineResources, _actor: Actor, ref: string, field: string): Promise<void> {
  const row = await findWorkRun(res.db, "compress", ref, field, "compression task");
  const deleted = await res.db.deleteFrom("runs").where("num", "=", row.num).where("status", "in", ["Succeeded", "Failed", "Cancelled"]).executeTakeFirst();
  if (Number(deleted.numDeletedRows) !== 1) {
    throw new SailfinError("Conflict", { field, detail: `compression task ${row.id} is waiting or running; cancel it first` });
  }
  await res.artifacts.delete(`runs/${row.id}`).catch(() => undefined);
}
