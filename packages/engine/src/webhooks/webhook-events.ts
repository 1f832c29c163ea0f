import {
  isFineTuningJobEventStatus, isIdOf, isPolicyName, type PolicyName, type WebhookObjectKind,
} from "@sailfin/contract";
import { MODEL_VERSION_KIND } from "../models/model-rows.js";
import { FINE_TUNING_JOB_KIND } from "../openai/job-endings.js";
import { RUN_OBJECT } from "../queue/lease.js";

/** The `event` of a delivery body, as receivers see it. */
export interface WebhookEvent {
  readonly objectKind: WebhookObjectKind;
  readonly objectId: string;
  readonly from: string | null;
  readonly to: string;
  readonly reason: string | null;
  readonly at: string;
}

/**
 * The webhook kind of an `events` row, or null when no webhook can follow it. Every unit of
 * work logs as object kind `run`; its id prefix says which (the row may be deleted by now, the
 * id stays). Publish runs are left out: their model version's own events say the same. An
 * OpenAI job is followed only to the statuses OpenAI sends webhooks for (succeeded, failed,
 * cancelled); its run's own events go to `task` webhooks as any run's.
 *
 * @example webhookKindOf("run", "amva-0a1b2c3d4e5f", "Running") // "compression"
 */
export function webhookKindOf(objectKind: string, objectId: string, toState: string): WebhookObjectKind | null {
  if (objectKind === MODEL_VERSION_KIND) return "model_version";
  if (objectKind === FINE_TUNING_JOB_KIND) return isIdOf("fineTuningJob", objectId) && isFineTuningJobEventStatus(toState) ? "fine_tuning_job" : null;
  if (objectKind !== RUN_OBJECT) return null;
  if (isIdOf("task", objectId)) return "task";
  if (isIdOf("compTask", objectId)) return "compression";
  if (isIdOf("evalExport", objectId)) return "export";
  if (isIdOf("eval", objectId)) return "evaluation";
  return null;
}

/** An `events` row as a delivery's `event` (null when no webhook follows its kind). */
export function webhookEventOf(row: {
  object_kind: string; object_id: string; from_state: string | null; to_state: string; reason: string | null; at: string;
}): WebhookEvent | null {
  const objectKind = webhookKindOf(row.object_kind, row.object_id, row.to_state);
  if (objectKind === null) return null;
  return { objectKind, objectId: row.object_id, from: row.from_state, to: row.to_state, reason: row.reason, at: row.at };
}

/** A stored JSON list of policy names (unknown names dropped, as access-keys.ts does). */
export function parsePolicyList(text: string): PolicyName[] {
  const list = JSON.parse(text) as unknown;
  return Array.isArray(list) ? list.filter((name): name is PolicyName => typeof name === "string" && isPolicyName(name)) : [];
}
