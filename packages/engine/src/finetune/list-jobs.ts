import type { Page, PageRequest } from "@sailfin/contract";
import { keysetPage } from "@sailfin/store";
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
  let query = res.db.selectFrom("finetune_jobs").selectAll();
  if (filter.trainMode) query = query.where("train_mode", "=", filter.trainMode);
  if (filter.model) query = query.where("model", "=", filter.model);
  const page = await keysetPage(query, request, "finetune_jobs");
  return { items: page.items.map(toJobRecord), pageInfo: page.pageInfo };
}
