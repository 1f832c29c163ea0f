import type { FastifyInstance } from "fastify";
import { SailfinError } from "@sailfin/contract";
import { checkDownloadSignature, findExportFile, type EngineResources } from "@sailfin/engine";

/**
 * Sailfin extension: the download link of a finished export of any kind (evaluation results,
 * a dataset, a model) when artifacts are a local folder, as the describe calls hand it out in
 * `downloadUrl` (with S3 artifacts they hand out a presigned S3 URL instead):
 *
 *   GET /sailfin/v1/exports/<exportId>/download?expires=<unix s>&signature=<HMAC>
 *
 * No bce-auth-v1 signature: the Python SDK fetches `downloadUrl` with a bare GET, so the link's
 * own signature (engine exports/download-link.ts, valid DOWNLOAD_LINK_TTL_S) is the credential.
 * Errors are V2's: 403 DownloadLinkInvalid for a bad or expired link, 404 PathNotFound when there
 * is nothing (any more) to download.
 */
export function registerExportDownloads(app: FastifyInstance, res: EngineResources): void {
  const access = { open: "the link's own signature is the credential", dialect: "v2" } as const;
  app.get("/sailfin/v1/exports/:exportId/download", { config: { access } }, async (request, reply) => {
    const { exportId } = request.params as { exportId: string };
    const { expires, signature } = request.query as { expires?: unknown; signature?: unknown };
    if (typeof expires !== "string" || typeof signature !== "string" || !checkDownloadSignature(res, exportId, expires, signature)) {
      throw new SailfinError("DownloadLinkInvalid");
    }
    const file = await findExportFile(res, exportId);
    if (file === null) throw new SailfinError("PathNotFound", { detail: "the export does not exist, has not finished, or its file is gone" });
    reply.header("content-type", file.fileName.endsWith(".tar") ? "application/x-tar" : "application/zip");
    reply.header("content-disposition", `attachment; filename="${file.fileName.replace(/[^\w.-]/g, "_")}"`);
    reply.header("content-length", String(file.size));
    return reply.send(await res.artifacts.get(file.key));
  });
}
