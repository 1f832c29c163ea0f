import { sql } from "kysely";
import { SailfinError, type ErrorId, type Page, type PageRequest } from "@sailfin/contract";
import { keysetPage, type Db } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import type { ModelSummary } from "./check-model-files.js";
import { parseConfigSummary } from "./config-summary.js";
import { MODEL_SET_KIND, findSet, findSetByName, findVersion, type IdRef, type ModelVersionRow } from "./model-rows.js";
import { toModelSetRecord, toModelVersionRecord, type ModelSetRecord, type ModelVersionRecord } from "./records.js";

/**
 * Read side of the model repository: versions with their lineage resolved (the run, its job,
 * the import location), sets with their versions, and the two list styles (V2 marker pages,
 * V1 bounded page numbers). Everything returned is a record (./records.ts): dialect rendering
 * happens in the routes, which read no columns.
 */

type Lineage =
  | { readonly sourceType: "Import"; readonly bucket: string; readonly object: string }
  | {
      readonly sourceType: "Train";
      readonly step: number | null;
      readonly run: {
        readonly num: number; readonly id: string; readonly trainMode: string; readonly parameterScale: string; readonly iterationVersion: number;
      } | null;
      readonly job: { readonly num: number; readonly id: string; readonly name: string; readonly model: string } | null;
    }
  | {
      readonly sourceType: "Acceleration";
      /** The compression task; null when it was deleted. */
      readonly comp: { readonly num: number; readonly id: string; readonly name: string } | null;
      readonly source: { readonly num: number; readonly id: string } | null;
    };

export interface ModelVersionView {
  readonly version: ModelVersionRecord;
  readonly set: ModelSetRecord;
  readonly lineage: Lineage;
  /** The checked config summary (imports), or the base model's (training output); null while unknown. */
  readonly summary: ModelSummary | null;
  /**
   * The base model this version is, was trained from, or (a compression output) its source's
   * (a model set name): V2 `model`, V1 `trainType`.
   */
  readonly baseModel: string | null;
}

interface ModelSetView {
  readonly set: ModelSetRecord;
  /** Newest first. */
  readonly versions: ModelVersionView[];
}

/** Resolves lineage for a batch of versions (one query per table, not per version). */
async function viewVersions(db: Db, versions: readonly ModelVersionRow[]): Promise<ModelVersionView[]> {
  if (versions.length === 0) return [];
  const setNums = [...new Set(versions.map((v) => v.set_num))];
  const sets = new Map((await db.selectFrom("model_sets").selectAll().where("num", "in", setNums).execute()).map((s) => [s.num, s]));
  const runNums = [...new Set(versions.map((v) => v.source_run_num).filter((n): n is number => n !== null))];
  const compNums = [...new Set(versions.map((v) => v.source_comp_num).filter((n): n is number => n !== null))];
  const comps = new Map((compNums.length === 0 ? [] : await db
    .selectFrom("runs").select(["num", "id", "name", "base_model_version_num"]).where("num", "in", compNums).execute()).map((c) => [c.num, c]));
  const compSourceNums = [...new Set([...comps.values()].map((c) => c.base_model_version_num))];
  // The compressed versions, viewed (one level: a compression output is never compressed again)
  // for the base model they name.
  const compSources = new Map((compSourceNums.length === 0 ? [] : await viewVersions(db, await db
    .selectFrom("model_versions").selectAll().where("num", "in", compSourceNums).execute())).map((v) => [v.version.num, v]));
  const runs = runNums.length === 0 ? [] : await db
    .selectFrom("runs").select(["num", "id", "job_num", "train_mode", "parameter_scale"]).where("num", "in", runNums).execute();
  const jobNums = [...new Set(runs.map((r) => r.job_num))];
  const jobs = new Map((jobNums.length === 0 ? [] : await db
    .selectFrom("finetune_jobs").select(["num", "id", "name", "model"]).where("num", "in", jobNums).execute()).map((j) => [j.num, j]));
  const runInfo = new Map<number, { num: number; id: string; trainMode: string; parameterScale: string; iterationVersion: number; jobNum: number }>();
  for (const r of runs) {
    // A run's ordinal within its job (V1 `iterationVersion`): runs of the job up to and including it.
    const count = await db
      .selectFrom("runs").select((eb) => eb.fn.countAll().as("n"))
      .where("job_num", "=", r.job_num).where("kind", "=", "finetune").where("num", "<=", r.num).executeTakeFirst();
    runInfo.set(r.num, {
      num: r.num, id: r.id, trainMode: r.train_mode, parameterScale: r.parameter_scale, iterationVersion: Number(count?.n ?? 1), jobNum: r.job_num,
    });
  }
  return versions.map((version) => {
    const set = sets.get(version.set_num);
    if (set === undefined) throw new Error(`model version ${version.id} has no set ${version.set_num}`);
    let lineage: Lineage;
    let baseModel: string | null = null;
    if (version.source_type === "Import") {
      lineage = { sourceType: "Import", bucket: version.import_bucket ?? "", object: version.import_object ?? "" };
      baseModel = set.name;
    } else if (version.source_type === "Train") {
      const run = version.source_run_num === null ? undefined : runInfo.get(version.source_run_num);
      const job = run === undefined ? undefined : jobs.get(run.jobNum);
      lineage = {
        sourceType: "Train",
        step: version.source_step,
        run: run === undefined ? null : {
          num: run.num, id: run.id, trainMode: run.trainMode, parameterScale: run.parameterScale, iterationVersion: run.iterationVersion,
        },
        job: job === undefined ? null : { num: job.num, id: job.id, name: job.name, model: job.model },
      };
      baseModel = job?.model ?? null;
    } else {
      const comp = version.source_comp_num === null ? undefined : comps.get(version.source_comp_num);
      const source = comp === undefined ? undefined : compSources.get(comp.base_model_version_num);
      lineage = {
        sourceType: "Acceleration",
        comp: comp === undefined ? null : { num: comp.num, id: comp.id, name: comp.name },
        source: source === undefined ? null : { num: source.version.num, id: source.version.id },
      };
      // Qianfan's `model` of an acceleration output is the base model of the version it
      // compressed; once that lineage is gone (task or source deleted), the version's own set.
      baseModel = source?.baseModel ?? set.name;
    }
    return {
      version: toModelVersionRecord(version), set: toModelSetRecord(set), lineage, summary: parseConfigSummary(version.config_summary), baseModel,
    };
  });
}

