import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SailfinError } from "@sailfin/contract";
import type { ArtifactStore, ObjectInfo, PutResult } from "./artifact-store.js";
import { meteredBody } from "./metered-body.js";

/** Everything under SAILFIN_HOME is its owner's only: datasets, models and secrets are not for other local users. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * A `.part` file not written to for this long is a leftover (a writer killed with -9 on another
 * host, or one whose process id was reused), swept at the next start.
 */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/** `<host>-<pid>`: the temporaries folder of one process, so a start can tell a dead writer's leftovers from a live one's work. */
const WRITER_FOLDER = /^(.+)-(\d+)$/;

/**
 * Artifacts in a local folder (`SAILFIN_HOME`). Atomic writes: data goes to a temporary file in
 * this process's own `.tmp/<host>-<pid>/` on the same file system, then one `rename` publishes
 * it. Folders are created 0700 and files 0600 whatever the umask.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly tmpDir: string;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = join(root, ".tmp", `${hostname()}-${process.pid}`);
  }

  /** A folder has no URL of its own: the server's signed download route serves it. */
  async presignedGet(): Promise<null> {
    return null;
  }

  localPath(key: string): string {
    const path = join(this.root, ...key.split("/"));
    const rel = relative(this.root, path);
    if (rel.startsWith("..") || rel.split(sep).includes("..")) throw new Error(`artifact key escapes the root: ${key}`);
    return path;
  }

  async put(key: string, body: Readable | Buffer | string): Promise<PutResult> {
    const target = this.localPath(key);
    await mkdir(this.tmpDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // A key is a file or a folder of other keys, never both: checked before the body is read.
    try {
      await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
    } catch (error) {
      if (isPathClash(error)) throw pathClash(key);
      throw error;
    }
    if ((await stat(target).catch(() => null))?.isDirectory()) throw pathClash(key);
    const tmp = join(this.tmpDir, `${randomBytes(8).toString("hex")}.part`);
    const { source, meter, result } = meteredBody(body);
    try {
      await pipeline(source, meter, createWriteStream(tmp, { flags: "wx", mode: PRIVATE_FILE_MODE }));
      // The umask can only take bits away; chmod makes 0600 exact (a looser umask never widens it).
      await chmod(tmp, PRIVATE_FILE_MODE);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      // A concurrent writer made a folder (or a file) of the path meanwhile.
      if (isPathClash(error)) throw pathClash(key);
      throw error;
    }
    return result();
  }

  async get(key: string): Promise<Readable> {
    const path = this.localPath(key);
    const info = await stat(path).catch(() => null);
    if (info === null || !info.isFile()) throw new SailfinError("NotFound", { detail: `object ${key} not found` });
    return createReadStream(path);
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const info = await stat(this.localPath(key)).catch(() => null);
    return info !== null && info.isFile() ? { key, size: info.size } : null;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const base = this.localPath(prefix.replace(/\/$/, ""));
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) {
          const info = await stat(path);
          out.push({ key: relative(this.root, path).split(sep).join("/"), size: info.size });
        }
      }
    };
    const info = await stat(base).catch(() => null);
    if (info?.isFile()) return [{ key: prefix, size: info.size }];
    if (info?.isDirectory()) await walk(base);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keyOrPrefix: string): Promise<void> {
    await rm(this.localPath(keyOrPrefix.replace(/\/$/, "")), { recursive: true, force: true });
  }

  /**
   * Removes what killed writers left in `.tmp/`: the whole folder of a process of this host that
   * is no longer alive, and any `.part` not written to for STALE_TEMPORARY_MS (other hosts sharing
   * the folder, reused process ids, the flat layout of older versions). A live writer's fresh file
   * is never touched. Returns what was removed. Called at every server and worker start.
   */
  async sweepTemporaries(now = Date.now()): Promise<{ files: number; bytes: number }> {
    const removed = { files: 0, bytes: 0 };
    const top = join(this.root, ".tmp");
    const sweep = async (dir: string, all: boolean): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          const writer = dir === top ? WRITER_FOLDER.exec(entry.name) : null;
          const dead = writer !== null && writer[1] === hostname() && !processAlive(Number(writer[2]));
          await sweep(path, all || dead);
          if (dead) await rm(path, { recursive: true, force: true });
          continue;
        }
        if (!entry.isFile() || !entry.name.endsWith(".part")) continue;
        const info = await stat(path).catch(() => null);
        if (info === null || (!all && now - info.mtimeMs < STALE_TEMPORARY_MS)) continue;
        await rm(path, { force: true });
        removed.files++;
        removed.bytes += info.size;
      }
    };
    await sweep(top, false);
    return removed;
  }
}

/** The errors of a path whose parent is a file, or whose target is a folder. */
function isPathClash(error: unknown): boolean {
  return ["EEXIST", "ENOTDIR", "EISDIR", "ENOTEMPTY"].includes((error as NodeJS.ErrnoException).code ?? "");
}

/** Conflict, detail naming the key: `put` refuses a key that clashes with a file or folder of others. */
function pathClash(key: string): SailfinError {
  return new SailfinError("Conflict", { detail: `${key} clashes with an existing object or folder: a path cannot be both` });
}

/** True when a process with this id exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
