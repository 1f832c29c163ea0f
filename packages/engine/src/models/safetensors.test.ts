import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import type { ArtifactStore } from "../artifacts/artifact-store.js";
import { SafetensorsError, parseSafetensorsHeader, readSafetensorsHeader } from "./safetensors.js";
import { bf16Bytes, encodeSafetensors, f32Bytes } from "./safetensors-writer.js";

const f32 = (...values: number[]) => f32Bytes(Float32Array.from(values));

/** A file built by hand: 8-byte length, the given header text, then `data`. */
function rawFile(header: unknown, data: Buffer): Buffer {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe("safetensors header reader", () => {
  test("reads back what the writer wrote, header padded to 8 bytes", () => {
    const file = encodeSafetensors([
      { name: "a", dtype: "F32", shape: [2, 2], data: f32(1, 2, 3, 4) },
      { name: "b", dtype: "BF16", shape: [3], data: bf16Bytes(Float32Array.from([1, 2, 3])) },
    ]);
    const header = parseSafetensorsHeader(file, file.length);
    assert.equal(header.headerBytes % 8, 0);
    assert.deepEqual(header.metadata, { format: "pt" });
    assert.deepEqual(header.tensors.get("a"), { dtype: "F32", shape: [2, 2], begin: 0, end: 16 });
    assert.deepEqual(header.tensors.get("b"), { dtype: "BF16", shape: [3], begin: 16, end: 22 });
    assert.equal(header.dataBytes, 22);
    assert.equal(file.readFloatLE(8 + header.headerBytes + 8), 3);
  });

  test("a truncated file is refused", () => {
    const file = encodeSafetensors([{ name: "w", dtype: "F32", shape: [4], data: f32(1, 2, 3, 4) }]);
    const cut = file.subarray(0, file.length - 3);
    assert.throws(() => parseSafetensorsHeader(cut, cut.length), (e: Error) => e instanceof SafetensorsError && /truncated/.test(e.message));
  });

  test("a header length past the end of the file is refused", () => {
    const file = rawFile({ w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(1));
    assert.throws(() => parseSafetensorsHeader(file.subarray(0, 20), 20), /runs past the end/);
  });

  test("an absurd header length is refused before anything is allocated", () => {
    const len = Buffer.alloc(16);
    len.writeBigUInt64LE(2n ** 62n);
    assert.throws(() => parseSafetensorsHeader(len, 1 << 30), /exceeds/);
  });

  test("invalid JSON, unknown dtype, bad shape", () => {
    assert.throws(() => { const f = rawFile("{nope", Buffer.alloc(0)); parseSafetensorsHeader(f, f.length); }, /not valid JSON/);
    assert.throws(() => { const f = rawFile({ w: { dtype: "F7", shape: [1], data_offsets: [0, 4] } }, f32(1)); parseSafetensorsHeader(f, f.length); }, /unknown dtype/);
    assert.throws(() => { const f = rawFile({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, f32(1)); parseSafetensorsHeader(f, f.length); }, /shape/);
  });

  test("offsets must match dtype size times elements", () => {
    const f = rawFile({ w: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, f32(1));
    assert.throws(() => parseSafetensorsHeader(f, f.length), /needs 8/);
  });

  test("overlapping tensors and holes are refused", () => {
    const overlap = rawFile({
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    }, Buffer.alloc(12));
    assert.throws(() => parseSafetensorsHeader(overlap, overlap.length), /overlaps/);
    const hole = rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8));
    assert.throws(() => parseSafetensorsHeader(hole, hole.length), /unindexed/);
    const tail = rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(8));
    assert.throws(() => parseSafetensorsHeader(tail, tail.length), /account for 4/);
  });

  test("bf16 conversion rounds to nearest even", () => {
    const out = bf16Bytes(Float32Array.from([1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -9]));
    assert.equal(out.readUInt16LE(0), 0x3f80);
    assert.equal(out.readUInt16LE(2), 0xc000);
    assert.equal(out.readUInt16LE(4), 0x3f80); // exactly half way: ties to even (down)
    assert.equal(out.readUInt16LE(6), 0x3f81); // above half way: up
  });

  test("readSafetensorsHeader pulls only the header from a large object", async () => {
    const header = Buffer.from(JSON.stringify({ w: { dtype: "U8", shape: [256 << 20], data_offsets: [0, 256 << 20] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const size = 8 + header.length + (256 << 20);
    let pulled = 0;
    const store = {
      async get() {
        // 256 MiB of data behind the header, produced lazily in 64 KiB chunks.
        return Readable.from((function* () {
          yield Buffer.concat([len, header]);
          for (let sent = 0; sent < 256 << 20; sent += 65536) {
            pulled += 65536;
            yield Buffer.alloc(65536);
          }
        })());
      },
    } as unknown as ArtifactStore;
    const parsed = await readSafetensorsHeader(store, "x", size);
    assert.equal(parsed.tensors.get("w")?.end, 256 << 20);
    assert.ok(pulled <= 4 * 65536, `read ${pulled} data bytes`);
  });
});
