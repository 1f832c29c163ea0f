import type { Page, PageRequest } from "@sailfin/contract";
import type { Selectable } from "kysely";
import { keysetPageWhere, type FinetuneJobTable } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import { toJobRecord, type FinetuneJobRecord } from "./records.js";

export interface ListJobsFilter {
  readonly trainMode?: string;
  readonly model?: string;
}

/**
 * One keyset page of fine-tuning jobs, newest first (oldest first with `reverse`), optionally
 * filtered by train mode and base model.
 */
export async function listJobs(res: EngineResources, filter: ListJobsFilter, request: PageRequest): Promise<Page<FinetuneJobRecord>> {
  // An empty filter value filters nothing; the listing's SQL is compiled once per shape.
  const page = await keysetPageWhere<Selectable<FinetuneJobTable>>(res.db, "finetune_jobs", {
    train_mode: filter.trainMode || undefined, model: filter.model || undefined,
  }, request);
  return { items: page.items.map(toJobRecord), pageInfo: page.pageInfo };
}
