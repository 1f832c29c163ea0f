import type { Readable } from "node:stream";
import { pipeline } from "node:stream";
import {
  AbortMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListMultipartUploadsCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { SailfinError } from "@sailfin/contract";
import type { ArtifactStore, ObjectInfo, PutResult } from "./artifact-store.js";
import { meteredBody } from "./metered-body.js";

/**
 * Where an S3ArtifactStore keeps its objects and how it reaches the server: `SAILFIN_ARTIFACTS`
 * (`s3://bucket/prefix`) and the standard AWS variables, parsed by the server's configuration.
 */
export interface S3ArtifactSettings {
  readonly bucket: string;
  /** Prepended to every key: "" or a path ending in `/`. */
  readonly prefix: string;
  /** AWS_ENDPOINT_URL: a self-hosted server (addressed path-style); unset for AWS itself. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; unset: the SDK's default chain (profile, instance role…). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** Multipart part size in bytes (S3's minimum, 5 MiB, by default); an upload holds at most UPLOAD_QUEUE parts in memory. */
  readonly partSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Parts uploaded at once: memory per upload is about UPLOAD_QUEUE × partSize, whatever the object's size. */
const UPLOAD_QUEUE = 4;
/** A multipart upload begun longer ago than this is one whose process died (see abortStaleUploads). */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;
/** DeleteObjects takes at most 1000 keys a request. */
const DELETE_BATCH = 1000;

/**
 * Artifacts in a bucket of any S3-compatible store, through the AWS SDK v3. Bodies stream both
 * ways: `put` sends parts as they are read (multipart above one part), `get` returns the
 * response stream. `localPath` is null: the runtime cannot read these objects as files.
 *
 * Atomic publish without a temporary key: S3 makes an object visible only when its PutObject or
 * CompleteMultipartUpload succeeds, and then whole (a reader of the key sees the old object or
 * the new one). A failed upload is aborted (AbortMultipartUpload), and the parts of one whose
 * process died are invisible to `get`, `stat` and `list`; they take space until
 * `abortStaleUploads` (every start) or the bucket's AbortIncompleteMultipartUpload lifecycle rule
 * removes them. Writing under a temporary key and
 * copying would add a server-side copy of every byte for nothing.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  /** For messages: the endpoint, or AWS's own. */
  private readonly endpoint: string;

  constructor(settings: S3ArtifactSettings) {
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      // Self-hosted servers (SeaweedFS, MinIO, Ceph…) answer on one host name, not one per bucket.
      forcePathStyle: settings.endpoint !== undefined,
      ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
      // The SDK's default CRC32 trailers (aws-chunked bodies) are not understood by every
      // S3-compatible server; checksums only where the API requires them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.partSize = Math.max(settings.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.endpoint = settings.endpoint ?? `AWS (${settings.region})`;
  }

  /** Throws, naming SAILFIN_ARTIFACTS and the endpoint, when the bucket cannot be reached with these settings. */
  async checkReachable(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const status = error instanceof S3ServiceException ? ` (HTTP ${error.$metadata.httpStatusCode})` : "";
      throw new Error(`SAILFIN_ARTIFACTS s3://${this.bucket}/${this.prefix}: the bucket cannot be reached at ${this.endpoint}: ${(error as Error).name}${status} ${(error as Error).message}`.trimEnd(), { cause: error });
    }
  }

  /**
   * Aborts the multipart uploads under this store's prefix started more than `olderThanMs` ago:
   * those of processes that died mid-upload (a live upload of a model takes minutes, not a day).
   * Returns how many were aborted. Called at every server and worker start.
   */
  async abortStaleUploads(olderThanMs = STALE_UPLOAD_MS, now = Date.now()): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(new ListMultipartUploadsCommand({
        Bucket: this.bucket, Prefix: this.prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker,
      }));
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        // A server that does not say when an upload began gets none aborted: it may be a live writer's.
        if (upload.Initiated === undefined || now - upload.Initiated.getTime() < olderThanMs) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
        aborted++;
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return aborted;
  }

  localPath(): null {
    return null;
  }

  /**
   * A presigned GetObject URL (SigV4 query signature; S3 caps it at 7 days): the client
   * downloads straight from the store, not through Sailfin. The endpoint is the one Sailfin
   * reaches (AWS_ENDPOINT_URL), so it must be reachable from the client too.
   */
  async presignedGet(key: string, options: { readonly expiresInS: number; readonly fileName: string }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket, Key: this.objectName(key),
      ResponseContentDisposition: `attachment; filename="${options.fileName.replace(/[^\w.-]/g, "_")}"`,
    });
    return getSignedUrl(this.client, command, { expiresIn: Math.min(options.expiresInS, 7 * 24 * 3600) });
  }

  async put(key: string, body: Readable | Buffer | string): Promise<PutResult> {
    const name = this.objectName(key);
    await this.refuseClash(key, name);
    const { source, meter, result } = meteredBody(body);
    // A source that fails destroys the meter, which fails the upload (and aborts its parts).
    pipeline(source, meter, () => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: name, Body: meter },
      partSize: this.partSize,
      queueSize: UPLOAD_QUEUE,
    });
    try {
      await upload.done();
    } catch (error) {
      source.destroy();
      throw error;
    }
    return result();
  }

  async get(key: string): Promise<Readable> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }));
      // In Node the SDK's body is the HTTP response itself: a Readable, not yet read.
      return response.Body as Readable;
    } catch (error) {
      if (isMissing(error)) throw new SailfinError("NotFound", { detail: `object ${key} not found` });
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }));
      return { key, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const folder = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    const exact = folder === prefix ? null : await this.stat(prefix);
    if (exact !== null) return [exact];
    const out: ObjectInfo[] = [];
    for await (const object of this.objectsBelow(folder)) out.push(object);
    // ListObjectsV2 sorts by UTF-8 bytes; the local store sorts by UTF-16 code units: sort alike.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keyOrPrefix: string): Promise<void> {
    // As the local store's `rm -r`: a key names its object and everything below `key/`.
    const isFolder = keyOrPrefix === "" || keyOrPrefix.endsWith("/");
    const folder = isFolder ? keyOrPrefix : `${keyOrPrefix}/`;
    let batch: string[] = isFolder ? [] : [this.objectName(keyOrPrefix)];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const response = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }));
      const failed = response.Errors?.[0];
      if (failed !== undefined) throw new Error(`could not delete ${failed.Key}: ${failed.Code} ${failed.Message}`);
      batch = [];
    };
    for await (const object of this.objectsBelow(folder)) {
      batch.push(this.objectName(object.key));
      if (batch.length === DELETE_BATCH) await flush();
    }
    await flush();
  }

  /** Every object below `folder` ("" or ending in `/`), keys relative to the store's prefix, a page at a time. */
  private async *objectsBelow(folder: string): AsyncGenerator<ObjectInfo> {
    const prefix = this.objectName(folder);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * A key is an object or a folder of other keys, never both, as in the local store (where the
   * file system enforces it): `key/…` must not exist, nor an object at any of its parents. A
   * check before the upload, so two concurrent writers of clashing keys can still both win.
   */
  private async refuseClash(key: string, name: string): Promise<void> {
    const segments = key.split("/");
    const parents = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join("/"));
    const [below, ...parentObjects] = await Promise.all([
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${name}/`, MaxKeys: 1 })),
      ...parents.map((parent) => this.stat(parent)),
    ]);
    if ((below.KeyCount ?? 0) > 0 || parentObjects.some((info) => info !== null)) {
      throw new SailfinError("Conflict", { detail: `${key} clashes with an existing object or folder: a path cannot be both` });
    }
  }

  /**
   * The bucket key of an artifact key. Keys have passed assertSafeKey; refused here all the same
   * is anything that could leave the prefix once a server or proxy normalises the request path
   * (`.`/`..` segments, a leading `/`, backslashes, control characters).
   */
  private objectName(key: string): string {
    const body = key.endsWith("/") ? key.slice(0, -1) : key;
    // eslint-disable-next-line no-control-regex
    const unsafe = key.startsWith("/") || /[\u0000-\u001f\\]/.test(key)
      || (body !== "" && body.split("/").some((segment) => segment === "" || segment === "." || segment === ".."));
    if (unsafe) throw new Error(`artifact key escapes the root: ${key}`);
    return `${this.prefix}${key}`;
  }
}

/** NoSuchKey from GetObject, a bare 404 from HeadObject (which has no body to name the error). */
function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.name === "NotFound" || error.$metadata.httpStatusCode === 404);
}
