import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { toCsv } from "./csv.js";
import { crc32, zipFiles } from "./zip.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sailfin-zip-"));
});
after(() => rm(dir, { recursive: true, force: true }));

// Reads every entry back with Python's zipfile (an independent reader that checks CRCs):
// name → [base64 content, compress_type, date_time, flag_bits].
const READ_BACK = `
import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps({i.filename: [base64.b64encode(z.read(i)).decode(), i.compress_type, list(i.date_time), i.flag_bits] for i in z.infolist()}))
`;

describe("zipFiles", () => {
  test("CRC-32 check value, and agreement with zlib.crc32 where Node has it", () => {
    assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
    const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
    const bytes = Buffer.from("评估结果 evaluation results ".repeat(50));
    if (native) assert.equal(crc32(bytes), native(bytes));
  });

  test("a JSONL and a CSV with Chinese content and names read back byte for byte", async () => {
    const jsonl = [{ prompt: "中国的首都是哪里？", prediction: "北京", completion: "北京。", metrics: { bleu4: 0.316 } }]
      .map((r) => JSON.stringify(r)).join("\n").repeat(20) + "\n";
    const csv = toCsv(["prompt", "prediction", "metrics"], Array.from({ length: 30 }, (_, i) => [`你好, "世界" ${i}`, "多行\n回答", { rouge_l: i / 30 }]));
    const tiny = Buffer.from([0, 1, 2]); // deflate would grow it: stored
    const date = new Date(2024, 0, 4, 11, 20, 31);
    const zip = zipFiles([{ name: "评估结果.jsonl", data: jsonl }, { name: "export/results.csv", data: csv }, { name: "tiny.bin", data: tiny }], { date });
    const path = join(dir, "export.zip");
    await writeFile(path, zip);

    const read = JSON.parse(execFileSync("/usr/bin/python3", ["-c", READ_BACK, path], { encoding: "utf8" })) as Record<string, [string, number, number[], number]>;
    assert.deepEqual(Object.keys(read), ["评估结果.jsonl", "export/results.csv", "tiny.bin"]);
    assert.equal(Buffer.from(read["评估结果.jsonl"]![0], "base64").toString("utf8"), jsonl);
    assert.equal(Buffer.from(read["export/results.csv"]![0], "base64").toString("utf8"), csv);
    assert.deepEqual(Buffer.from(read["tiny.bin"]![0], "base64"), tiny);
    assert.deepEqual(Object.values(read).map((r) => r[1]), [8, 8, 0], "deflated, deflated, stored");
    assert.deepEqual(read["tiny.bin"]![2], [2024, 1, 4, 11, 20, 30], "DOS time, 2-second resolution");
    assert.ok(Object.values(read).every((r) => (r[3] & 0x800) !== 0), "UTF-8 name flag");
    assert.ok(zip.length < jsonl.length, "repetitive JSONL is compressed");

    if (existsSync("/usr/bin/unzip")) {
      const listed = spawnSync("/usr/bin/unzip", ["-l", path], { encoding: "utf8" });
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /export\/results\.csv/);
      assert.match(listed.stdout, /3 files/);
      const tested = spawnSync("/usr/bin/unzip", ["-t", path], { encoding: "utf8" });
      assert.match(tested.stdout, /No errors detected/);
    }
  });

  test("an empty archive is valid; bad names, duplicates and 4 GiB entries are refused", async () => {
    const path = join(dir, "empty.zip");
    await writeFile(path, zipFiles([]));
    assert.equal(execFileSync("/usr/bin/python3", ["-c", READ_BACK, path], { encoding: "utf8" }).trim(), "{}");
    for (const name of ["", "/etc/passwd", "a/../b", "a\\b", "a//b"]) {
      assert.throws(() => zipFiles([{ name, data: "x" }]), /must be a relative/, name);
    }
    assert.throws(() => zipFiles([{ name: "a", data: "1" }, { name: "a", data: "2" }]), /appears twice/);
    // Not allocated: only the length is looked at before the size is refused.
    const huge = { length: 2 ** 32 } as unknown as Buffer;
    assert.throws(() => zipFiles([{ name: "big.jsonl", data: huge }]), /"big\.jsonl" is 4294967296 bytes; .* need zip64/);
  });
});
