import type { RunKind } from "@sailfin/contract";
import type { EngineResources } from "../resources.js";

/**
 * Download links of finished exports, one scheme for every export kind (evaluation results,
 * datasets, models). Qianfan's clients fetch `downloadUrl` with a bare GET (the Python SDK's
 * dataset download sends no auth header), so the link carries its own credential:
 * - S3 artifacts: a presigned GetObject URL; the bytes come straight from the store.
 * - A local folder: `<base>/sailfin/v1/exports/<exportId>/download?expires=…&signature=…`, an
 *   HMAC of the id and the expiry under the server's secret, served by one route
 *   (apps/server/src/routes/ext/export-downloads.ts).
 * Both expire after DOWNLOAD_LINK_TTL_S; a link is made each time a describe call renders one.
 */

/** The run kinds whose finished result is a file to download: `result.key` and `result.fileName` (a batch inference task's answers too). */
const EXPORT_KINDS = ["eval-export", "dataset-export", "model-export", "batch-inference"] as const satisfies readonly RunKind[];

/** How long a download link stays valid. */
const DOWNLOAD_LINK_TTL_S = 3600;
const LINK_PURPOSE = "export-download";

/** The file a finished export wrote. */
interface ExportFile {
  /** Artifact key. */
  readonly key: string;
  /** The name a download saves it as. */
  readonly fileName: string;
}

/**
 * A credential-free link to a finished export's file: presigned by the store when it can,
 * else the server's own signed route under `baseUrl` (how the client reached the server).
 *
 * @example const url = await exportDownloadUrl(res, "http://127.0.0.1:8080", "task-…", { key: "exports/task-…/a.zip", fileName: "a.zip" });
 */
export async function exportDownloadUrl(res: EngineResources, baseUrl: string, exportId: string, file: ExportFile, now = Date.now()): Promise<string> {
  const presigned = await res.artifacts.presignedGet(file.key, { expiresInS: DOWNLOAD_LINK_TTL_S, fileName: file.fileName });
  return presigned ?? `${baseUrl}/sailfin/v1/exports/${encodeURIComponent(exportId)}/download?${downloadQuery(res, exportId, now)}`;
}

/**
 * The query string of a signed local link, valid DOWNLOAD_LINK_TTL_S from `now`:
 * `expires=<unix s>&signature=<HMAC of id and expiry>`.
 *
 * @example fetch(`${base}/sailfin/v1/exports/${id}/download?${downloadQuery(res, id)}`)
 */
export function downloadQuery(res: EngineResources, exportId: string, now = Date.now()): string {
  const expires = Math.floor(now / 1000) + DOWNLOAD_LINK_TTL_S;
  return `expires=${expires}&signature=${res.secrets.mac(LINK_PURPOSE, `${exportId}:${expires}`)}`;
}

/** True when `signature` was made by downloadQuery for this export and has not expired. */
export function checkDownloadSignature(res: EngineResources, exportId: string, expires: string, signature: string, now = Date.now()): boolean {
  if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 < now) return false;
  return res.secrets.verifyMac(LINK_PURPOSE, `${exportId}:${expires}`, signature);
}

/**
 * The file of a finished export of any kind, or null: no such export (deleted since the link was
 * made), not finished, or its file gone. What the signed route serves.
 */
export async function findExportFile(res: EngineResources, exportId: string): Promise<(ExportFile & { readonly size: number }) | null> {
  const row = await res.db.selectFrom("runs").select(["status", "result"]).where("id", "=", exportId)
    .where("kind", "in", [...EXPORT_KINDS]).executeTakeFirst();
  if (row === undefined || row.status !== "Succeeded" || row.result === null) return null;
  const result = JSON.parse(row.result) as Partial<ExportFile>;
  if (typeof result.key !== "string" || typeof result.fileName !== "string") return null;
  const info = await res.artifacts.stat(result.key);
  return info === null ? null : { key: result.key, fileName: result.fileName, size: info.size };
}
