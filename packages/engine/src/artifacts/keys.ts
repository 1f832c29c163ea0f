import { SailfinError } from "@sailfin/contract";

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Rejects anything that could escape the artifact root: `..` and `.` segments, empty segments,
 * backslashes, NUL and other control characters, absolute paths. `field` names the request
 * field for the error.
 */
export function assertSafeObjectPath(path: string, field: string, options: { allowDirectory?: boolean } = {}): void {
  const fail = (detail: string): never => {
    throw new SailfinError("InvalidParameter", { field, detail });
  };
  if (path === "") fail("object path is empty");
  if (path.length > 1024) fail("object path is longer than 1024 characters");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(path)) fail("object path contains a control character or a backslash");
  if (path.startsWith("/")) fail("object path must be relative to the bucket");
  const body = options.allowDirectory && path.endsWith("/") ? path.slice(0, -1) : path;
  for (const segment of body.split("/")) {
    if (segment === "" || segment === "." || segment === "..") fail(`object path segment "${segment}" is not allowed`);
  }
}

export function assertSafeBucket(bucket: string, field: string): void {
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new SailfinError("InvalidParameter", { field, detail: "bucket names are 1-63 characters of [a-z0-9._-]" });
  }
}

interface BucketLocation {
  readonly bucket: string;
  /** Object path inside the bucket; ends in `/` for a folder. */
  readonly objectPath: string;
}

/**
 * Parses a user-facing storage URI: `bos:/bucket/path`, `bos://bucket/path` or `s3://bucket/path`.
 *
 * @example parseBucketUri("bos:/demo/data/train.jsonl", "files[0]") // { bucket: "demo", objectPath: "data/train.jsonl" }
 */
export function parseBucketUri(uri: string, field: string): BucketLocation {
  const match = /^(?:bos:\/\/?|s3:\/\/)([^/]+)\/(.*)$/.exec(uri);
  if (match === null) {
    throw new SailfinError("InvalidParameter", { field, detail: "expected bos:/bucket/path or s3://bucket/path" });
  }
  const [, bucket, objectPath] = match as unknown as [string, string, string];
  assertSafeBucket(bucket, field);
  assertSafeObjectPath(objectPath, field, { allowDirectory: true });
  return { bucket, objectPath };
}

/** The artifact key of an object in a user bucket. */
export function bucketKey(location: BucketLocation): string {
  return `buckets/${location.bucket}/${location.objectPath}`;
}
