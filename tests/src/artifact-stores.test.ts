import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { SailfinError } from "@sailfin/contract";
import { LocalArtifactStore, S3ArtifactStore, type ArtifactStore } from "@sailfin/engine";
import { ConfigError, loadServerConfig, startServer } from "@sailfin/server";
import { rawCall, startTestServer } from "./harness.js";
import { importDataset, uploadObject } from "./fixtures/dataset-imports.js";
import { startS3Server, type S3TestServer } from "./fixtures/s3-server.js";

/**
 * One conformance suite for the ArtifactStore interface, run against the local folder and against
 * S3ArtifactStore on a real SeaweedFS server (tests/src/fixtures/s3-server.ts); then a server that
 * keeps its artifacts in S3 (SAILFIN_ARTIFACTS=s3://…) imports a dataset and serves it back.
 */

const MiB = 1024 * 1024;
/** Above the 5 MiB multipart part size: three parts. */
const LARGE = 12 * MiB;

/** `size` random bytes made on the fly in 1 MiB chunks (never all in memory), and their sha256 once read. */
function generated(size: number, failAfter?: number): { body: Readable; sha256: () => string } {
  const hash = createHash("sha256");
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < size; sent += MiB) {
      if (failAfter !== undefined && sent >= failAfter) throw new Error("the source failed mid-upload");
      const chunk = randomBytes(Math.min(MiB, size - sent));
      hash.update(chunk);
      yield chunk;
    }
  }
  return { body: Readable.from(chunks()), sha256: () => hash.digest("hex") };
}

/** Reads a stream chunk by chunk: its size and sha256. */
async function digest(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest("hex") };
}

const text = async (stream: Readable) => {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("utf8");
};
const sha = (value: string) => createHash("sha256").update(value).digest("hex");

interface Backend {
  readonly name: string;
  open(): Promise<{
    store: ArtifactStore;
    /** Unfinished uploads the backend still holds (temporary files, multipart uploads). */
    leftovers(): Promise<number>;
    close(): Promise<void>;
  }>;
}

let s3: S3TestServer | undefined;
const backends: Backend[] = [
  {
    name: "local folder",
    async open() {
      const root = await mkdtemp(join(tmpdir(), "sailfin-artifacts-"));
      const partFiles = async (dir: string): Promise<number> => {
        let count = 0;
        for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
          if (entry.isDirectory()) count += await partFiles(join(dir, entry.name));
          else if (entry.name.endsWith(".part")) count++;
        }
        return count;
      };
      return {
        store: new LocalArtifactStore(root),
        leftovers: () => partFiles(join(root, ".tmp")),
        close: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "S3 (SeaweedFS)",
    async open() {
      s3 ??= await startS3Server();
      const server = s3;
      // Each suite under a prefix of its own: what it writes must stay inside.
      const prefix = `conformance-${randomBytes(4).toString("hex")}/`;
      const store = new S3ArtifactStore({
        bucket: server.bucket, prefix, endpoint: server.endpoint, region: server.region,
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      });
      return {
        store,
        async leftovers() {
          const uploads = await server.client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: prefix }));
          return uploads.Uploads?.length ?? 0;
        },
        async close() {
          // Nothing outside the prefix: the bucket holds only this suite's keys (and other suites').
          const all = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket }));
          for (const object of all.Contents ?? []) assert.match(object.Key ?? "", /^(conformance-[0-9a-f]{8}|server)\//);
          await store.delete("");
        },
      };
    },
  },
];

after(async () => {
  await s3?.close();
});

