import type { z } from "zod";
import type { PageInfo } from "../pagination.js";

/**
 * The envelopes and the marker page shape every V2 list shares (reference §1.2–1.4), as the
 * SDK reads them. The server renders them in apps/server/src/render.ts.
 */
export type { PageInfo } from "../pagination.js";

/** The optional marker pagination fields of a V2 list body (`PageFields` in validate.ts). */
export interface PageQuery {
  readonly marker?: string;
  readonly maxKeys?: number;
  readonly pageReverse?: boolean;
}

/** A V2 list result: its item array under an action-specific key, and `pageInfo`. */
export interface MarkerPage {
  readonly pageInfo: PageInfo;
}

/** V2 success: `result` may be an object, array, string, boolean, or absent (CancelModelCompTask). */
export interface V2Success<T> {
  readonly requestId: string;
  readonly result?: T;
}

/** V2 error (HTTP >= 400), also what the gateway answers on a V1 route for authentication failures. */
export interface V2ErrorBody {
  readonly requestId: string;
  readonly code: string;
  readonly message: string;
}

/** V1 success; the dataset family adds `status: 200, success: true`. */
export interface V1Success<T> {
  readonly log_id: string;
  readonly result: T;
}

/** V1 business error: HTTP 200 with `error_code` (reference §1.2). */
export interface V1ErrorBody {
  readonly log_id: string;
  readonly error_code: number;
  readonly error_msg: string;
}


/**
 * What a client may send for a body schema: zod's input type (before defaults and transforms),
 * so the SDK's parameter types are the server's validation schemas, not a second copy.
 *
 * @example type CreateDatasetInput = BodyInput<typeof CreateDatasetBody>;
 */
export type BodyInput<S extends z.ZodType> = z.input<S>;
