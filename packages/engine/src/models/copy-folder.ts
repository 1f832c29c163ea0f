import type { ArtifactStore } from "../artifacts/artifact-store.js";

/**
 * Copies the objects under `from` (a folder key ending in `/`) to `to`, one atomic put per file,
 * streaming (memory stays flat for multi-gigabyte shards). `recursive: false` copies only the
 * files directly in the folder. Returns what was copied.
 */
export async function copyFolder(
  store: ArtifactStore, from: string, to: string, options: { recursive: boolean },
): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for (const info of await store.list(from)) {
    if (!info.key.startsWith(from)) continue;
    const rel = info.key.slice(from.length);
    if (rel === "" || (!options.recursive && rel.includes("/"))) continue;
    const stored = await store.put(to + rel, await store.get(info.key));
    files.push(rel);
    bytes += stored.size;
  }
  return { files, bytes };
}
