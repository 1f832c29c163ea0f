import { uriEncode } from "../bce-canonical.js";

/**
 * Sailfin extension: object upload and download in the artifact store's buckets (docs/api.md),
 * so a dataset's files or a model's folder can be placed where `bos:/bucket/path` URIs find them.
 *
 *   PUT /sailfin/v1/objects/<bucket>/<object path>   body: the bytes; answers {requestId, result: UploadObjectResult}
 *   GET /sailfin/v1/objects/<bucket>/<object path>   answers the bytes
 *
 * Both are signed with bce-auth-v1 (`storage:write` / `storage:read`).
 */
export const OBJECTS_PREFIX = "/sailfin/v1/objects";

/**
 * The request path of an object, each segment percent-encoded (the server decodes them).
 *
 * @example objectRequestPath("data", "sft/train.jsonl") // "/sailfin/v1/objects/data/sft/train.jsonl"
 */
export function objectRequestPath(bucket: string, objectPath: string): string {
  const segments = objectPath.split("/").filter((segment) => segment !== "").map(uriEncode);
  return `${OBJECTS_PREFIX}/${uriEncode(bucket)}/${segments.join("/")}`;
}

/** The `bos:/bucket/path` URI dataset imports and model imports name an object by. */
export function bosUri(bucket: string, objectPath: string): string {
  return `bos:/${bucket}/${objectPath.replace(/^\/+/, "")}`;
}

export interface UploadObjectResult {
  /** `bos:/bucket/path`, what CreateImportTask `files` and CreateCustomModel `importMeta` name. */
  readonly uri: string;
  readonly size: number;
  /** Hex sha256 of the stored bytes. */
  readonly sha256: string;
}
