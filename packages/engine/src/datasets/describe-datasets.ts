import { SailfinError, type PageRequest, type Page, type V1Id } from "@sailfin/contract";
import { keysetPage } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import {
  findDatasetGroup, findDatasetVersion, toGroupRecord, toImportTaskRecord, toVersionRecord, toVersionView,
  type DatasetGroupRecord, type DatasetImportTaskRecord, type DatasetVersionRecord, type DatasetVersionView,
} from "./records.js";

/** A group with its version count and newest version number (list rows). */
interface DatasetGroupSummary {
  readonly group: DatasetGroupRecord;
  readonly versionCount: number;
  readonly latestVersion: number;
}

/**
 * One keyset page of datasets (groups), newest first, optionally filtered by exact name or
 * internal format.
 *
 * @example const page = await listDatasets(res, pageRequest(body), { format: "Messages" });
 */
export async function listDatasets(
  res: EngineResources,
  request: PageRequest,
  filter: { readonly name?: string; readonly format?: string } = {},
): Promise<Page<DatasetGroupSummary>> {
  let query = res.db.selectFrom("dataset_groups").selectAll();
  if (filter.name !== undefined) query = query.where("name", "=", filter.name);
  if (filter.format !== undefined) query = query.where("data_format", "=", filter.format);
  const page = await keysetPage(query, request, "dataset_groups");
  const nums = page.items.map((g) => g.num);
  // One aggregate for the whole page instead of a query per row.
  const counts = nums.length === 0 ? [] : await res.db.selectFrom("dataset_versions")
    .select((eb) => ["group_num", eb.fn.countAll().as("count"), eb.fn.max("version").as("top")])
    .where("group_num", "in", nums).groupBy("group_num").execute();
  const byGroup = new Map(counts.map((c) => [Number(c.group_num), { count: Number(c.count), top: Number(c.top) }]));
  return {
    pageInfo: page.pageInfo,
    items: page.items.map((group) => ({ group: toGroupRecord(group), versionCount: byGroup.get(group.num)?.count ?? 0, latestVersion: byGroup.get(group.num)?.top ?? 0 })),
  };
}

/** One keyset page of a dataset's versions, newest first. */
export async function listDatasetVersions(
  res: EngineResources,
  datasetId: string,
  field: string,
  request: PageRequest,
): Promise<{ group: DatasetGroupRecord; page: Page<DatasetVersionRecord> }> {
  const group = await findDatasetGroup(res.db, datasetId, field);
  const page = await keysetPage(res.db.selectFrom("dataset_versions").selectAll().where("group_num", "=", group.num), request, "dataset_versions");
  return { group: toGroupRecord(group), page: { items: page.items.map(toVersionRecord), pageInfo: page.pageInfo } };
}

/** A version and its group (V1 `info`, V2 `DescribeDatasetVersion`). */
export async function describeDatasetVersion(res: EngineResources, ref: V1Id, field: string): Promise<DatasetVersionView> {
  return toVersionView(await findDatasetVersion(res.db, ref, field));
}

/**
 * Several versions at once (V1 `statusList`), in request order; an unknown id is NotFound
 * naming its position (`datasetIds[2]`).
 */
export async function describeDatasetVersions(res: EngineResources, refs: readonly V1Id[], field: string): Promise<DatasetVersionView[]> {
  const out: DatasetVersionView[] = [];
  for (const [i, ref] of refs.entries()) out.push(toVersionView(await findDatasetVersion(res.db, ref, `${field}[${i}]`)));
  return out;
}

/** An import task with the version it fills. */
export async function describeImportTask(res: EngineResources, taskId: string, field: string): Promise<{ task: DatasetImportTaskRecord } & DatasetVersionView> {
  const task = await res.db.selectFrom("dataset_imports").selectAll().where("id", "=", taskId).executeTakeFirst();
  if (task === undefined) throw new SailfinError("NotFound", { field, detail: `import task ${taskId} does not exist` });
  const detail = await findDatasetVersion(res.db, task.version_num, field).catch(() => {
    throw new SailfinError("NotFound", { field, detail: `the dataset version of import task ${taskId} was deleted` });
  });
  return { task: toImportTaskRecord(task), ...toVersionView(detail) };
}
