import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SplitWriter, type SplitManifest, type SplitWriterOptions } from "./pack.js";
import type { TokenSample } from "./samples.js";

let root: string;
let dirs = 0;
before(async () => { root = await mkdtemp(join(tmpdir(), "sailfin-pack-")); });
after(() => rm(root, { recursive: true, force: true }));

/** Deterministic pseudo-random samples: a prompt (mask 0) then an answer (mask 1). */
function samples(count: number, maxLength: number, seed = 1): TokenSample[] {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, (_, i) => {
    const length = 1 + Math.floor(next() * maxLength);
    const prompt = Math.floor(next() * length);
    const ids = Array.from({ length }, (_, j) => 1 + ((i * 31 + j * 7) % 500));
    return { ids, mask: ids.map((_, j) => (j < prompt ? 0 : 1)) };
  });
}

async function write(options: Partial<SplitWriterOptions>, feed: (w: SplitWriter) => Promise<void>): Promise<{ dir: string; manifest: SplitManifest }> {
  const dir = join(root, `split-${dirs++}`);
  const writer = new SplitWriter({ kind: "packed", split: "train", seqLen: 64, padId: 0, dir, ...options });
  await feed(writer);
  return { dir, manifest: await writer.finish("hash") };
}

async function feedAll(w: SplitWriter, list: TokenSample[]): Promise<void> {
  for (const s of list) {
    w.add(s);
    if (w.needsFlush) await w.flush();
  }
}

async function readRows(dir: string, manifest: SplitManifest) {
  const rows: Array<{ ids: Uint32Array; mask: Uint8Array; seg: Uint16Array }> = [];
  for (const shard of manifest.shards) {
    const ids = new Uint32Array(new Uint8Array(await readFile(join(dir, `${shard.name}.ids.u32`))).buffer);
    const mask = new Uint8Array(await readFile(join(dir, `${shard.name}.mask.u8`)));
    const seg = new Uint16Array(new Uint8Array(await readFile(join(dir, `${shard.name}.seg.u16`))).buffer);
    assert.equal(ids.length, shard.rows * manifest.seqLen, "ids: rows × seqLen");
    assert.equal(mask.length, shard.rows * manifest.seqLen);
    assert.equal(seg.length, shard.rows * manifest.seqLen);
    for (let r = 0; r < shard.rows; r++) {
      const at = r * manifest.seqLen;
      rows.push({ ids: ids.subarray(at, at + manifest.seqLen), mask: mask.subarray(at, at + manifest.seqLen), seg: seg.subarray(at, at + manifest.seqLen) });
    }
  }
  return rows;
}

/** Segments of every row, checking the row invariants on the way. */
function segmentsOf(rows: Awaited<ReturnType<typeof readRows>>, padId: number): string[] {
  const out: string[] = [];
  for (const row of rows) {
    let expected = 1;
    let start = 0;
    for (let i = 0; i <= row.seg.length; i++) {
      const s = i < row.seg.length ? row.seg[i]! : -1;
      if (i > 0 && s !== row.seg[i - 1]) {
        const prev = row.seg[i - 1]!;
        if (prev !== 0) {
          assert.equal(prev, expected++, "segments are numbered 1, 2, … in order");
          out.push(JSON.stringify([Array.from(row.ids.subarray(start, i)), Array.from(row.mask.subarray(start, i))]));
        }
        start = i;
      }
      if (i < row.seg.length && s === 0) {
        assert.equal(row.mask[i], 0, "mask only inside segments");
        assert.equal(row.ids[i], padId, "padding uses padId");
        assert.ok(row.seg.subarray(i).every((x) => x === 0), "padding only at the end of a row");
      }
    }
    assert.ok(expected > 1, "no empty rows");
  }
  return out.sort();
}

