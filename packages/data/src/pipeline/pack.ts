import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PreferencePair, TokenSample } from "./samples.js";
import { ShardFiles, type ShardInfo } from "./shard-files.js";

/**
 * One split (train or validation) as fixed-length rows, streamed to shard files
 * (docs/runtime-protocol.md): every row is exactly `seqLen` tokens.
 *
 * - `packed` (SFT, PostPretrain): greedy first-fit in arrival order. A sample goes into the
 *   first open row with room for it, else into a new row; at most `maxOpenRows` rows are open,
 *   and when one more is needed the oldest is written out. Rows are written in the order they
 *   close, so the same samples always give the same bytes. A sample longer than `seqLen` is cut
 *   at `seqLen` and counted in `truncatedSamples`. Segments are numbered 1, 2, … per row.
 * - `preference` / `kto` (DPO, KTO): no packing; each pair is two rows, chosen then rejected,
 *   one segment each. `kto` also writes 1 (desirable) / 0 (undesirable) per row.
 *
 * Memory: the open rows plus one write batch (~1 MiB of ids), whatever the dataset size.
 */
export type ShardKind = "packed" | "preference" | "kto";
type SplitName = "train" | "validation";

export interface SplitManifest {
  readonly format: "sailfin-shards/1";
  readonly kind: ShardKind;
  readonly split: SplitName;
  readonly seqLen: number;
  readonly padId: number;
  readonly rows: number;
  /** Samples written (a preference pair counts once). */
  readonly samples: number;
  readonly truncatedSamples: number;
  /** Tokens in the rows, padding excluded. */
  readonly tokens: number;
  /** Tokens with mask 1. */
  readonly trainedTokens: number;
  readonly contentHash: string;
  readonly shards: readonly ShardInfo[];
}

export interface SplitWriterOptions {
  readonly kind: ShardKind;
  readonly split: SplitName;
  readonly seqLen: number;
  readonly padId: number;
  /** Where shards and manifest.json go (created); null counts without writing anything. */
  readonly dir: string | null;
  /** Upper bound of one shard's ids file (default 256 MiB). */
  readonly maxShardBytes?: number;
  /** Rows kept open for first-fit (default 16). */
  readonly maxOpenRows?: number;
}

interface Row {
  readonly ids: Uint32Array;
  readonly mask: Uint8Array;
  readonly seg: Uint16Array;
  used: number;
  segments: number;
  kto: number;
}

const MAX_SEGMENTS = 0xffff;
const BATCH_BYTES = 1 << 20;

/**
 * @example
 * const train = new SplitWriter({ kind: "packed", split: "train", seqLen: 512, padId: 0, dir: "/tmp/out/train" });
 * for (const sample of samples) { train.add(sample); if (train.needsFlush) await train.flush(); }
 * const manifest = await train.finish("sha256…");
 */
export class SplitWriter {
  readonly options: SplitWriterOptions;
  readonly #seqLen: number;
  readonly #maxOpen: number;
  readonly #open: Row[] = [];
  readonly #batch: Row[] = [];
  readonly #batchRows: number;
  #files: ShardFiles | null = null;
  #prepared = false;
  #rows = 0;
  #samples = 0;
  #truncated = 0;
  #tokens = 0;
  #trained = 0;

  constructor(options: SplitWriterOptions) {
    if (!Number.isInteger(options.seqLen) || options.seqLen < 2) throw new Error(`seqLen must be an integer >= 2, got ${options.seqLen}`);
    this.options = options;
    this.#seqLen = options.seqLen;
    this.#maxOpen = Math.max(1, options.maxOpenRows ?? 16);
    this.#batchRows = Math.max(1, Math.floor(BATCH_BYTES / (4 * options.seqLen)));
  }

  /** True when closed rows wait to be written: call `flush()` before adding more. */
  get needsFlush(): boolean {
    return this.#batch.length >= this.#batchRows;
  }

