import type { FastifyInstance } from "fastify";
import { SailfinError, isSailfinError } from "@sailfin/contract";
import { checkDownloadSignature, describeEvalExport, type EngineResources } from "@sailfin/engine";

/**
 * Sailfin extension: the download link of a finished local evaluation-result export, as V1
 * `eval/result/export/info` and V2 `DescribeEvalResultExportTask` hand it out in `downloadUrl`:
 *
 *   GET /sailfin/v1/eval-exports/<amemt-…>/download?expires=<unix s>&signature=<HMAC>
 *
 * No bce-auth-v1 signature: the Python SDK fetches `downloadUrl` with a bare GET, so the link's
 * own signature (made by the engine's downloadQuery, valid DOWNLOAD_LINK_TTL_S) is the
 * credential. Errors are V2's: 403 DownloadLinkInvalid for a bad or expired link, 404
 * PathNotFound when there is nothing (any more) to download.
 */
export function registerEvalExportDownloads(app: FastifyInstance, res: EngineResources): void {
  const access = { open: "the link's own signature is the credential", dialect: "v2" } as const;
  app.get("/sailfin/v1/eval-exports/:exportId/download", { config: { access } }, async (request, reply) => {
    const { exportId } = request.params as { exportId: string };
    const { expires, signature } = request.query as { expires?: unknown; signature?: unknown };
    if (typeof expires !== "string" || typeof signature !== "string" || !checkDownloadSignature(res, exportId, expires, signature)) {
      throw new SailfinError("DownloadLinkInvalid");
    }
    // Null when deleted with its evaluation since the link was made.
    const view = await describeEvalExport(res, exportId, "exportId").catch((error: unknown) => {
      if (isSailfinError(error) && error.id === "NotFound") return null;
      throw error;
    });
    if (view === null) throw new SailfinError("PathNotFound", { detail: "the export does not exist" });
    if (view.status !== "Succeeded" || view.result === null) throw new SailfinError("PathNotFound", { detail: "the export has not finished" });
    const info = await res.artifacts.stat(view.result.key);
    if (info === null) throw new SailfinError("PathNotFound", { detail: "the export's file is gone" });
    reply.header("content-type", "application/zip");
    reply.header("content-disposition", `attachment; filename="${view.result.fileName.replace(/[^\w.-]/g, "_")}"`);
    reply.header("content-length", String(info.size));
    return reply.send(await res.artifacts.get(view.result.key));
  });
}
