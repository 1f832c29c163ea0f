import type { Page, PageRequest } from "@sailfin/contract";
import { keysetPage } from "@sailfin/store";
import type { EngineResources } from "../resources.js";
import { detailsOf, findJob } from "./find.js";
import { toRunRecord, type FinetuneRunDetail } from "./records.js";
import type { FinetuneRef } from "./refs.js";

/**
 * One keyset page of a job's fine-tuning runs, newest first (oldest first with `reverse`); a
 * marker from another job's list is an InvalidMarker.
 */
export async function listRuns(res: EngineResources, jobRef: FinetuneRef, field: string, request: PageRequest): Promise<Page<FinetuneRunDetail>> {
  const job = await findJob(res.db, jobRef, field);
  const query = res.db.selectFrom("runs").selectAll().where("job_num", "=", job.num).where("kind", "=", "finetune");
  const page = await keysetPage(query, request, "runs");
  return { items: await detailsOf(res.db, job, page.items.map(toRunRecord)), pageInfo: page.pageInfo };
}
