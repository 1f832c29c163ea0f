import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { tarStream } from "../artifacts/tar-stream.js";
import { findVersion, versionFilesKey } from "../models/model-rows.js";
import type { Lease } from "../queue/lease.js";
import type { EngineResources } from "../resources.js";
import { failed, type RunOutcome } from "../runs/outcome.js";
import type { ModelExportResult, ModelExportSpec } from "./model-exports.js";
import { ExportLeaseLost, counted, progressMeter } from "./progress.js";

/**
 * One attempt of a `model-export` run: every file of the version's folder, in one uncompressed
 * tar under a top folder named for the version (`amv-…/config.json`, `amv-…/model.safetensors`…),
 * streamed from the store back into it with its MD5 computed on the way. Tar rather than zip:
 * the sizes are listed before a byte is read, so the files stream once with no 4 GiB limit
 * (shards of a 7B model pass it; our zip writer has no zip64), and safetensors do not compress
 * enough to pay for deflate; `tar -xf` and Python's `tarfile` unpack it wherever models are
 * served.
 *
 * @example const outcome = await executeModelExport(res, lease, signal, spec);
 */
export async function executeModelExport(res: EngineResources, lease: Lease, signal: AbortSignal, spec: ModelExportSpec): Promise<RunOutcome> {
  let folder: string;
  let setName: string;
  let versionNumber: number;
  try {
    const version = await findVersion(res.db, spec.versionNum, "modelId");
    folder = versionFilesKey({ id: version.id, artifactPath: version.artifact_path });
    const set = await res.db.selectFrom("model_sets").select("name").where("num", "=", version.set_num).executeTakeFirst();
    setName = set?.name ?? version.id;
    versionNumber = Number(version.version);
  } catch {
    return failed("user", `model version ${spec.versionId} was deleted`);
  }
  const prefix = folder.endsWith("/") ? folder : `${folder}/`;
  const files = await res.artifacts.list(prefix);
  if (files.length === 0) return failed("user", `model version ${spec.versionId} has no files`);
  const base = `${setName.replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 60) || spec.versionId}_V${versionNumber}`;
  const fileName = `${base}_${Date.now()}.tar`;
  const key = spec.bucket === null ? `exports/${lease.runId}/${fileName}` : `buckets/${spec.bucket}/${spec.folder}${fileName}`;
  const storagePath = spec.bucket === null ? `/${key}` : `bos:/${spec.bucket}/${spec.folder}${fileName}`;
  const meter = progressMeter(res, lease, files.reduce((n, f) => n + f.size, 0));
  const md5 = createHash("md5");
  try {
    const tar = tarStream(files.map((file) => ({
      name: `${spec.versionId}/${file.key.slice(prefix.length)}`, size: file.size,
      open: async () => counted(await res.artifacts.get(file.key), meter, signal),
    })));
    const hashed = Readable.from((async function* () {
      for await (const chunk of tar as AsyncIterable<Buffer>) {
        md5.update(chunk);
        yield chunk;
      }
    })());
    const put = await res.artifacts.put(key, hashed);
    const result: ModelExportResult = { key, fileName, fileType: "tar", md5: md5.digest("hex"), bytes: put.size, files: files.length, storagePath };
    return { kind: "done", reason: `exported ${files.length} files to ${storagePath}`, result };
  } catch (error) {
    if (meter.lost || error instanceof ExportLeaseLost) return { kind: "lost" };
    if (signal.aborted) return failed("system", "the export was interrupted");
    res.log.error({ err: error, exportTask: lease.runId }, "model export failed");
    return failed("system", `the export could not be written: ${(error as Error).message}`);
  }
}
