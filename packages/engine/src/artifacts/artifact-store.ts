import type { Readable } from "node:stream";

/**
 * Where datasets, model files, checkpoints and exports live. Keys are `/`-separated relative
 * paths (`buckets/<bucket>/<object>`, `datasets/<versionId>/data.jsonl`, `models/<versionId>/…`)
 * that have already passed `assertSafeKey`. Writes are atomic: a reader sees the old object or
 * the whole new one, never half.
 */
export interface ArtifactStore {
  put(key: string, body: Readable | Buffer | string): Promise<PutResult>;
  get(key: string): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | null>;
  /** Every object key below `prefix` (recursive), sorted. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Deletes an object or everything below a prefix ending in `/`. */
  delete(keyOrPrefix: string): Promise<void>;
  /** A path on this machine when the backend is a local folder (the runtime reads files directly). */
  localPath(key: string): string | null;
  /**
   * A URL that GETs the object with no other credential, valid `expiresInS` (an S3 presigned
   * URL, downloaded as `fileName`), or null when the backend has none (a local folder: the
   * server hands out its own signed link instead, exports/download-link.ts).
   */
  presignedGet(key: string, options: { readonly expiresInS: number; readonly fileName: string }): Promise<string | null>;
}

export interface PutResult {
  readonly size: number;
  readonly sha256: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}
