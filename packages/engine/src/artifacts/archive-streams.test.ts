import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { tarStream } from "./tar-stream.js";
import { crc32, crc32Update } from "./zip.js";
import { zipStream } from "./zip-stream.js";

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), "sailfin-archive-")); });
after(() => rm(dir, { recursive: true, force: true }));

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An archive read back by Python (zipfile checks every CRC): name → base64 content. */
async function readBack(bytes: Buffer, kind: "zip" | "tar"): Promise<Record<string, string>> {
  const path = join(dir, `a.${kind}`);
  await writeFile(path, bytes);
  const script = kind === "zip"
    ? "import base64,json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({n: base64.b64encode(z.read(n)).decode() for n in z.namelist()}))"
    : "import base64,json,sys,tarfile; t=tarfile.open(sys.argv[1]); print(json.dumps({m.name: base64.b64encode(t.extractfile(m).read()).decode() for m in t.getmembers()}))";
  const run = spawnSync("/usr/bin/python3", ["-c", script, path], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** A source that yields `data` in small chunks, as a store's stream does. */
const chunked = (data: Buffer, size = 7_001) => async () => Readable.from((function* () {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
})());

describe("streaming archives", () => {
  test("crc32Update continues a CRC over more bytes", () => {
    assert.equal(crc32Update(crc32(Buffer.from("1234")), Buffer.from("56789")), 0xcbf43926);
  });

  test("zipStream: deflated entries with data descriptors that Python's zipfile reads and CRC-checks", async () => {
    const random = randomBytes(300_000);
    const text = Buffer.from(`${"你好 sailfin\n".repeat(20_000)}`);
    const zip = await collect(zipStream([
      { name: "data/random.bin", open: chunked(random) },
      { name: "数据.jsonl", open: chunked(text) },
      { name: "empty.txt", open: chunked(Buffer.alloc(0)) },
    ]));
    assert.ok(zip.length < random.length + text.length / 10, "text deflates");
    assert.deepEqual(await readBack(zip, "zip"), {
      "data/random.bin": random.toString("base64"), "数据.jsonl": text.toString("base64"), "empty.txt": "",
    });
  });

  test("zipStream: a failing source fails the stream; unsafe names are refused", async () => {
    const failing = async () => Readable.from((async function* () {
      yield Buffer.from("a");
      throw new Error("disk gone");
    })());
    await assert.rejects(collect(zipStream([{ name: "a", open: failing }])), /disk gone/);
    await assert.rejects(collect(zipStream([{ name: "../a", open: chunked(Buffer.from("x")) }])), /relative/);
  });

  test("tarStream: ustar entries, pax headers for long and non-ASCII names, read back by Python's tarfile", async () => {
    const long = `${"deep/".repeat(30)}model.safetensors`;
    const files = { "amv-1/config.json": Buffer.from("{}"), [long]: randomBytes(1_500), "amv-1/分词器.json": Buffer.from("tok"), "amv-1/exact.bin": randomBytes(1024) };
    const tar = await collect(tarStream(Object.entries(files).map(([name, data]) => ({ name, size: data.length, open: chunked(data, 333) }))));
    assert.equal(tar.length % 512, 0);
    assert.deepEqual(await readBack(tar, "tar"), Object.fromEntries(Object.entries(files).map(([n, d]) => [n, d.toString("base64")])));
  });

  test("tarStream: a file that is not its listed size fails the stream", async () => {
    await assert.rejects(collect(tarStream([{ name: "a", size: 5, open: chunked(Buffer.from("abc")) }])), /has 3 bytes, not its listed 5/);
    await assert.rejects(collect(tarStream([{ name: "a", size: 2, open: chunked(Buffer.from("abc")) }])), /grew past/);
  });
});
