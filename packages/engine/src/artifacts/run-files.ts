import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { SailfinError } from "@sailfin/contract";
import type { ArtifactStore, ObjectInfo } from "./artifact-store.js";
import { LocalArtifactStore, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, processAlive } from "./local.js";

/**
 * The artifact store as local files, for the runtime (which reads and writes files) and for the
 * tokenizer. Keys map to paths under `root` the same way on both backends (`models/amv-1/` →
 * `<root>/models/amv-1`), so a path the runtime reports turns back into its key.
 *
 * - Local folder: `root` is the store's own; `input` and `output` are the store's paths, `commit`
 *   does nothing (zero copy, as before S3).
 * - Any other store (S3): `root` is a node-local work folder (`SAILFIN_WORK_DIR`). `input` stages
 *   a key into it, `commit` uploads an output folder; nothing needs a disk shared with the server.
 *
 * Keys ending in `/` are folders; others single objects.
 */
export interface RunFiles {
  /** The local folder that mirrors artifact keys. */
  readonly root: string;
  /** True when paths are the store's own (nothing is copied). */
  readonly zeroCopy: boolean;
  /** A local path holding the object or folder `key` (staged when the store is remote; reused when already staged whole). */
  input(key: string): Promise<string>;
  /**
   * The local path of a folder the store holds whole, or null: every name in `complete` (paths
   * relative to the folder) must exist. Staged when remote.
   */
  find(key: string, complete: readonly string[]): Promise<string | null>;
  /** The local folder the runtime writes the artifact `key` into (created; not emptied). */
  output(key: string): Promise<string>;
  /**
   * Uploads the output folder (or file) `key` into the store; nothing to do on the local store.
   * Files named `manifest.json` go last, so a reader that waits for them never sees half a
   * folder (token shards); other folders are read only once a row names them (a checkpoint row,
   * a Ready version), written after `commit` returns.
   */
  commit(key: string): Promise<void>;
  /** Removes an output folder, here and in the store (what a failed attempt left, partly uploaded or not). */
  discard(key: string): Promise<void>;
  /** Deletes from the store every folder directly below `prefix` that `keep` (folder keys) does not name: pruned checkpoints. */
  keepOnly(prefix: string, keep: readonly string[]): Promise<void>;
}

/**
 * The RunFiles of a store: the store's own folder when it is local, else staging through
 * `workDir` (this node's disk).
 *
 * @example const files = runFilesFor(res.artifacts, "/var/lib/sailfin/work"); const dir = await files.input("models/amv-1/");
 */
export function runFilesFor(store: ArtifactStore, workDir: string): RunFiles {
  return store instanceof LocalArtifactStore ? new StoreFolderFiles(store) : new StagedFiles(store, workDir);
}

/** Whether `input` failed because the key is not in the store (what a run names is gone: not worth a retry). */
export function isMissingArtifact(error: unknown): error is SailfinError {
  return error instanceof SailfinError && error.id === "NotFound";
}

/** `key` as a folder key (ending in `/`): model versions and checkpoints are folders, whichever way a row spelt them. */
export function folderKey(key: string): string {
  return key.endsWith("/") ? key : `${key}/`;
}

/** Path of `key` under `root` (a trailing `/` dropped); refuses keys that leave it. */
function pathUnder(root: string, key: string): string {
  const path = join(root, ...key.replace(/\/$/, "").split("/"));
  const rel = relative(root, path);
  if (rel.startsWith("..") || rel.split(sep).includes("..")) throw new Error(`artifact key escapes the root: ${key}`);
  return path;
}

/** The local folder store: its paths are the artifacts themselves. */
class StoreFolderFiles implements RunFiles {
  readonly zeroCopy = true;
  readonly root: string;

  constructor(private readonly store: LocalArtifactStore) {
    this.root = store.root;
  }

  async input(key: string): Promise<string> {
    return this.store.localPath(key.replace(/\/$/, ""));
  }

  async find(key: string, complete: readonly string[]): Promise<string | null> {
    const dir = this.store.localPath(key.replace(/\/$/, ""));
    for (const name of complete) if ((await stat(join(dir, name)).catch(() => null)) === null) return null;
    return dir;
  }

  async output(key: string): Promise<string> {
    const dir = this.store.localPath(key.replace(/\/$/, ""));
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    return dir;
  }

  async commit(): Promise<void> {
    // The runtime wrote into the store itself.
  }

  async discard(key: string): Promise<void> {
    await this.store.delete(key);
  }

  async keepOnly(): Promise<void> {
    // The runtime deletes the checkpoint folders it prunes, which are the store's own.
  }
}

/**
 * A remote store staged through a node-local work folder. Downloads go to this process's own
 * `.staging/<host>-<pid>/` and are renamed into place whole, so a crashed download is never
 * mistaken for a staged key; a staged key is reused while its files and sizes match the store's.
 */
