import { z } from "zod";

/**
 * OpenAI's fine-tuning jobs (`POST /v1/fine_tuning/jobs` and friends; design reference §3–§4):
 * the create body as the official SDKs send it, and the wire shapes the routes render. Every
 * hyper-parameter is a number or the literal `"auto"`; anything else is refused naming its path
 * (`method.supervised.hyperparameters.n_epochs`). Unknown keys are ignored (the SDKs may add some).
 */

const auto = z.literal("auto");
const nEpochs = z.union([auto, z.int().min(1).max(50)], { message: 'must be "auto" or an integer from 1 to 50' });
const batchSize = z.union([auto, z.int().min(1).max(256)], { message: 'must be "auto" or an integer from 1 to 256' });
const lrMultiplier = z.union([auto, z.number().gt(0).max(1_000)], { message: 'must be "auto" or a number above 0 (at most 1000)' });
const beta = z.union([auto, z.number().gt(0).max(2)], { message: 'must be "auto" or a number above 0 and at most 2' });

export const OpenAiSupervisedHyperparameters = z.object({
  n_epochs: nEpochs.optional(),
  batch_size: batchSize.optional(),
  learning_rate_multiplier: lrMultiplier.optional(),
});
export type OpenAiSupervisedHyperparameters = z.infer<typeof OpenAiSupervisedHyperparameters>;

export const OpenAiDpoHyperparameters = OpenAiSupervisedHyperparameters.extend({ beta: beta.optional() });
export type OpenAiDpoHyperparameters = z.infer<typeof OpenAiDpoHyperparameters>;

const methodOf = <T extends z.ZodType>(hyper: T) => z.object({ hyperparameters: hyper.nullable().optional() }).nullable().optional();

/** `method`: `type` required, the sub-object of that type optional; `reinforcement` passes here and is refused by the engine (`unsupported_method`). */
export const OpenAiFineTuneMethod = z.object({
  type: z.enum(["supervised", "dpo", "reinforcement"], { message: "must be supervised, dpo or reinforcement" }),
  supervised: methodOf(OpenAiSupervisedHyperparameters),
  dpo: methodOf(OpenAiDpoHyperparameters),
  reinforcement: z.unknown().optional(),
});
export type OpenAiFineTuneMethod = z.infer<typeof OpenAiFineTuneMethod>;

/** Metadata: at most 16 pairs, keys up to 64 characters, values up to 512 (OpenAI's limits). */
export const OpenAiMetadata = z.record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: "holds at most 16 pairs" });

const Integration = z.object({
  type: z.literal("wandb"),
  wandb: z.object({ project: z.string(), name: z.string().nullable().optional(), entity: z.string().nullable().optional(), tags: z.array(z.string()).optional() }),
});

export const CreateOpenAiJobBody = z.object({
  model: z.string().min(1).max(256),
  training_file: z.string().min(1).max(128),
  validation_file: z.string().min(1).max(128).nullable().optional(),
  method: OpenAiFineTuneMethod.nullable().optional(),
  /** Deprecated top-level form of `method.supervised.hyperparameters`. */
  hyperparameters: OpenAiSupervisedHyperparameters.nullable().optional(),
  suffix: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only").nullable().optional(),
  seed: z.int().min(0).max(2_147_483_647).nullable().optional(),
  integrations: z.array(Integration).max(16).nullable().optional(),
  metadata: OpenAiMetadata.nullable().optional(),
});
export type CreateOpenAiJobBody = z.infer<typeof CreateOpenAiJobBody>;

/** `after` / `limit` of the cursor lists (limit is clamped to `max` by the routes, not refused). */
export const OpenAiCursorQuery = z.object({
  after: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).optional(),
});

/** The status words of a job (OpenAI's enum plus `paused`, which its pause example returns). */
export type OpenAiJobStatus = "validating_files" | "queued" | "running" | "paused" | "succeeded" | "failed" | "cancelled";

/** Resolved hyper-parameters: every `auto` replaced by the number used. */
export interface OpenAiResolvedHyperparameters {
  readonly n_epochs: number;
  readonly batch_size: number;
  readonly learning_rate_multiplier: number;
  readonly beta?: number;
}

export interface OpenAiJobMethod {
  readonly type: "supervised" | "dpo";
  readonly supervised?: { readonly hyperparameters: OpenAiResolvedHyperparameters };
  readonly dpo?: { readonly hyperparameters: OpenAiResolvedHyperparameters };
}

/** `FineTuningJob` ([OAS]): every required key present, null where not known. */
export interface OpenAiJobObject {
  readonly object: "fine_tuning.job";
  readonly id: string;
  readonly model: string;
  readonly created_at: number;
  readonly finished_at: number | null;
  readonly fine_tuned_model: string | null;
  readonly organization_id: string;
  readonly result_files: string[];
  readonly status: OpenAiJobStatus;
  readonly training_file: string;
  readonly validation_file: string | null;
  readonly hyperparameters: OpenAiResolvedHyperparameters | null;
  readonly method: OpenAiJobMethod;
  readonly trained_tokens: number | null;
  readonly error: { readonly code: string; readonly message: string; readonly param: string | null } | null;
  readonly seed: number;
  readonly estimated_finish: number | null;
  readonly integrations: unknown[];
  readonly metadata: Record<string, string> | null;
  readonly user_provided_suffix: string | null;
}

export interface OpenAiJobEventObject {
  readonly object: "fine_tuning.job.event";
  readonly id: string;
  readonly created_at: number;
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly data: Record<string, unknown> | null;
  readonly type: "message" | "metrics";
}

export interface OpenAiCheckpointObject {
  readonly object: "fine_tuning.job.checkpoint";
  readonly id: string;
  readonly created_at: number;
  readonly fine_tuned_model_checkpoint: string;
  readonly step_number: number;
  readonly fine_tuning_job_id: string;
  readonly metrics: Record<string, number>;
}
