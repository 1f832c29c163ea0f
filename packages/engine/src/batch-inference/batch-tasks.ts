import { sql } from "kysely";
import { SailfinError, newId, type BatchInferenceStatus, type Page, type PageRequest } from "@sailfin/contract";
import { keysetPage, type Db } from "@sailfin/store";
import { bucketKey, parseBucketUri } from "../artifacts/keys.js";
import { findDatasetVersion } from "../datasets/records.js";
import { resolveImportSources } from "../datasets/import-sources.js";
import { findVersion, lockModelVersions } from "../models/model-rows.js";
import { enqueueRun } from "../queue/enqueue.js";
import { defaultPlacement } from "../pools/index.js";
import { findWorkRun, type WorkRow } from "../queue/find-work.js";
import { requestStop, type StopResult } from "../queue/request-stop.js";
import type { Actor, EngineResources } from "../resources.js";
import { toWorkRunView, type WorkRunView } from "../work-run-record.js";
import { findServedVersionNum } from "./served-version.js";
import type { BatchInferenceResult, BatchInferenceSpec, BatchParams } from "./batch-spec.js";

/**
 * Batch inference (V2 `/v2/batchinference`, reference §16): a Ready model version answers every
 * sample of a released dataset version or of a JSONL file in Sailfin's storage; the answers are
 * one JSONL object in the artifact store. A task is a `runs` row of kind `batch-inference` whose
 * id is the task's `infer-…`; the worker runs the runtime's `generate` recipe over all samples.
 */

/** Qianfan's documented limit (reference §16): tasks of an account Queuing or Running (Stopping included) at once. */
const MAX_ACTIVE_TASKS = 20;
const DEFAULT_MAX_OUTPUT_TOKENS = 256;

interface CreateBatchTaskInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly modelId?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly inferenceParams: {
    readonly temperature?: number | undefined; readonly top_p?: number | undefined; readonly penalty_score?: number | undefined;
    readonly max_output_tokens?: number | undefined; readonly stop?: readonly string[] | undefined; readonly system?: string | undefined;
  };
  readonly inputBosUri?: string | undefined;
  readonly inputDatasetId?: string | undefined;
  readonly outputBosUri?: string | undefined;
  readonly afsConfig?: unknown;
}

function paramsOf(p: CreateBatchTaskInput["inferenceParams"]): BatchParams {
  return {
    temperature: p.temperature ?? null, topP: p.top_p ?? null, penaltyScore: p.penalty_score ?? 1,
    maxOutputTokens: p.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS, stop: [...(p.stop ?? [])], system: p.system ?? null,
  };
}

/** The version the request names (`modelId`, or the one the `endpoint` service runs), with the field that named it. */
async function modelVersionOf(res: EngineResources, input: CreateBatchTaskInput): Promise<{ num: number; field: string }> {
  const { modelId, endpoint } = input;
  if ((modelId === undefined) === (endpoint === undefined)) {
    throw new SailfinError("InvalidParameter", { field: "modelId", detail: "give exactly one of modelId (amv-…) and endpoint (a service URL)" });
  }
  if (modelId !== undefined) return { num: (await findVersion(res.db, modelId, "modelId")).num, field: "modelId" };
  return { num: await findServedVersionNum(res.db, endpoint!, "endpoint"), field: "endpoint" };
}

/** The input as the run reads it: a released dataset version, or the objects a `bos:/` URI names. */
async function inputOf(res: EngineResources, input: CreateBatchTaskInput): Promise<{ spec: BatchInferenceSpec["input"]; datasetVersionNum?: number; hashes?: Record<string, string> }> {
  if ((input.inputBosUri === undefined) === (input.inputDatasetId === undefined)) {
    throw new SailfinError("InvalidParameter", { field: "inputBosUri", detail: "give exactly one of inputBosUri (bos:/bucket/path) and inputDatasetId (ds-…)" });
  }
  if (input.inputDatasetId !== undefined) {
    const { version, group } = await findDatasetVersion(res.db, input.inputDatasetId, "inputDatasetId");
    if (version.state !== "Released" || version.data_path === null || version.content_hash === null) {
      throw new SailfinError("InvalidParameter", { field: "inputDatasetId", detail: `dataset version ${version.id} is not released; import and release it first` });
    }
    if (group.data_format === "Text") {
      throw new SailfinError("InvalidParameter", { field: "inputDatasetId", detail: `dataset version ${version.id} is Text: it holds no prompts to answer` });
    }
    return {
      spec: { datasetVersionId: version.id, uri: "", keys: [version.data_path], dataFormat: group.data_format, totalCount: version.record_count },
      datasetVersionNum: version.num, hashes: { [version.id]: version.content_hash },
    };
  }
  const sources = await resolveImportSources(res, [input.inputBosUri!], () => "inputBosUri");
  return { spec: { datasetVersionId: null, uri: input.inputBosUri!, keys: sources.map((s) => s.key), dataFormat: "default", totalCount: null } };
}

/**
 * Where the answers go: `<outputBosUri>/<taskId>/results.jsonl` in a bucket of Sailfin's storage
 * (Qianfan's layout: `outputDir` is the task's sub-folder of the output URI), or the task's own
 * `batch-inference/<taskId>/` when no output URI is given (the Python SDK always sends one).
 */