class StagedFiles implements RunFiles {
  readonly zeroCopy = false;
  readonly root: string;
  private readonly staging: string;
  /** Keys being staged by this process: a second run needing the same model waits for the first download. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly store: ArtifactStore, workDir: string) {
    this.root = workDir;
    this.staging = join(workDir, ".staging", `${hostname()}-${process.pid}`);
  }

  input(key: string): Promise<string> {
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const staged = this.stage(key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, staged);
    return staged;
  }

  async find(key: string, complete: readonly string[]): Promise<string | null> {
    const folder = folderKey(key);
    for (const name of complete) if ((await this.store.stat(`${folder}${name}`)) === null) return null;
    return this.input(folder);
  }

  async output(key: string): Promise<string> {
    const dir = pathUnder(this.root, key);
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    return dir;
  }

  async commit(key: string): Promise<void> {
    const path = pathUnder(this.root, key);
    if (!key.endsWith("/")) {
      await this.store.put(key, createReadStream(path));
      return;
    }
    await stat(path); // ENOENT for a folder that is not there, rather than an empty upload
    const files = await localFiles(path);
    // Manifests last (see RunFiles.commit); otherwise a stable order.
    const last = (rel: string) => (rel.split("/").at(-1) === "manifest.json" ? 1 : 0);
    const order = [...files.keys()].sort((a, b) => last(a) - last(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const rel of order) await this.store.put(`${key}${rel}`, createReadStream(join(path, ...rel.split("/"))));
  }

  async discard(key: string): Promise<void> {
    await rm(pathUnder(this.root, key), { recursive: true, force: true });
    await this.store.delete(folderKey(key));
  }

  async keepOnly(prefix: string, keep: readonly string[]): Promise<void> {
    const kept = new Set(keep.map(folderKey));
    const folders = new Set<string>();
    for (const object of await this.store.list(prefix)) {
      const name = object.key.slice(prefix.length).split("/")[0]!;
      if (object.key.slice(prefix.length).includes("/")) folders.add(`${prefix}${name}/`);
    }
    for (const folder of folders) if (!kept.has(folder)) await this.store.delete(folder);
  }

  /**
   * Removes the staging folders of this host's processes that are gone (downloads a crash cut
   * short). Called at every server and worker start.
   */
  async sweepStaging(): Promise<number> {
    const top = join(this.root, ".staging");
    let removed = 0;
    for (const name of await readdir(top).catch(() => [] as string[])) {
      const writer = /^(.+)-(\d+)$/.exec(name);
      if (writer === null || writer[1] !== hostname() || processAlive(Number(writer[2]))) continue;
      await rm(join(top, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  private async stage(key: string): Promise<string> {
    const target = pathUnder(this.root, key);
    const folder = key.endsWith("/");
    const objects = folder ? await this.store.list(key) : [await this.store.stat(key)].filter((o): o is ObjectInfo => o !== null);
    if (objects.length === 0) throw new SailfinError("NotFound", { detail: `${folder ? "folder" : "object"} ${key} is not in the artifact store` });
    const wanted = new Map(objects.map((o) => [folder ? o.key.slice(key.length) : "", o.size]));
    if (await matches(target, folder, wanted)) return target;

    await mkdir(this.staging, { recursive: true, mode: PRIVATE_DIR_MODE });
    const tmp = join(this.staging, randomBytes(8).toString("hex"));
    try {
      for (const object of objects) {
        const into = folder ? join(tmp, ...object.key.slice(key.length).split("/")) : tmp;
        await mkdir(dirname(into), { recursive: true, mode: PRIVATE_DIR_MODE });
        await pipeline(await this.store.get(object.key), createWriteStream(into, { flags: "wx", mode: PRIVATE_FILE_MODE }));
        const size = (await stat(into)).size;
        if (size !== object.size) throw new Error(`downloading ${object.key} gave ${size} bytes, the store lists ${object.size}`);
      }
      await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
      // A stale or partial copy in the way (written by something that did not stage atomically) goes aside first.
      if ((await stat(target).catch(() => null)) !== null) {
        const aside = `${tmp}.old`;
        await rename(target, aside);
        await rm(aside, { recursive: true, force: true });
      }
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      // Another process staged the same key meanwhile: its copy is as good as ours.
      if (await matches(target, folder, wanted)) return target;
      throw error;
    }
    return target;
  }
}

/** Files below `dir` (relative `/` paths) with their sizes; empty when it does not exist. */
async function localFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.set(relative(dir, path).split(sep).join("/"), (await stat(path)).size);
    }
  };
  await walk(dir);
  return out;
}

/** Whether the local copy at `path` has exactly the store's files and sizes (`""` names the single object). */
async function matches(path: string, folder: boolean, wanted: ReadonlyMap<string, number>): Promise<boolean> {
  if (!folder) {
    const info = await stat(path).catch(() => null);
    return info !== null && info.isFile() && info.size === wanted.get("");
  }
  const have = await localFiles(path);
  if (have.size !== wanted.size) return false;
  for (const [rel, size] of wanted) if (have.get(rel) !== size) return false;
  return true;
}

/** Sweeps leftover staging folders when `files` stages (a no-op on the local store). @example await sweepRunFiles(res.files) */
export async function sweepRunFiles(files: RunFiles): Promise<number> {
  return files instanceof StagedFiles ? files.sweepStaging() : 0;
}
