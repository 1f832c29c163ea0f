import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { LocalArtifactStore, S3ArtifactStore, isMissingArtifact, runFilesFor, sweepRunFiles } from "@sailfin/engine";
import { loadServerConfig } from "@sailfin/server";
import { startS3Server, type S3TestServer } from "./fixtures/s3-server.js";

/**
 * RunFiles, the artifact store as local files for runs: zero copy on the local folder; on S3
 * (a real SeaweedFS server) staged into a work folder, reused while complete, never from a
 * half-written download, and committed back. Also the S3 store's sweep of abandoned multipart uploads.
 */

let s3: S3TestServer;
let scratch: string;
before(async () => {
  s3 = await startS3Server();
  scratch = await mkdtemp(join(tmpdir(), "sailfin-run-files-"));
});
after(async () => {
  await s3?.close(0);
  await rm(scratch, { recursive: true, force: true });
});

function s3Store(prefix: string): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket: s3.bucket, prefix: `${prefix}/`, endpoint: s3.endpoint, region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

/** Every file below `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string, rel: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(at, entry.name), `${rel}${entry.name}/`);
      else out.push(`${rel}${entry.name}`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

describe("run files on the local store", () => {
  test("the work folder is SAILFIN_WORK_DIR, else <home>/work", () => {
    assert.equal(loadServerConfig({ flags: { home: "/srv/sf" }, env: {} }).workDir, "/srv/sf/work");
    assert.equal(loadServerConfig({ flags: { home: "/srv/sf" }, env: { SAILFIN_WORK_DIR: "/scratch/sf" } }).workDir, "/scratch/sf");
  });

  test("zero copy: inputs and outputs are the store's own paths; commit and keepOnly leave it as it is", async () => {
    const root = join(scratch, "local-home");
    const store = new LocalArtifactStore(root);
    await store.put("models/amv-1/config.json", "{}");
    const files = runFilesFor(store, join(scratch, "local-work"));
    assert.equal(files.zeroCopy, true);
    assert.equal(files.root, root);
    assert.equal(await files.input("models/amv-1/"), join(root, "models/amv-1"));
    assert.equal(await files.input("models/amv-1/config.json"), join(root, "models/amv-1/config.json"));
    const out = await files.output("runs/r-1/");
    assert.equal(out, join(root, "runs/r-1"));
    await mkdir(join(out, "checkpoints/step_000001"), { recursive: true });
    await writeFile(join(out, "checkpoints/step_000001/w.bin"), "w");
    await files.commit("runs/r-1/checkpoints/step_000001/");
    await files.keepOnly("runs/r-1/checkpoints/", []);
    assert.deepEqual((await store.list("runs/r-1/")).map((o) => o.key), ["runs/r-1/checkpoints/step_000001/w.bin"]);
    assert.equal(await files.find("runs/r-1/", ["nope.json"]), null);
    assert.equal(await files.find("models/amv-1/", ["config.json"]), join(root, "models/amv-1"));
    assert.equal((await tree(join(scratch, "local-work"))).length, 0, "the work folder is not used");
    await files.discard("runs/r-1/");
    assert.deepEqual(await store.list("runs/r-1/"), []);
  });
});

describe("run files on S3 (SeaweedFS)", () => {
  test("input stages a folder and an object into the work folder, mirroring keys; a second input reuses them", async () => {
    const store = s3Store("stage");
    await store.put("models/amv-1/config.json", '{"a":1}');
    await store.put("models/amv-1/sub/weights.bin", Buffer.alloc(1000, 7));
    await store.put("datasets/ds-1/data.jsonl", "line\n");
    const work = join(scratch, "stage-work");
    const files = runFilesFor(store, work);
    assert.equal(files.zeroCopy, false);
    assert.equal(files.root, work);
    const dir = await files.input("models/amv-1/");
    assert.equal(dir, join(work, "models/amv-1"));
    assert.deepEqual(await tree(dir), ["config.json", "sub/weights.bin"]);
    assert.equal((await readFile(join(dir, "sub/weights.bin"))).length, 1000);
    const file = await files.input("datasets/ds-1/data.jsonl");
    assert.equal(await readFile(file, "utf8"), "line\n");

    // Reused: the same inode (no new download) while files and sizes match the store's listing.
    const before = (await stat(join(dir, "config.json"))).ino;
    assert.equal(await files.input("models/amv-1/"), dir);
    assert.equal((await stat(join(dir, "config.json"))).ino, before);
    // Two runs at once share one download.
    const [x, y] = await Promise.all([files.input("models/amv-1/"), files.input("models/amv-1/")]);
    assert.equal(x, y);
    // Nothing is left in the staging folder.
    assert.deepEqual(await tree(join(work, ".staging")), []);
  });

  test("a partial copy is never used: a truncated file or a missing one is downloaded again; a dead process's staging is swept", async () => {
    const store = s3Store("partial");
    await store.put("models/amv-2/a.bin", Buffer.alloc(4096, 1));
    await store.put("models/amv-2/b.bin", Buffer.alloc(10, 2));
    const work = join(scratch, "partial-work");
    const files = runFilesFor(store, work);
    // What a writer that did not stage atomically would leave: a short file, and one missing.
    await mkdir(join(work, "models/amv-2"), { recursive: true });
    await writeFile(join(work, "models/amv-2/a.bin"), Buffer.alloc(100, 1));
    const dir = await files.input("models/amv-2/");
    assert.deepEqual(await tree(dir), ["a.bin", "b.bin"]);
    assert.equal((await stat(join(dir, "a.bin"))).size, 4096);
    // A crashed download's leftovers (a dead process's staging folder) go at the next start, a live one's stay.
    const dead = join(work, ".staging", `${(await import("node:os")).hostname()}-999999999`);
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, "half"), "x");
    assert.equal(await sweepRunFiles(files), 1);
    assert.equal((await stat(dead).catch(() => null)), null);
    // A key that is not in the store is a NotFound the kinds report as the user's.
    await assert.rejects(files.input("models/nope/"), (error: unknown) => isMissingArtifact(error) && /models\/nope\//.test((error as Error).message));
  });

  test("commit uploads an output folder (manifests last); find sees it once complete; keepOnly and discard delete from the store", async () => {
    const store = s3Store("commit");
    const work = join(scratch, "commit-work");
    const files = runFilesFor(store, work);
    const out = await files.output("token-cache/k1/");
    assert.equal(out, join(work, "token-cache/k1"));
    await mkdir(join(out, "train"), { recursive: true });
    await writeFile(join(out, "train/shard-0.bin"), Buffer.alloc(64, 3));
    await writeFile(join(out, "train/manifest.json"), "{}");
    assert.equal(await files.find("token-cache/k1/", ["train/manifest.json"]), null, "not committed yet");
    await files.commit("token-cache/k1/");
    assert.deepEqual((await store.list("token-cache/k1/")).map((o) => o.key), ["token-cache/k1/train/manifest.json", "token-cache/k1/train/shard-0.bin"]);
    // Another node (its own work folder) finds and downloads it.
    const other = runFilesFor(store, join(scratch, "commit-work-2"));
    const found = await other.find("token-cache/k1/", ["train/manifest.json"]);
    assert.equal(found, join(scratch, "commit-work-2", "token-cache/k1"));
    assert.deepEqual(await tree(found!), ["train/manifest.json", "train/shard-0.bin"]);

    for (const step of [1, 2, 3]) {
      const dir = await files.output(`runs/r-1/checkpoints/step_00000${step}/`);
      await writeFile(join(dir, "adapter.bin"), `w${step}`);
      await files.commit(`runs/r-1/checkpoints/step_00000${step}/`);
    }
    await assert.rejects(files.commit("runs/r-1/checkpoints/step_000009/"), (error: NodeJS.ErrnoException) => error.code === "ENOENT");
    await files.keepOnly("runs/r-1/checkpoints/", ["runs/r-1/checkpoints/step_000003/", "runs/r-1/checkpoints/step_000002"]);
    assert.deepEqual((await store.list("runs/r-1/")).map((o) => o.key), [
      "runs/r-1/checkpoints/step_000002/adapter.bin", "runs/r-1/checkpoints/step_000003/adapter.bin",
    ]);
    await files.discard("runs/r-1/checkpoints/step_000003/");
    assert.deepEqual((await store.list("runs/r-1/")).map((o) => o.key), ["runs/r-1/checkpoints/step_000002/adapter.bin"]);
    assert.equal(await stat(join(work, "runs/r-1/checkpoints/step_000003")).catch(() => null), null);
  });

  test("abortStaleUploads aborts the multipart uploads under the store's prefix older than the age given, and only those", async () => {
    const store = s3Store("sweep");
    const mine = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: "sweep/models/x/big.bin" }));
    const theirs = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: "elsewhere/big.bin" }));
    const open = async () => ((await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }))).Uploads ?? []).map((u) => u.UploadId);
    assert.ok((await open()).includes(mine.UploadId));
    assert.equal(await store.abortStaleUploads(), 0, "a fresh upload is left alone");
    assert.equal(await store.abortStaleUploads(0, Date.now() + 1_000), 1);
    const left = await open();
    assert.ok(!left.includes(mine.UploadId), "aborted");
    assert.ok(left.includes(theirs.UploadId), "another prefix's upload is not this store's");
  });
});