for (const backend of backends) {
  describe(`artifact store conformance: ${backend.name}`, () => {
    let store: ArtifactStore;
    let opened: Awaited<ReturnType<Backend["open"]>>;
    before(async () => {
      opened = await backend.open();
      store = opened.store;
    });
    after(async () => {
      await opened.close();
    });

    test("put, get and stat: strings and buffers, size and sha256, overwrite", async () => {
      const first = await store.put("basic/a.txt", "hello");
      assert.deepEqual(first, { size: 5, sha256: sha("hello") });
      assert.equal(await text(await store.get("basic/a.txt")), "hello");
      assert.deepEqual(await store.stat("basic/a.txt"), { key: "basic/a.txt", size: 5 });
      const bytes = Buffer.from("你好, world");
      assert.deepEqual(await store.put("basic/a.txt", bytes), { size: bytes.length, sha256: sha("你好, world") });
      assert.equal(await text(await store.get("basic/a.txt")), "你好, world");
      assert.deepEqual(await store.put("basic/empty", ""), { size: 0, sha256: sha("") });
      assert.deepEqual(await store.stat("basic/empty"), { key: "basic/empty", size: 0 });
    });

    test("a missing object: stat is null, get is NotFound", async () => {
      assert.equal(await store.stat("basic/missing"), null);
      await assert.rejects(store.get("basic/missing"), (error: unknown) => error instanceof SailfinError && error.id === "NotFound");
    });

    test("list: recursive, sorted, relative to the root; a folder with or without `/`; an object itself", async () => {
      for (const key of ["tree/b/2.txt", "tree/a.txt", "tree/b/1.txt", "tree/b/c/3.txt", "treeish.txt"]) await store.put(key, key);
      const expected = ["tree/a.txt", "tree/b/1.txt", "tree/b/2.txt", "tree/b/c/3.txt"].map((key) => ({ key, size: key.length }));
      assert.deepEqual(await store.list("tree"), expected);
      assert.deepEqual(await store.list("tree/"), expected);
      assert.deepEqual(await store.list("tree/b/c"), [{ key: "tree/b/c/3.txt", size: 14 }]);
      assert.deepEqual(await store.list("tree/a.txt"), [{ key: "tree/a.txt", size: 10 }]);
      assert.deepEqual(await store.list("nothing/here/"), []);
    });

    test("delete: an object, a folder with `/`, a folder without; a missing key is no error", async () => {
      for (const key of ["del/x", "del/y/1", "del/y/2", "del/z/1", "del/z/deep/2"]) await store.put(key, "v");
      await store.delete("del/x");
      assert.equal(await store.stat("del/x"), null);
      await store.delete("del/y/");
      assert.deepEqual((await store.list("del")).map((o) => o.key), ["del/z/1", "del/z/deep/2"]);
      await store.delete("del/z");
      assert.deepEqual(await store.list("del/"), []);
      await store.delete("del/never-was");
      await store.delete("del/never-was/");
    });

    test("a key is an object or a folder, never both", async () => {
      await store.put("clash/file", "f");
      await assert.rejects(store.put("clash/file/below", "x"), (error: unknown) => error instanceof SailfinError && error.id === "Conflict");
      await store.put("clash/folder/inside", "x");
      await assert.rejects(store.put("clash/folder", "y"), (error: unknown) => error instanceof SailfinError && error.id === "Conflict");
      assert.deepEqual((await store.list("clash")).map((o) => o.key), ["clash/file", "clash/folder/inside"]);
    });

    test(`a ${LARGE / MiB} MiB body streams in and out (multipart) with the same sha256`, async () => {
      const source = generated(LARGE);
      const put = await store.put("large/blob.bin", source.body);
      assert.deepEqual(put, { size: LARGE, sha256: source.sha256() });
      assert.deepEqual(await store.stat("large/blob.bin"), { key: "large/blob.bin", size: LARGE });
      assert.deepEqual(await digest(await store.get("large/blob.bin")), put);
    });

    test("a failed upload leaves nothing visible, and the old object whole", async () => {
      // Fails after two parts have been sent: a multipart upload is under way on S3.
      await assert.rejects(store.put("atomic/new.bin", generated(LARGE, 11 * MiB).body), /the source failed mid-upload/);
      assert.equal(await store.stat("atomic/new.bin"), null);
      assert.deepEqual(await store.list("atomic/"), []);
      const old = await store.put("atomic/old.bin", "the old content");
      await assert.rejects(store.put("atomic/old.bin", generated(LARGE, 6 * MiB).body), /the source failed mid-upload/);
      assert.deepEqual(await digest(await store.get("atomic/old.bin")), old);
      assert.equal(await opened.leftovers(), 0);
    });

    test("keys that try to escape the root are refused", async () => {
      for (const key of ["../outside", "inside/../../outside", "../"]) {
        await assert.rejects(store.put(key, "x"), /escapes the root/, key);
        await assert.rejects(store.get(key), /escapes the root/, key);
        await assert.rejects(store.stat(key), /escapes the root/, key);
        await assert.rejects(store.list(key), /escapes the root/, key);
        await assert.rejects(store.delete(key), /escapes the root/, key);
      }
    });
  });
}