  /** Packs one SFT / PostPretrain sample. */
  add(sample: TokenSample): void {
    if (this.options.kind !== "packed") throw new Error(`a ${this.options.kind} split takes pairs, not single samples`);
    if (sample.ids.length === 0) return;
    const length = this.#count(sample);
    let row = this.#open.find((r) => this.#seqLen - r.used >= length);
    if (row === undefined) {
      if (this.#open.length >= this.#maxOpen) this.#close(this.#open[0]!);
      row = this.#newRow(0);
      this.#open.push(row);
    }
    this.#place(row, sample, length);
    if (row.used === this.#seqLen || row.segments === MAX_SEGMENTS) this.#close(row);
  }

  /** Writes one preference pair as two rows (chosen, then rejected). */
  addPair(pair: PreferencePair): void {
    if (this.options.kind === "packed") throw new Error("a packed split takes single samples, not pairs");
    const chosen = Math.min(pair.chosen.ids.length, this.#seqLen);
    const rejected = Math.min(pair.rejected.ids.length, this.#seqLen);
    this.#samples++;
    if (chosen < pair.chosen.ids.length || rejected < pair.rejected.ids.length) this.#truncated++;
    for (const [sample, length, kto] of [[pair.chosen, chosen, 1], [pair.rejected, rejected, 0]] as const) {
      const row = this.#newRow(kto);
      this.#place(row, sample, length);
      this.#tokens += length;
      this.#trained += trainedIn(sample.mask, length);
      this.#batch.push(row);
    }
  }

  /** Writes the rows closed so far. */
  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const rows = this.#batch.splice(0, this.#batch.length);
    this.#rows += rows.length;
    if (this.options.dir === null) return;
    const files = await this.#shardFiles();
    const n = rows.length;
    const ids = new Uint32Array(n * this.#seqLen);
    const mask = new Uint8Array(n * this.#seqLen);
    const seg = new Uint16Array(n * this.#seqLen);
    const kto = new Uint8Array(n);
    rows.forEach((row, i) => {
      ids.set(row.ids, i * this.#seqLen);
      mask.set(row.mask, i * this.#seqLen);
      seg.set(row.seg, i * this.#seqLen);
      kto[i] = row.kto;
    });
    await files.write(n, ids, mask, seg, this.options.kind === "kto" ? kto : null);
  }

  /** Writes the open rows and manifest.json; returns the manifest. */
  async finish(contentHash: string): Promise<SplitManifest> {
    while (this.#open.length > 0) this.#close(this.#open[0]!);
    await this.flush();
    if (this.options.dir !== null) await this.#shardFiles();
    const shards = this.#files === null ? [] : await this.#files.close();
    const { kind, split, seqLen, padId } = this.options;
    const manifest: SplitManifest = {
      format: "sailfin-shards/1", kind, split, seqLen, padId,
      rows: this.#rows, samples: this.#samples, truncatedSamples: this.#truncated,
      tokens: this.#tokens, trainedTokens: this.#trained, contentHash, shards,
    };
    if (this.options.dir !== null) await writeFile(join(this.options.dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  /** Counts the sample and returns the length it will occupy (truncated to seqLen). */
  #count(sample: TokenSample): number {
    const length = Math.min(sample.ids.length, this.#seqLen);
    this.#samples++;
    if (length < sample.ids.length) this.#truncated++;
    this.#tokens += length;
    this.#trained += trainedIn(sample.mask, length);
    return length;
  }

  #newRow(kto: number): Row {
    const ids = new Uint32Array(this.#seqLen);
    if (this.options.padId !== 0) ids.fill(this.options.padId);
    return { ids, mask: new Uint8Array(this.#seqLen), seg: new Uint16Array(this.#seqLen), used: 0, segments: 0, kto };
  }

  #place(row: Row, sample: TokenSample, length: number): void {
    row.segments++;
    const at = row.used;
    for (let i = 0; i < length; i++) {
      row.ids[at + i] = sample.ids[i]!;
      row.mask[at + i] = sample.mask[i]!;
    }
    row.seg.fill(row.segments, at, at + length);
    row.used += length;
  }

  #close(row: Row): void {
    const index = this.#open.indexOf(row);
    if (index >= 0) this.#open.splice(index, 1);
    this.#batch.push(row);
  }

  async #shardFiles(): Promise<ShardFiles> {
    if (this.#files === null) {
      const dir = this.options.dir!;
      if (!this.#prepared) {
        await mkdir(dir, { recursive: true });
        this.#prepared = true;
      }
      const rowsPerShard = Math.floor((this.options.maxShardBytes ?? 256 * 1024 * 1024) / (4 * this.#seqLen));
      this.#files = new ShardFiles(dir, this.#seqLen, rowsPerShard, this.options.kind === "kto");
    }
    return this.#files;
  }
}

function trainedIn(mask: readonly number[], length: number): number {
  let n = 0;
  for (let i = 0; i < length; i++) n += mask[i]!;
  return n;
}
