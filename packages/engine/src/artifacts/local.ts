import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SailfinError } from "@sailfin/contract";
import type { ArtifactStore, ObjectInfo, PutResult } from "./artifact-store.js";

/**
 * Artifacts in a local folder (`SAILFIN_HOME`). Atomic writes: data goes to a temporary file in
 * `.tmp/` on the same file system, then one `rename` publishes it.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  localPath(key: string): string {
    const path = join(this.root, ...key.split("/"));
    const rel = relative(this.root, path);
    if (rel.startsWith("..") || rel.split(sep).includes("..")) throw new Error(`artifact key escapes the root: ${key}`);
    return path;
  }

  async put(key: string, body: Readable | Buffer | string): Promise<PutResult> {
    const target = this.localPath(key);
    const tmpDir = join(this.root, ".tmp");
    await mkdir(tmpDir, { recursive: true });
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(tmpDir, `${randomBytes(8).toString("hex")}.part`);
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const source = typeof body === "string" || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
    try {
      await pipeline(source, meter, createWriteStream(tmp, { flags: "wx" }));
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    return { size, sha256: hash.digest("hex") };
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
}
