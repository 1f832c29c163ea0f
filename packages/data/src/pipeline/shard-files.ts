import { open, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";

/**
 * Writes rows into shard files as docs/runtime-protocol.md lays them out:
 * `shard-NNNNN.ids.u32`, `.mask.u8`, `.seg.u16` (and `.kto.u8` for KTO), little-endian,
 * row-major, a new shard every `rowsPerShard` rows. Writes are awaited one after the other,
 * so memory holds at most the batch being written.
 */
export interface ShardInfo {
  readonly name: string;
  readonly rows: number;
}

if (endianness() !== "LE") {
  // Typed arrays use the host's byte order; the protocol is little-endian.
  throw new Error("token shards are written from typed arrays and need a little-endian host");
}

export class ShardFiles {
  readonly #dir: string;
  readonly #seqLen: number;
  readonly #rowsPerShard: number;
  readonly #kto: boolean;
  readonly #shards: ShardInfo[] = [];
  #handles: FileHandle[] | null = null;
  #rowsInShard = 0;

  constructor(dir: string, seqLen: number, rowsPerShard: number, kto: boolean) {
    this.#dir = dir;
    this.#seqLen = seqLen;
    this.#rowsPerShard = Math.max(1, rowsPerShard);
    this.#kto = kto;
  }

  /** Appends `rows` rows (arrays hold at least rows × seqLen values; kto one flag per row). */
  async write(rows: number, ids: Uint32Array, mask: Uint8Array, seg: Uint16Array, kto: Uint8Array | null): Promise<void> {
    let done = 0;
    while (done < rows) {
      if (this.#handles === null) await this.#openShard();
      const take = Math.min(rows - done, this.#rowsPerShard - this.#rowsInShard);
      const from = done * this.#seqLen;
      const to = (done + take) * this.#seqLen;
      const handles = this.#handles!;
      await handles[0]!.write(bytes(ids.subarray(from, to)));
      await handles[1]!.write(bytes(mask.subarray(from, to)));
      await handles[2]!.write(bytes(seg.subarray(from, to)));
      if (this.#kto) await handles[3]!.write(bytes(kto!.subarray(done, done + take)));
      this.#rowsInShard += take;
      done += take;
      if (this.#rowsInShard === this.#rowsPerShard) await this.#closeShard();
    }
  }

  /** Closes the last shard; returns every shard written, in order. */
  async close(): Promise<ShardInfo[]> {
    await this.#closeShard();
    return [...this.#shards];
  }

  async #openShard(): Promise<void> {
    const name = `shard-${String(this.#shards.length).padStart(5, "0")}`;
    const suffixes = ["ids.u32", "mask.u8", "seg.u16", ...(this.#kto ? ["kto.u8"] : [])];
    const handles: FileHandle[] = [];
    try {
      for (const suffix of suffixes) handles.push(await open(join(this.#dir, `${name}.${suffix}`), "wx"));
    } catch (error) {
      await Promise.all(handles.map((h) => h.close()));
      throw error;
    }
    this.#handles = handles;
    this.#rowsInShard = 0;
    this.#shards.push({ name, rows: 0 });
  }

  async #closeShard(): Promise<void> {
    if (this.#handles === null) return;
    const handles = this.#handles;
    this.#handles = null;
    await Promise.all(handles.map((h) => h.close()));
    const last = this.#shards.length - 1;
    this.#shards[last] = { name: this.#shards[last]!.name, rows: this.#rowsInShard };
  }
}

function bytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