function outputOf(outputBosUri: string | undefined, taskId: string): BatchInferenceSpec["output"] {
  if (outputBosUri === undefined || outputBosUri === "") return { uri: "", key: `batch-inference/${taskId}/results.jsonl` };
  const folder = bucketKey(parseBucketUri(outputBosUri, "outputBosUri")).replace(/\/?$/, "/");
  return { uri: outputBosUri, key: `${folder}${taskId}/results.jsonl` };
}

/**
 * Validates and queues a batch inference task; returns its `infer-…` id. The version must be
 * Ready (read-locked while the task is queued, so a concurrent delete sees the task).
 *
 * @example await createBatchTask(res, actor, { name: "b1", modelId: "amv-…", inputDatasetId: "ds-…", inferenceParams: {} })
 */
export async function createBatchTask(res: EngineResources, actor: Actor, input: CreateBatchTaskInput): Promise<string> {
  if (input.afsConfig !== undefined) throw new SailfinError("InvalidParameter", { field: "afsConfig", detail: "AFS is not supported by Sailfin; use inputBosUri or inputDatasetId" });
  const params = paramsOf(input.inferenceParams);
  const model = await modelVersionOf(res, input);
  const source = await inputOf(res, input);
  const id = newId("batchInference");
  const output = outputOf(input.outputBosUri, id);
  await res.db.transaction().execute(async (trx) => {
    const [locked] = await lockModelVersions(trx, res.dialect, [model.num], "share");
    if (locked === undefined) throw new SailfinError("NotFound", { field: model.field, detail: "the model version no longer exists" });
    if (locked.status !== "Ready") {
      throw new SailfinError("InvalidParameter", { field: model.field, detail: `model version ${locked.id} is ${locked.status}; only a Ready version can answer` });
    }
    // Counted, not locked: two creates racing past the 20th may make 21. Qianfan's limit guards
    // against runaway scripts; it is not a quota worth a table lock on every create.
    const active = await trx.selectFrom("runs").select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("kind", "=", "batch-inference").where("status", "in", ["Queued", "Running"]).executeTakeFirstOrThrow();
    if (Number(active.n) >= MAX_ACTIVE_TASKS) {
      throw new SailfinError("TaskRunningNumberExceedLimit", { detail: `${MAX_ACTIVE_TASKS} batch inference tasks are waiting or running already; wait for one to finish or stop one` });
    }
    const spec: BatchInferenceSpec = {
      specVersion: 1, kind: "batch-inference", modelVersionId: locked.id, modelVersionNum: locked.num,
      modelId: input.modelId ?? "", endpoint: input.endpoint ?? "", input: source.spec, output, params,
      inferenceParams: { ...input.inferenceParams }, creator: actor.accessKey,
    };
    await enqueueRun(trx, actor, {
      id, kind: "batch-inference", name: input.name, description: input.description ?? "", modelVersionNum: locked.num, spec,
      ...(source.datasetVersionNum === undefined ? {} : { datasetVersionNum: source.datasetVersionNum, datasetHashes: source.hashes! }),
      placement: defaultPlacement(res.pools),
    });
  });
  return id;
}

/** A batch inference task as routes render it: its run's record, spec and outcome. */
export type BatchTaskView = WorkRunView<BatchInferenceSpec, BatchInferenceResult>;

const viewOf = (row: WorkRow): BatchTaskView => toWorkRunView(row);

const findTask = (db: Db, ref: string, field: string) => findWorkRun(db, "batch-inference", ref, field, "batch inference task");

/** One task by `infer-…` id, or NotFound naming `field`. */
export async function describeBatchTask(res: EngineResources, ref: string, field: string): Promise<BatchTaskView> {
  return viewOf(await findTask(res.db, ref, field));
}

/** A keyset page of tasks, newest first; `runStatus` (the wire's words) filters unless empty. */
export async function listBatchTasks(res: EngineResources, request: PageRequest, runStatus: readonly string[] = []): Promise<Page<BatchTaskView>> {
  let query = res.db.selectFrom("runs").selectAll().where("kind", "=", "batch-inference");
  const wanted = new Set(runStatus);
  if (wanted.size > 0) {
    query = query.where((eb) => {
      const words: ReadonlyArray<[BatchInferenceStatus, ReturnType<typeof eb.and>]> = [
        ["Queuing", eb.and([eb("status", "=", "Queued")])],
        ["Running", eb.and([eb("status", "=", "Running"), eb("cancel_requested", "=", 0)])],
        ["Stopping", eb.and([eb("status", "=", "Running"), eb("cancel_requested", "=", 1)])],
        ["Done", eb.and([eb("status", "=", "Succeeded")])],
        ["Stopped", eb.and([eb("status", "=", "Cancelled")])],
        ["Failed", eb.and([eb("status", "=", "Failed")])],
      ];
      const any = words.filter(([word]) => wanted.has(word)).map(([, cond]) => cond);
      // `Expired` alone matches nothing: Sailfin's tasks do not expire.
      return any.length === 0 ? sql<boolean>`1 = 0` : eb.or(any);
    });
  }
  const page = await keysetPage(query, request, "runs");
  return { items: page.items.map(viewOf), pageInfo: page.pageInfo };
}

/** Stops a task (queued: at once; running: the worker stops the runtime, and no result is published). */
export async function stopBatchTask(res: EngineResources, actor: Actor, ref: string, field: string): Promise<StopResult> {
  return requestStop(res.db, actor, () => findTask(res.db, ref, field), field, "batch inference task");
}
