import { objectRequestPath, type UploadObjectResult } from "@sailfin/contract/api";
import { CSRF_HEADER, SailfinApiError, SailfinNetworkError } from "@sailfin/sdk";

/**
 * Uploads one file into a bucket (`PUT /sailfin/v1/objects/<bucket>/<path>`) with byte progress.
 * XMLHttpRequest, not fetch: fetch reports no upload progress, and Chromium streams a request
 * body only over HTTP/2, which a self-hosted server on plain HTTP/1.1 does not speak. The
 * session cookie authenticates; the CSRF token travels in the header the server checks.
 */

export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
}

export function uploadFile(input: {
  bucket: string;
  path: string;
  file: Blob;
  csrfToken: string;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}): Promise<UploadObjectResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", objectRequestPath(input.bucket, input.path));
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.setRequestHeader(CSRF_HEADER, input.csrfToken);
    xhr.upload.addEventListener("progress", (event) => {
      input.onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : input.file.size });
    });
    xhr.addEventListener("load", () => {
      let body: { requestId?: string; result?: UploadObjectResult; code?: string; message?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // not an envelope: reported below with the status
      }
      if (xhr.status === 200 && body.result !== undefined) {
        input.onProgress?.({ loaded: input.file.size, total: input.file.size });
        resolve(body.result);
        return;
      }
      reject(new SailfinApiError({
        code: body.code ?? "InvalidResponse",
        message: body.message ?? `HTTP ${xhr.status} while uploading`,
        httpStatus: xhr.status,
        requestId: body.requestId ?? xhr.getResponseHeader("x-bce-request-id") ?? "",
      }));
    });
    xhr.addEventListener("error", () => reject(new SailfinNetworkError("the upload was interrupted", { cause: new Error("network error"), attempts: 1 })));
    xhr.addEventListener("abort", () => reject(new DOMException("upload cancelled", "AbortError")));
    input.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(input.file);
  });
}
