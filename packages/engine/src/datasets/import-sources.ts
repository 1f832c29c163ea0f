import { SailfinError } from "@sailfin/contract";
import { bucketKey, parseBucketUri } from "../artifacts/keys.js";
import type { EngineResources } from "../resources.js";

/** One object an import reads: its artifact key, the URI it came from, and its size. */
export interface ImportSource {
  readonly key: string;
  /** `bos:/bucket/path` of this object (what error reports name as `file`). */
  readonly uri: string;
  readonly size: number;
}

/** Files picked from a folder: JSONL, and `.json` holding one JSON value per line too. */
const DATA_FILE = /\.(jsonl|json)$/i;

/**
 * Resolves import URIs (`bos:/bucket/file.jsonl`, or a folder: every `*.jsonl`/`*.json` below
 * it, sorted) to artifact-store objects. Path traversal is refused by `parseBucketUri`; a URI
 * that finds nothing is NotFound. Errors name `files[i]` (or the given field names).
 *
 * @example await resolveImportSources(res, ["bos:/uploads/train/"], (i) => `files[${i}]`)
 */
export async function resolveImportSources(
  res: EngineResources,
  uris: readonly string[],
  fieldOf: (index: number) => string,
): Promise<ImportSource[]> {
  // Every URI's syntax first: a traversal attempt is refused even when an earlier file is missing.
  const locations = uris.map((uri, index) => parseBucketUri(uri, fieldOf(index)));
  const out: ImportSource[] = [];
  for (const [index, uri] of uris.entries()) {
    const field = fieldOf(index);
    const location = locations[index]!;
    const key = bucketKey(location);
    const prefix = `buckets/${location.bucket}/`;
    const single = location.objectPath.endsWith("/") || location.objectPath === "" ? null : await res.artifacts.stat(key);
    if (single !== null) {
      out.push({ key, uri: `bos:/${location.bucket}/${location.objectPath}`, size: single.size });
      continue;
    }
    const folder = location.objectPath === "" || location.objectPath.endsWith("/") ? key : `${key}/`;
    const found = (await res.artifacts.list(folder)).filter((o) => DATA_FILE.test(o.key));
    if (found.length === 0) {
      throw new SailfinError("NotFound", {
        field, detail: `${uri} is neither an object nor a folder holding .jsonl or .json files`,
      });
    }
    for (const o of found) out.push({ key: o.key, uri: `bos:/${location.bucket}/${o.key.slice(prefix.length)}`, size: o.size });
  }
  return out;
}