/** One version with lineage; `missing` picks the not-found error (V1 uses ModelVersionNotFound). */
export async function describeModelVersion(res: EngineResources, ref: IdRef, field: string, missing: ErrorId = "NotFound"): Promise<ModelVersionView> {
  const row = await findVersion(res.db, ref, field, missing);
  return (await viewVersions(res.db, [row]))[0]!;
}

/**
 * Views of listed versions (their records), in the order given; a version deleted since it was
 * listed is left out.
 */
export async function describeModelVersions(res: EngineResources, versions: readonly ModelVersionRecord[]): Promise<ModelVersionView[]> {
  if (versions.length === 0) return [];
  const rows = new Map((await res.db.selectFrom("model_versions").selectAll()
    .where("num", "in", versions.map((v) => v.num)).execute()).map((row) => [row.num, row]));
  return viewVersions(res.db, versions.map((v) => rows.get(v.num)).filter((row): row is ModelVersionRow => row !== undefined));
}

/** The model set `ref` (number, digits or `am-…`) names, or NotFound naming `field`. */
export async function findModelSet(res: EngineResources, ref: IdRef, field: string): Promise<ModelSetRecord> {
  return toModelSetRecord(await findSet(res.db, ref, field));
}

/** The model set named `name`, or null. */
export async function findModelSetByName(res: EngineResources, name: string): Promise<ModelSetRecord | null> {
  const row = await findSetByName(res.db, name);
  return row === null ? null : toModelSetRecord(row);
}

/** The model version `ref` names; `missing` picks the not-found error (V1 uses ModelVersionNotFound). */
export async function findModelVersion(res: EngineResources, ref: IdRef, field: string, missing: ErrorId = "NotFound"): Promise<ModelVersionRecord> {
  return toModelVersionRecord(await findVersion(res.db, ref, field, missing));
}

/** A set with all its versions, newest first. */
export async function describeModelSet(res: EngineResources, set: ModelSetRecord): Promise<ModelSetView> {
  const rows = await res.db.selectFrom("model_versions").selectAll().where("set_num", "=", set.num).orderBy("num", "desc").execute();
  return { set, versions: await viewVersions(res.db, rows) };
}

/** Who created a set (the access key on its first event); "" when unknown. */
export async function modelSetCreator(res: EngineResources, set: ModelSetRecord): Promise<string> {
  const event = await res.db
    .selectFrom("events").select(["actor"])
    .where("object_kind", "=", MODEL_SET_KIND).where("object_id", "=", set.id)
    .orderBy("num", "asc").limit(1).executeTakeFirst();
  return event?.actor ?? "";
}

