import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { SailfinError, type UploadObjectResult } from "@sailfin/contract";
import { assertSafeBucket, assertSafeObjectPath, bucketKey, type EngineResources } from "@sailfin/engine";
import { sendV2 } from "../../render.js";
import { checkedBody } from "../body-check.js";

/**
 * Sailfin extension: streaming object upload and download into the artifact store's buckets,
 * so the CLI can place a dataset or model folder where `bos:/bucket/path` URIs find it.
 *
 *   PUT /sailfin/v1/objects/<bucket>/<object path>   body: the bytes (any content type)
 *   GET /sailfin/v1/objects/<bucket>/<object path>
 *
 * Signed with bce-auth-v1 like every console call. The body is streamed to disk (memory stays
 * flat) and published atomically; a body over the limit, or not the one a signed
 * `x-bce-content-sha256` / `Content-MD5` names, is refused and leaves nothing behind.
 */
export async function registerUploads(
  app: FastifyInstance,
  res: EngineResources,
  options: { uploadLimit: number },
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

    const locate = (request: FastifyRequest) => {
      const { bucket, "*": objectPath } = request.params as { bucket: string; "*": string };
      assertSafeBucket(bucket, "bucket");
      assertSafeObjectPath(objectPath, "objectPath");
      return { bucket, objectPath };
    };

    scope.put("/sailfin/v1/objects/:bucket/*", { config: { access: { dialect: "v2", iam: "storage:write" } } }, async (request, reply) => {
      const location = locate(request);
      const declared = Number(request.headers["content-length"] ?? "0");
      if (declared > options.uploadLimit) {
        throw new SailfinError("EntityTooLarge", { detail: `uploads are limited to ${options.uploadLimit} bytes` });
      }
      const body = request.body as Readable | undefined;
      if (body === undefined || typeof (body as Readable).pipe !== "function") {
        throw new SailfinError("InvalidParameter", { field: "body", detail: "the object bytes are required" });
      }
      const limiter = checkedBody(request.sailfin?.bodyDigest, options.uploadLimit);
      body.on("error", (error) => limiter.destroy(error));
      let stored;
      try {
        stored = await res.artifacts.put(bucketKey(location), body.pipe(limiter));
      } catch (error) {
        if (!(error instanceof SailfinError) || error.id !== "Conflict") throw error;
        throw new SailfinError("Conflict", {
          field: "objectPath",
          detail: `${location.objectPath} is a folder, or lies under an existing object, in bucket ${location.bucket}: an object cannot also be a folder`,
        });
      }
      return sendV2(reply, request.id, {
        uri: `bos:/${location.bucket}/${location.objectPath}`,
        size: stored.size,
        sha256: stored.sha256,
      } satisfies UploadObjectResult);
    });

    scope.get("/sailfin/v1/objects/:bucket/*", { config: { access: { dialect: "v2", iam: "storage:read" } } }, async (request, reply) => {
      const location = locate(request);
      const key = bucketKey(location);
      const info = await res.artifacts.stat(key);
      if (info === null) throw new SailfinError("NotFound", { field: "objectPath", detail: "no such object" });
      reply.header("content-type", "application/octet-stream");
      reply.header("content-length", String(info.size));
      return reply.send(await res.artifacts.get(key));
    });
  });
}
