import { Transform, type Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Busboy, type BusboyFileStream } from "@fastify/busboy";
import {
  CreateOpenAiFileFields, ListOpenAiFilesQuery, OPENAI_FILES_PAGE, SailfinError, assertSafeText, parseWith,
} from "@sailfin/contract";
import {
  completeOpenAiUpload, deleteOpenAiFile, discardOpenAiUpload, findOpenAiFile, listOpenAiFiles, newOpenAiUpload,
  openAiFileView, type EngineResources, type PutResult,
} from "@sailfin/engine";
import { checkedBody } from "../body-check.js";

/**
 * OpenAI's Files API (reference openai-finetuning-api.md §2; docs/compatibility.md):
 *
 *   POST   /v1/files                 multipart `file` (with a filename) + `purpose` [+ expires_after[…]]
 *   GET    /v1/files                 ?purpose&limit&order&after
 *   GET    /v1/files/{file_id}
 *   DELETE /v1/files/{file_id}
 *   GET    /v1/files/{file_id}/content   the raw bytes
 *
 * In their own scope: the upload's body is a stream (never a whole file in memory) read by
 * busboy, and the `file` part goes straight into the artifact store; `purpose` may come before
 * or after it. Errors are OpenAI's envelope; an unknown id is 404 `param: "file_id"`.
 */
export async function registerOpenAiFiles(app: FastifyInstance, res: EngineResources, options: { uploadLimit: number }): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    // The SDKs expose it as the response's request id.
    scope.addHook("onSend", async (request, reply) => {
      reply.header("x-request-id", request.id);
    });
    const access = (iam: "dataset:read" | "dataset:write" | "dataset:delete") => ({ access: { dialect: "openai", iam, bearer: true } as const });
    const actorOf = (request: FastifyRequest) => ({ accessKey: request.sailfin!.caller!.accessKey });
    const fileIdOf = (request: FastifyRequest) => {
      const { file_id: id } = request.params as { file_id: string };
      return id;
    };

    scope.post("/v1/files", { config: access("dataset:write") }, async (request) => {
      const { id, objectKey } = newOpenAiUpload();
      const received = await receiveUpload(request, res, { id, objectKey }, options.uploadLimit);
      let fields: CreateOpenAiFileFields;
      try {
        fields = parseWith(CreateOpenAiFileFields, received.fields);
      } catch (error) {
        await discardOpenAiUpload(res, id);
        throw error;
      }
      const file = await completeOpenAiUpload(res, actorOf(request), {
        id, bytes: received.put.size, filename: received.filename, purpose: fields.purpose,
        expiresAfterS: fields["expires_after[seconds]"] ?? null,
      });
      return openAiFileView(file);
    });

    scope.get("/v1/files", { config: access("dataset:read") }, async (request) => {
      const query = parseWith(ListOpenAiFilesQuery, request.query ?? {});
      return listOpenAiFiles(res, { purpose: query.purpose, limit: query.limit ?? OPENAI_FILES_PAGE, order: query.order ?? "desc", after: query.after });
    });

    scope.get("/v1/files/:file_id", { config: access("dataset:read") }, async (request) =>
      openAiFileView(await findOpenAiFile(res, fileIdOf(request), "file_id")));

    scope.delete("/v1/files/:file_id", { config: access("dataset:delete") }, async (request) =>
      deleteOpenAiFile(res, actorOf(request), fileIdOf(request), "file_id"));

    // Whatever `Accept` says (the Python SDK sends application/binary): the bytes as stored.
    scope.get("/v1/files/:file_id/content", { config: access("dataset:read") }, async (request, reply) => {
      const file = await findOpenAiFile(res, fileIdOf(request), "file_id");
      const info = await res.artifacts.stat(file.objectKey);
      if (info === null) throw new SailfinError("NotFound", { field: "file_id", detail: `the content of ${file.id} is gone from the artifact store` });
      reply.header("content-type", "application/octet-stream");
      reply.header("content-length", String(info.size));
      return reply.send(await res.artifacts.get(file.objectKey));
    });
  });
}

interface ReceivedUpload {
  /** The text fields, by name (a repeated one: the last). */
  readonly fields: Record<string, string>;
  readonly filename: string;
  readonly put: PutResult;
}

const MAX_FILENAME_CHARS = 255;

/**
 * Reads the multipart body, streaming the `file` part to the upload's key. On any refusal the
 * stored bytes are removed before the error goes out. A bce-auth-v1 signed body digest is
 * checked over the whole body as it streams.
 */
