/**
 * `@sailfin/sdk`: the typed client of the Sailfin API, for Node 20+ and browsers. See README.md.
 */
export { SailfinClient, type SailfinClientOptions, type SessionTarget, type SignInInput } from "./client.js";
// Values a page needs next to the client (an XHR upload sets the CSRF header itself).
export { CSRF_HEADER, SESSION_COOKIE, SESSION_PATH, grantedActions } from "@sailfin/contract/api";
export { SailfinApiError, SailfinNetworkError, isSailfinApiError } from "./errors.js";
export { Paginated } from "./paginate.js";
export { RETRYABLE_V1_CODES, RETRYABLE_V2_CODES, REFUSED_V1_CODES, backoffDelay, isIdempotentAction, shouldRetry, type Failure } from "./retry.js";
export { hmacSha256Hex, sha256Hex, signRequestAsync } from "./signer.js";
export type {
  CallOptions, ClientBaseOptions, DownloadStream, DownloadedFile, FetchInit, FetchLike, FetchResponse, KeyAuthOptions, RawCallOptions, SessionAuthOptions,
  BearerToken, SessionCredentials, TransportOptions, UploadBody,
} from "./transport.js";
export type { Chat, ChatCompletion, ChatCompletionInput, ChatMessage, ChatStreamEvent, ChatUsage } from "./resources/chat.js";
export type { Compression } from "./resources/compression.js";
export type { Datasets } from "./resources/datasets.js";
export type { Evaluations } from "./resources/evaluations.js";
export type { Exports } from "./resources/exports.js";
export type { Jobs, ListJobsInput } from "./resources/jobs.js";
export type { Keys } from "./resources/keys.js";
export type { Models } from "./resources/models.js";
export type { Services } from "./resources/services.js";
export type { ListTasksInput, Tasks } from "./resources/tasks.js";
// The wire types, so a consumer needs one import: `import type { FineTuningTaskDetail } from "@sailfin/sdk"`.
export type * from "@sailfin/contract/api";