describe("a server with SAILFIN_ARTIFACTS=s3://…", () => {
  test("SAILFIN_ARTIFACTS is parsed at start-up; a bad value is refused naming it", () => {
    const load = (env: Record<string, string>) => loadServerConfig({ flags: {}, env });
    assert.equal(load({}).artifacts, null);
    assert.deepEqual(load({ SAILFIN_ARTIFACTS: "s3://my-bucket/some/prefix/", AWS_ENDPOINT_URL: "http://127.0.0.1:9000" }).artifacts, {
      bucket: "my-bucket", prefix: "some/prefix/", endpoint: "http://127.0.0.1:9000", region: "us-east-1", credentials: undefined,
    });
    assert.equal(load({ SAILFIN_ARTIFACTS: "s3://my-bucket" }).artifacts?.prefix, "");
    for (const bad of ["/srv/artifacts", "s3://", "s3://Bad_Bucket/x", "s3://bucket/a/../b", "gs://bucket/x"]) {
      assert.throws(() => load({ SAILFIN_ARTIFACTS: bad }), (error: unknown) => error instanceof ConfigError && /SAILFIN_ARTIFACTS/.test(error.message), bad);
    }
    assert.throws(() => load({ SAILFIN_ARTIFACTS: "s3://bucket/x", AWS_ACCESS_KEY_ID: "only-half" }), /AWS_SECRET_ACCESS_KEY/);
  });

  test("a bucket that cannot be reached fails the start, naming SAILFIN_ARTIFACTS", async () => {
    s3 ??= await startS3Server();
    const home = await mkdtemp(join(tmpdir(), "sailfin-s3-start-"));
    try {
      const config = loadServerConfig({
        flags: { port: "0", host: "127.0.0.1", home },
        env: { SAILFIN_LOG_LEVEL: "silent", SAILFIN_ARTIFACTS: "s3://no-such-bucket/x", ...s3.awsEnv },
      });
      await assert.rejects(startServer(config, () => {}), /^Error: SAILFIN_ARTIFACTS s3:\/\/no-such-bucket\/x\/: the bucket cannot be reached at http:\/\/127\.0\.0\.1:\d+: .*404/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test("uploads and imports a dataset into the bucket and reads it back through the API", async () => {
    s3 ??= await startS3Server();
    const server = await startTestServer("sqlite", { SAILFIN_ARTIFACTS: `s3://${s3.bucket}/server`, ...s3.awsEnv });
    try {
      const line = (i: number) => JSON.stringify([{ prompt: `question ${i}`, response: [[`answer ${i}`]] }]);
      const content = `${[1, 2, 3].map(line).join("\n")}\n`;
      const uri = await uploadObject(server, "up", "faq/train.jsonl", content);
      const imported = await importDataset(server, { name: "s3-ds", format: "PromptResponse", files: [uri] });
      const version = await server.admin.v2<{ importStatus: string; sampleCount: number }>("dataset", "DescribeDatasetVersion", { versionId: imported.versionId });
      assert.equal(version.importStatus, "Finished");
      assert.equal(version.sampleCount, 3);
      const read = await rawCall(server.url, { method: "GET", path: "/sailfin/v1/objects/up/faq/train.jsonl" });
      assert.equal(read.status, 200);
      assert.equal(read.text, content);
      // The bytes are in the bucket under the prefix, not in SAILFIN_HOME.
      const stored = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `server/datasets/${imported.versionId}/data.jsonl` }));
      assert.equal(await stored.Body?.transformToString(), content);
      assert.equal(await stat(join(server.home, "datasets")).catch(() => null), null);
      assert.equal(await stat(join(server.home, "buckets")).catch(() => null), null);
    } finally {
      await server.close();
    }
  });
});