describe("packing", () => {
  test("rows are exactly seqLen, segments never cross rows, mask only inside segments, every sample once", async () => {
    const list = samples(300, 40);
    const { dir, manifest } = await write({ padId: 7 }, (w) => feedAll(w, list));
    const rows = await readRows(dir, manifest);
    assert.equal(rows.length, manifest.rows);
    assert.deepEqual(segmentsOf(rows, 7), list.map((s) => JSON.stringify([s.ids, s.mask])).sort());
    const tokens = list.reduce((n, s) => n + s.ids.length, 0);
    assert.equal(manifest.tokens, tokens);
    assert.equal(manifest.trainedTokens, list.reduce((n, s) => n + s.mask.reduce((a, b) => a + b, 0), 0));
    assert.equal(manifest.samples, 300);
    assert.equal(manifest.truncatedSamples, 0);
    // First-fit keeps rows well filled.
    assert.ok(tokens / (manifest.rows * 64) > 0.85, `fill ${tokens / (manifest.rows * 64)}`);
    const written = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as SplitManifest;
    assert.deepEqual(written, manifest);
    assert.equal(manifest.format, "sailfin-shards/1");
  });

  test("first-fit in arrival order; full rows are written first", async () => {
    const mk = (n: number, v: number): TokenSample => ({ ids: Array(n).fill(v), mask: Array(n).fill(1) });
    const { dir, manifest } = await write({ seqLen: 10 }, (w) => feedAll(w, [mk(6, 1), mk(6, 2), mk(3, 3), mk(4, 4)]));
    const rows = await readRows(dir, manifest);
    // Row of 6+4 fills up first; row 6+3 stays open until the end.
    assert.deepEqual(Array.from(rows[0]!.ids), [2, 2, 2, 2, 2, 2, 4, 4, 4, 4]);
    assert.deepEqual(Array.from(rows[1]!.ids), [1, 1, 1, 1, 1, 1, 3, 3, 3, 0]);
    assert.deepEqual(Array.from(rows[1]!.seg), [1, 1, 1, 1, 1, 1, 2, 2, 2, 0]);
  });

  test("deterministic: the same samples give the same bytes", async () => {
    const list = samples(500, 90, 3);
    const a = await write({ seqLen: 128, maxShardBytes: 128 * 4 * 50 }, (w) => feedAll(w, list));
    const b = await write({ seqLen: 128, maxShardBytes: 128 * 4 * 50 }, (w) => feedAll(w, list));
    const files = (await readdir(a.dir)).sort();
    assert.deepEqual(files, (await readdir(b.dir)).sort());
    assert.ok(files.length > 4, "several shards");
    for (const f of files) assert.ok((await readFile(join(a.dir, f))).equals(await readFile(join(b.dir, f))), f);
  });

  test("shards are bounded in size; long samples are truncated and counted", async () => {
    const list = [...samples(100, 30), { ids: Array(100).fill(9), mask: Array(100).fill(1) }];
    const { dir, manifest } = await write({ seqLen: 32, maxShardBytes: 32 * 4 * 10 }, (w) => feedAll(w, list));
    assert.ok(manifest.shards.length >= 2);
    assert.ok(manifest.shards.every((s) => s.rows <= 10));
    assert.equal(manifest.shards.reduce((n, s) => n + s.rows, 0), manifest.rows);
    assert.equal(manifest.truncatedSamples, 1);
    const rows = await readRows(dir, manifest);
    assert.ok(rows.some((r) => r.seg.every((s) => s === r.seg[0]) && r.ids.every((id) => id === 9)), "the long sample fills one row");
  });

  test("preference and KTO splits: two rows per pair, one segment each, kto.u8 flags", async () => {
    const [a, b, c, d] = samples(4, 20, 5);
    const pairs = [{ chosen: a!, rejected: b! }, { chosen: c!, rejected: d! }];
    for (const kind of ["preference", "kto"] as const) {
      const { dir, manifest } = await write({ kind, seqLen: 24 }, async (w) => { for (const p of pairs) w.addPair(p); });
      assert.equal(manifest.kind, kind);
      assert.equal(manifest.rows, 4);
      assert.equal(manifest.samples, 2);
      const rows = await readRows(dir, manifest);
      assert.deepEqual(segmentsOf(rows, 0), [a, b, c, d].map((s) => JSON.stringify([s!.ids, s!.mask])).sort());
      assert.deepEqual(Array.from(rows[0]!.ids.subarray(0, a!.ids.length)), a!.ids, "chosen first");
      assert.deepEqual(Array.from(rows[1]!.ids.subarray(0, b!.ids.length)), b!.ids, "then rejected");
      const kto = await readFile(join(dir, "shard-00000.kto.u8")).catch(() => null);
      if (kind === "kto") assert.deepEqual(Array.from(kto!), [1, 0, 1, 0]);
      else assert.equal(kto, null);
    }
  });

  test("an empty split still gets a manifest; a count-only writer writes nothing", async () => {
    const { dir, manifest } = await write({ split: "validation" }, async () => {});
    assert.equal(manifest.rows, 0);
    assert.deepEqual(manifest.shards, []);
    assert.deepEqual(await readdir(dir), ["manifest.json"]);
    const counter = new SplitWriter({ kind: "packed", split: "train", seqLen: 16, padId: 0, dir: null });
    await feedAll(counter, samples(50, 10));
    const counted = await counter.finish("h");
    assert.equal(counted.samples, 50);
    assert.ok(counted.rows > 0);
  });
});
