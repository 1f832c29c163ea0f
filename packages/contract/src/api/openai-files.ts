import { z } from "zod";

/**
 * OpenAI's Files API (`/v1/files`, issue 16; docs/compatibility.md): the multipart upload's form fields,
 * the list query, and the wire shapes. Names and enums are OpenAI's ([OAS] `CreateFileRequest`,
 * `OpenAIFile`, `ListFilesResponse`, `DeleteFileResponse`, `FileExpirationAfter`).
 */

/** The `purpose` values an upload may name. */
export const OPENAI_FILE_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] as const;
/** Result files a job writes (never uploaded). */
export const OPENAI_RESULT_PURPOSE = "fine-tune-results";
/** `expires_after[seconds]` bounds (one hour to thirty days). */
export const OPENAI_FILE_EXPIRY_S = { min: 3600, max: 2_592_000 } as const;
/** `GET /v1/files` `limit`: default and most (larger asks are clamped, as OpenAI's). */
export const OPENAI_FILES_PAGE = 10_000;

/** The multipart text fields of `POST /v1/files` (the `file` part is streamed, not parsed here). */
export const CreateOpenAiFileFields = z.object({
  purpose: z.enum(OPENAI_FILE_PURPOSES, { message: `must be one of ${OPENAI_FILE_PURPOSES.join(", ")}` }),
  "expires_after[anchor]": z.literal("created_at", { message: "must be created_at" }).optional(),
  "expires_after[seconds]": z.string().regex(/^\d{1,8}$/, { message: "must be a whole number of seconds" })
    .transform(Number)
    .refine((s) => s >= OPENAI_FILE_EXPIRY_S.min && s <= OPENAI_FILE_EXPIRY_S.max, {
      message: `must be between ${OPENAI_FILE_EXPIRY_S.min} and ${OPENAI_FILE_EXPIRY_S.max}`,
    })
    .optional(),
}).refine((f) => (f["expires_after[anchor]"] === undefined) === (f["expires_after[seconds]"] === undefined), {
  message: "expires_after needs both anchor and seconds", path: ["expires_after"],
});
export type CreateOpenAiFileFields = z.infer<typeof CreateOpenAiFileFields>;

export const ListOpenAiFilesQuery = z.object({
  purpose: z.string().max(64).optional(),
  limit: z.string().regex(/^\d{1,9}$/, { message: "must be a positive whole number" })
    .transform((s) => Math.min(Number(s), OPENAI_FILES_PAGE))
    .refine((n) => n >= 1, { message: "must be at least 1" })
    .optional(),
  order: z.enum(["asc", "desc"], { message: "must be asc or desc" }).optional(),
  after: z.string().max(256).optional(),
});
export type ListOpenAiFilesQuery = z.infer<typeof ListOpenAiFilesQuery>;

/** The File object ([OAS] `OpenAIFile`): every key present, times in Unix seconds. */
export interface OpenAiFileObject {
  readonly id: string;
  readonly object: "file";
  readonly bytes: number;
  readonly created_at: number;
  readonly expires_at: number | null;
  readonly filename: string;
  readonly purpose: string;
  readonly status: "uploaded" | "processed" | "error";
  readonly status_details: string | null;
}

export interface OpenAiFileList {
  readonly object: "list";
  readonly data: OpenAiFileObject[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

export interface OpenAiFileDeleted {
  readonly id: string;
  readonly object: "file";
  readonly deleted: true;
}
