import type { FastifyInstance, FastifyReply } from "fastify";
import { isSailfinError } from "@sailfin/contract";
import { checkDownloadSignature, describeEvalExport, type EngineResources } from "@sailfin/engine";

/**
 * Sailfin extension: the download link of a finished local evaluation-result export, as V1
 * `eval/result/export/info` and V2 `DescribeEvalResultExportTask` hand it out in `downloadUrl`:
 *
 *   GET /sailfin/v1/eval-exports/<amemt-…>/download?expires=<unix s>&signature=<HMAC>
 *
 * No bce-auth-v1 signature: the Python SDK fetches `downloadUrl` with a bare GET, so the link's
 * own signature (made by the engine's downloadQuery, valid DOWNLOAD_LINK_TTL_S) is the
 * credential. Errors are plain V2-style JSON: 403 for a bad or expired link, 404 when there is
 * nothing (any more) to download.
 */
export function registerEvalExportDownloads(app: FastifyInstance, res: EngineResources): void {
  const refuse = (reply: FastifyReply, http: number, code: string, message: string) =>
    reply.code(http).header("x-bce-request-id", reply.request.id).send({ requestId: reply.request.id, code, message });

  app.get("/sailfin/v1/eval-exports/:exportId/download", async (request, reply) => {
    const { exportId } = request.params as { exportId: string };
    const { expires, signature } = request.query as { expires?: unknown; signature?: unknown };
    if (typeof expires !== "string" || typeof signature !== "string" || !checkDownloadSignature(res, exportId, expires, signature)) {
      return refuse(reply, 403, "AccessDenied", "the download link is invalid or has expired");
    }
    // Null when deleted with its evaluation since the link was made.
    const view = await describeEvalExport(res, exportId, "exportId").catch((error: unknown) => {
      if (isSailfinError(error) && error.id === "NotFound") return null;
      throw error;
    });
    if (view === null) return refuse(reply, 404, "NotFound", "the export does not exist");
    if (view.status !== "Succeeded" || view.result === null) {
      return refuse(reply, 404, "NotFound", "the export has not finished");
    }
    const info = await res.artifacts.stat(view.result.key);
    if (info === null) return refuse(reply, 404, "NotFound", "the export's file is gone");
    reply.header("content-type", "application/zip");
    reply.header("content-disposition", `attachment; filename="${view.result.fileName.replace(/[^\w.-]/g, "_")}"`);
    reply.header("content-length", String(info.size));
    return reply.send(await res.artifacts.get(view.result.key));
  });
}
