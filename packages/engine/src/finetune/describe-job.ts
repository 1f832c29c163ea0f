import type { EngineResources } from "../resources.js";
import { findJob } from "./find.js";
import type { FinetuneJobRecord } from "./records.js";
import type { FinetuneRef } from "./refs.js";

/** One fine-tuning job; NotFound naming `field` when it does not exist. */
export async function describeJob(res: EngineResources, ref: FinetuneRef, field: string): Promise<FinetuneJobRecord> {
  return findJob(res.db, ref, field);
}