interface ModelSetListItem {
  readonly set: ModelSetRecord;
  /** The set's versions, newest first. */
  readonly versions: ModelVersionRecord[];
}

/** V2 list: one keyset page of sets (newest first) with each set's versions. */
export async function listModelSets(res: EngineResources, page: PageRequest): Promise<Page<ModelSetListItem>> {
  const sets = await keysetPage(res.db.selectFrom("model_sets").selectAll(), page, "model_sets");
  const versions = await versionsOf(res.db, sets.items.map((s) => s.num));
  return {
    items: sets.items.map((set) => ({ set: toModelSetRecord(set), versions: (versions.get(set.num) ?? []).map(toModelVersionRecord) })),
    pageInfo: sets.pageInfo,
  };
}

async function versionsOf(db: Db, setNums: number[]): Promise<Map<number, ModelVersionRow[]>> {
  const out = new Map<number, ModelVersionRow[]>();
  if (setNums.length === 0) return out;
  const rows = await db.selectFrom("model_versions").selectAll().where("set_num", "in", setNums).orderBy("num", "desc").execute();
  for (const row of rows) {
    const list = out.get(row.set_num) ?? [];
    list.push(row);
    out.set(row.set_num, list);
  }
  return out;
}

/** V1 `pageSize` bounds and the deepest row a page-number list may reach. */
const V1_MAX_PAGE_SIZE = 100;
const V1_MAX_PAGE_DEPTH = 10_000;

interface V1ListRequest {
  readonly pageNo: number;
  readonly pageSize: number;
  /** Case-insensitive substring of the name. */
  readonly nameFilter?: string;
  readonly modelTypes?: readonly string[];
  readonly order: "asc" | "desc";
}

interface V1ListItem {
  readonly set: ModelSetRecord;
  readonly versionCount: number;
  readonly latest: ModelVersionView | null;
}

/**
 * V1 `model/user/list`: page numbers without OFFSET. `pageSize` is clamped to [1, 100]; a page
 * reaching past row 10,000 is refused (naming `pageNo`), so the work per call is bounded: the
 * first `pageNo × pageSize` rows come from the index in creation order and the page is the last
 * slice. `total` is a COUNT over the same filter.
 */
export async function listModelSetsV1(res: EngineResources, request: V1ListRequest): Promise<{ total: number; items: V1ListItem[] }> {
  if (!Number.isSafeInteger(request.pageNo) || request.pageNo < 1) {
    throw new SailfinError("InvalidParameter", { field: "pageNo", detail: "must be an integer >= 1" });
  }
  const pageSize = Math.min(Math.max(Math.trunc(request.pageSize), 1), V1_MAX_PAGE_SIZE);
  const depth = request.pageNo * pageSize;
  if (depth > V1_MAX_PAGE_DEPTH) {
    throw new SailfinError("InvalidParameter", {
      field: "pageNo",
      detail: `pageNo × pageSize must be at most ${V1_MAX_PAGE_DEPTH}; narrow the list with nameFilter or use V2 DescribeCustomModelSets`,
    });
  }
  let base = res.db.selectFrom("model_sets");
  if (request.nameFilter !== undefined && request.nameFilter !== "") {
    const pattern = `%${request.nameFilter.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where(sql<boolean>`lower(name) like ${pattern} escape '\\'`);
  }
  if (request.modelTypes !== undefined && request.modelTypes.length > 0) base = base.where("model_type", "in", [...request.modelTypes]);
  const countRow = await base.select((eb) => eb.fn.countAll().as("n")).executeTakeFirst();
  const rows = await base.selectAll().orderBy("num", request.order).limit(depth).execute();
  const page = rows.slice((request.pageNo - 1) * pageSize);
  const versions = await versionsOf(res.db, page.map((s) => s.num));
  const latestRows = page.map((s) => versions.get(s.num)?.[0]).filter((v): v is ModelVersionRow => v !== undefined);
  const latest = new Map((await viewVersions(res.db, latestRows)).map((v) => [v.set.num, v]));
  return {
    total: Number(countRow?.n ?? 0),
    items: page.map((set) => ({ set: toModelSetRecord(set), versionCount: versions.get(set.num)?.length ?? 0, latest: latest.get(set.num) ?? null })),
  };
}
