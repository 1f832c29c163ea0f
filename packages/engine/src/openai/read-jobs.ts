import { SailfinError, type OpenAiJobObject } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";
import type { OpenAiJobRow } from "./job-state.js";
import { openAiJobView } from "./job-view.js";

/** The job a path names; PathNotFound (HTTP 404, OpenAI's "No such …") naming `field` otherwise. */
export async function findFineTuningJobRow(res: EngineResources, id: string, field = "fine_tuning_job_id"): Promise<OpenAiJobRow> {
  const row = await res.db.selectFrom("openai_jobs").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) throw new SailfinError("PathNotFound", { field, detail: `no such fine-tuning job: ${id}` });
  return row;
}

/** `GET /v1/fine_tuning/jobs/{id}`. @example await retrieveFineTuningJob(res, "ftjob-…") */
export async function retrieveFineTuningJob(res: EngineResources, id: string): Promise<OpenAiJobObject> {
  return openAiJobView(res, await findFineTuningJobRow(res, id));
}

interface ListInput {
  readonly after?: string;
  /** Clamped to 1–100 by the caller. */
  readonly limit: number;
  /** `metadata[k]=v` filters: every pair must match. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Rows read per scan while metadata filters skip rows. */
const SCAN = 200;

/**
 * `GET /v1/fine_tuning/jobs`: newest first, keyset by row number after the `after` job (an unknown
 * `after` is refused naming it), `has_more` when another match follows.
 *
 * @example await listFineTuningJobs(res, { limit: 20, metadata: { team: "a" } })
 */
export async function listFineTuningJobs(res: EngineResources, input: ListInput): Promise<{ data: OpenAiJobObject[]; hasMore: boolean }> {
  let below: number | null = null;
  if (input.after !== undefined) {
    const anchor = await res.db.selectFrom("openai_jobs").select("num").where("id", "=", input.after).executeTakeFirst();
    if (anchor === undefined) throw new SailfinError("InvalidParameter", { field: "after", detail: `no such fine-tuning job: ${input.after}` });
    below = anchor.num;
  }
  const filters = Object.entries(input.metadata);
  const matches: OpenAiJobRow[] = [];
  for (;;) {
    let query = res.db.selectFrom("openai_jobs").selectAll().orderBy("num", "desc").limit(filters.length === 0 ? input.limit + 1 : SCAN);
    if (below !== null) query = query.where("num", "<", below);
    const rows = await query.execute();
    for (const row of rows) {
      const metadata = row.metadata === null ? {} : (JSON.parse(row.metadata) as Record<string, string>);
      if (filters.every(([k, v]) => metadata[k] === v)) matches.push(row);
      if (matches.length > input.limit) break;
    }
    if (matches.length > input.limit || rows.length === 0 || filters.length === 0) break;
    below = rows.at(-1)!.num;
  }
  const page = matches.slice(0, input.limit);
  const data: OpenAiJobObject[] = [];
  for (const row of page) data.push(await openAiJobView(res, row));
  return { data, hasMore: matches.length > input.limit };
}