async function receiveUpload(
  request: FastifyRequest, res: EngineResources, { id, objectKey }: { id: string; objectKey: string }, limit: number,
): Promise<ReceivedUpload> {
  const contentType = request.headers["content-type"] ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new SailfinError("InvalidParameter", { field: "file", detail: "the body must be multipart/form-data with a `file` part and a `purpose` field" });
  }
  if (Number(request.headers["content-length"] ?? "0") > limit + 64 * 1024) {
    throw new SailfinError("EntityTooLarge", { detail: `uploads are limited to ${limit} bytes` });
  }
  const body = request.body as Readable | undefined;
  if (body === undefined || typeof body.pipe !== "function") {
    throw new SailfinError("InvalidParameter", { field: "file", detail: "the body must be multipart/form-data with a `file` part" });
  }
  const tap = checkedBody(request.sailfin?.bodyDigest, null);

  const fields: Record<string, string> = {};
  let filename: string | null = null;
  let fileStream: BusboyFileStream | null = null;
  let stored: Promise<PutResult> | null = null;
  let refusal: SailfinError | null = null;
  let tooLarge: SailfinError | null = null;
  const refuse = (error: SailfinError) => {
    refusal ??= error;
  };
  let busboy;
  try {
    busboy = Busboy({ headers: { ...request.headers, "content-type": contentType }, limits: { files: 1, fields: 20, parts: 30, fieldSize: 64 * 1024, headerPairs: 100 } });
  } catch (error) {
    throw new SailfinError("InvalidParameter", { field: "file", detail: `the multipart body cannot be read: ${(error as Error).message}` });
  }
  const parsed = new Promise<void>((resolve, reject) => {
    busboy.on("file", (name, stream, partFilename) => {
      if (name !== "file") {
        refuse(new SailfinError("InvalidParameter", { field: name, detail: "only the `file` part may hold a file" }));
        stream.resume();
        return;
      }
      if (partFilename === "" || partFilename === undefined) {
        refuse(new SailfinError("InvalidParameter", { field: "file", detail: "the file part needs a filename" }));
        stream.resume();
        return;
      }
      filename = partFilename;
      fileStream = stream;
      let seen = 0;
      const limiter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          seen += chunk.length;
          if (seen <= limit) return callback(null, chunk);
          tooLarge = new SailfinError("EntityTooLarge", { detail: `uploads are limited to ${limit} bytes` });
          callback(tooLarge);
        },
      });
      // The store attaches its own listeners only once it starts writing: an error before that
      // (the limit, a broken body) must not be an uncaught one. The store still sees it.
      limiter.on("error", () => undefined);
      stream.on("error", (error) => limiter.destroy(error));
      stored = res.artifacts.put(objectKey, stream.pipe(limiter));
      // A store that fails (the limit, a full disk) ends the upload at once.
      stored.catch(reject);
    });
    busboy.on("field", (name, value, _nameTruncated, valueTruncated) => {
      if (valueTruncated) refuse(new SailfinError("InvalidParameter", { field: name, detail: "is longer than 65536 bytes" }));
      else fields[name] = value;
    });
    busboy.on("filesLimit", () => refuse(new SailfinError("InvalidParameter", { field: "file", detail: "one file per upload" })));
    busboy.on("fieldsLimit", () => refuse(new SailfinError("InvalidParameter", { field: "purpose", detail: "too many form fields" })));
    busboy.on("partsLimit", () => refuse(new SailfinError("InvalidParameter", { field: "file", detail: "too many form parts" })));
    busboy.on("finish", resolve);
    busboy.on("error", (error: unknown) => reject(new SailfinError("InvalidParameter", { field: "file", detail: `the multipart body cannot be read: ${(error as Error).message}` })));
    tap.on("error", reject);
    body.on("error", reject);
  });
  body.pipe(tap).pipe(busboy);
  try {
    await parsed;
    const put = await (stored ?? Promise.resolve(null));
    if (refusal !== null) throw refusal;
    if (put === null || filename === null) throw new SailfinError("InvalidParameter", { field: "file", detail: "is required: a file part with a filename" });
    const name: string = filename;
    if (name.length > MAX_FILENAME_CHARS) throw new SailfinError("InvalidParameter", { field: "file", detail: `the filename is longer than ${MAX_FILENAME_CHARS} characters` });
    assertSafeText({ file: name });
    assertSafeText(fields);
    return { fields, filename: name, put };
  } catch (error) {
    body.unpipe(tap);
    tap.unpipe(busboy);
    (fileStream as BusboyFileStream | null)?.destroy();
    await (stored as Promise<PutResult> | null)?.catch(() => undefined);
    await discardOpenAiUpload(res, id);
    throw tooLarge ?? error;
  }
}
