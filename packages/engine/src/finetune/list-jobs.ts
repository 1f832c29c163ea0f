import type { Page, PageRequest } from "@sailfin/contract";
import type { Selectable } from "kysely";
import { keysetPageWhere, type FinetuneJobTable } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import type { FinetuneJobRecord } from "./records.js";

interface ListJobsFilter {
  readonly trainMode?: string;
  readonly model?: string;
}

/** What a listed job carries (V2 `jobList[]`); the full record is `findJob`'s. */
export type FinetuneJobListItem = Pick<FinetuneJobRecord, "num" | "id" | "name" | "description" | "model" | "trainMode" | "createdAt">;

/** Only the listed columns are read: each column of each row is a string made for JavaScript. */
const LIST_COLUMNS = ["num", "id", "name", "description", "model", "train_mode", "created_at"] as const;
type ListRow = Pick<Selectable<FinetuneJobTable>, (typeof LIST_COLUMNS)[number]>;

/**
 * One keyset page of fine-tuning jobs, newest first (oldest first with `reverse`), optionally
 * filtered by train mode and base model.
 */
export async function listJobs(res: EngineResources, filter: ListJobsFilter, request: PageRequest): Promise<Page<FinetuneJobListItem>> {
  // An empty filter value filters nothing; the listing's SQL is compiled once per shape.
  const page = await keysetPageWhere<ListRow>(res.db, "finetune_jobs", {
    train_mode: filter.trainMode || undefined, model: filter.model || undefined,
  }, request, LIST_COLUMNS);
  return {
    items: page.items.map((row) => ({
      num: row.num, id: row.id, name: row.name, description: row.description, model: row.model, trainMode: row.train_mode, createdAt: row.created_at,
    })),
    pageInfo: page.pageInfo,
  };
}
