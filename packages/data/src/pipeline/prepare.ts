import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatPath, type TrainMode } from "@sailfin/contract";
import { LineProblem } from "../formats/checks.js";
import { formatInfo, type DataFormat } from "../formats/index.js";
import { readLines } from "../line-reader.js";
import { ChatRenderer } from "./chat-template.js";
import { PipelineInputError } from "./errors.js";
import { SplitWriter, type ShardKind, type SplitManifest } from "./pack.js";
import { SampleBuilder, formatFitsTrainMode, type TokenSample } from "./samples.js";
import { copies, isValidation } from "./split.js";
import { loadTokenizer } from "./tokenize.js";

/**
 * Released dataset versions to token shards, end to end and streaming: JSONL lines → records
 * → samples (chat template, tokens, mask) → train/validation split → rows → shard files. Only
 * one line, one sample and the packer's open rows are in memory at a time, so memory stays flat
 * whatever the dataset size.
 *
 * Samples longer than maxSeqLen: conversations and preference pairs are cut at maxSeqLen and
 * counted in `truncatedSamples`; PostPretrain documents are split into maxSeqLen-token chunks
 * (each its own segment, so `samples` counts chunks) — no pretraining text is thrown away.
 */

/**
 * Bumped whenever the same inputs would give different shards (part of every cache key).
 * 2: an answer starts right after its generation prompt (Qwen3 learns the think block of its
 * final answer); a past answer whose reasoning the template drops is masked, not refused.
 */
export const PIPELINE_VERSION = 2;

interface PrepareDatasetInput {
  /** A local JSONL file (a released version's `data.jsonl`). */
  readonly path: string;
  readonly format: DataFormat;
  /** In [0.01, 10]; default 1. */
  readonly samplingRate?: number;
  /**
   * `validation`: every record is evaluation data (a separate validation set, such as OpenAI's
   * `validation_file`), whatever `splitRatio` holds out of the training data. Default: training.
   */
  readonly role?: "validation";
}

interface CountTokensOptions {
  readonly datasets: readonly PrepareDatasetInput[];
  /** A Hugging Face model folder: tokenizer.json, tokenizer_config.json, config.json. */
  readonly modelDir: string;
  readonly trainMode: TrainMode;
  readonly maxSeqLen: number;
  /** Percent of records held out for validation (0-100); default 0. */
  readonly splitRatio?: number;
  /** Default 42. */
  readonly seed?: number;
  readonly onProgress?: (progress: PrepareProgress) => void;
}

export interface PrepareOptions extends CountTokensOptions {
  /** Gets `train/` and `validation/` (must not hold shards already). */
  readonly outDir: string;
  /** Upper bound of one shard's ids file (default 256 MiB). */
  readonly maxShardBytes?: number;
}

interface PrepareProgress {
  readonly dataset: number;
  readonly bytesRead: number;
  readonly records: number;
}

interface PreparedData {
  readonly train: SplitManifest;
  readonly validation: SplitManifest;
  /** sha256 of each dataset file as read (to compare with the released content hash). */
  readonly datasetHashes: readonly string[];
}

/**
 * Tokenizes, masks, splits and packs `datasets` for `modelDir` into `outDir/train` and
 * `outDir/validation` (each a folder with manifest.json and shards).
 *
 * @example
 * const { train, validation } = await prepareTrainingData({
 *   datasets: [{ path: "data.jsonl", format: "PromptResponse" }], modelDir: "models/amv-1",
 *   trainMode: "SFT", maxSeqLen: 512, splitRatio: 10, seed: 42, outDir: "/tmp/shards",
 * });
 * train.trainedTokens // 12345
 */
export async function prepareTrainingData(options: PrepareOptions): Promise<PreparedData> {
  return run(options, options.outDir, options.maxShardBytes);
}

/**
 * The same pipeline without writing anything: sample, token and row counts per split (for
 * quotes and accounting).
 *
 * @example (await countTokens({ datasets, modelDir, trainMode: "SFT", maxSeqLen: 4096 })).train.trainedTokens
 */
export async function countTokens(options: CountTokensOptions): Promise<PreparedData> {
  return run(options, null, undefined);
}

async function run(options: CountTokensOptions, outDir: string | null, maxShardBytes: number | undefined): Promise<PreparedData> {
  const { trainMode, maxSeqLen } = options;
  const splitRatio = options.splitRatio ?? 0;
  const seed = options.seed ?? 42;
  checkOptions(options, splitRatio);
  const tokenizer = await loadTokenizer(options.modelDir);
  const builder = new SampleBuilder({
    tokenizer, trainMode, vocabSize: await readVocabSize(options.modelDir),
    chat: new ChatRenderer({ template: tokenizer.chatTemplate, tokens: tokenizer.templateTokens, addedTokens: tokenizer.addedTokens }),
  });
  const kind: ShardKind = trainMode === "KTO" ? "kto" : trainMode === "DPO" ? "preference" : "packed";
  const writer = (split: "train" | "validation") => new SplitWriter({
    kind, split, seqLen: maxSeqLen, padId: tokenizer.padId, dir: outDir === null ? null : join(outDir, split), maxShardBytes,
  });
  const train = writer("train");
  const validation = writer("validation");

  const datasetHashes: string[] = [];
  for (const [dataset, input] of options.datasets.entries()) {
    const hash = createHash("sha256");
    let bytesRead = 0;
    let record = 0;
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const check = formatInfo(input.format).check;
    const source = tap(createReadStream(input.path), (chunk) => {
      hash.update(chunk);
      bytesRead += chunk.length;
    });
    for await (const line of readLines(source)) {
      let bytes = line.bytes;
      if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      if (line.number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      const value = parseLine(decoder, bytes, line.tooLong, check, dataset, line.number);
      if (value === undefined) continue;
      const at = { seed, dataset, record: record++ };
      const held = input.role === "validation" || isValidation({ ...at, splitRatio });
      // Validation is subsampled like training (rate < 1) but never repeated.
      const n = held ? Math.min(1, copies({ ...at, samplingRate: input.samplingRate ?? 1 })) : copies({ ...at, samplingRate: input.samplingRate ?? 1 });
      if (n === 0) continue;
      const target = held ? validation : train;
      const where = `dataset ${dataset} line ${line.number}`;
      if (builder.preference) {
        const pair = atRecord(where, () => builder.pair(value));
        for (let i = 0; i < n; i++) target.addPair(pair);
      } else {
        const sample = atRecord(where, () => builder.sft(input.format, value));
        // A long document is continued in the next chunk rather than cut: pretraining text has
        // no answer to lose, only data. Conversations are truncated (counted) instead.
        const parts = trainMode === "PostPretrain" ? chunk(sample, maxSeqLen) : [sample];
        for (let i = 0; i < n; i++) for (const part of parts) target.add(part);
      }
      if (target.needsFlush) await target.flush();
      if (options.onProgress !== undefined && record % 1000 === 0) options.onProgress({ dataset, bytesRead, records: record });
    }
    options.onProgress?.({ dataset, bytesRead, records: record });
    datasetHashes.push(hash.digest("hex"));
  }

  const settings = {
    pipeline: PIPELINE_VERSION, trainMode, maxSeqLen, splitRatio, seed, tokenizer: tokenizer.hash,
    datasets: options.datasets.map((d, i) => ({
      sha256: datasetHashes[i], format: d.format, samplingRate: d.samplingRate ?? 1, ...(d.role === undefined ? {} : { role: d.role }),
    })),
  };
  const contentHash = (split: string) => createHash("sha256").update(JSON.stringify({ ...settings, split })).digest("hex");
  const trainManifest = await train.finish(contentHash("train"));
  const validationManifest = await validation.finish(contentHash("validation"));
  if (trainManifest.samples === 0) {
    throw new PipelineInputError(
      validationManifest.samples > 0
        ? `every sample went to validation (splitRatio ${splitRatio}); lower the split ratio`
        : "the datasets produced no training samples; add data or raise the sampling rate",
    );
  }
  return { train: trainManifest, validation: validationManifest, datasetHashes };
}

/** `build()`, its input errors (a template that refuses the conversation) saying which record. */
function atRecord<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof PipelineInputError) throw new PipelineInputError(`${where}: ${error.message}`, error.field);
    throw error;
  }
}

function chunk(sample: TokenSample, size: number): TokenSample[] {
  if (sample.ids.length <= size) return [sample];
  const out: TokenSample[] = [];
  for (let at = 0; at < sample.ids.length; at += size) out.push({ ids: sample.ids.slice(at, at + size), mask: sample.mask.slice(at, at + size) });
  return out;
}

function checkOptions(options: CountTokensOptions, splitRatio: number): void {
  if (!Number.isInteger(options.maxSeqLen) || options.maxSeqLen < 2) throw new PipelineInputError(`maxSeqLen must be an integer >= 2, got ${options.maxSeqLen}`, "maxSeqLen");
  if (!(splitRatio >= 0 && splitRatio <= 100)) throw new PipelineInputError(`splitRatio must be a percentage, got ${splitRatio}`, "splitRatio");
  if (options.datasets.length === 0) throw new PipelineInputError("at least one dataset is needed", "datasets");
  options.datasets.forEach((d, i) => {
    if (!formatFitsTrainMode(d.format, options.trainMode)) {
      throw new PipelineInputError(`dataset ${i} is ${d.format}, which ${options.trainMode} cannot train on`, `datasets[${i}].format`);
    }
    const rate = d.samplingRate ?? 1;
    if (!(rate >= 0.01 && rate <= 10)) throw new PipelineInputError(`samplingRate must be in [0.01, 10], got ${rate}`, `datasets[${i}].samplingRate`);
  });
}

/** One JSONL line to a checked record; undefined for a blank line. */
function parseLine(decoder: { decode(bytes: Uint8Array): string }, bytes: Uint8Array, tooLong: boolean, check: (value: unknown) => number, dataset: number, line: number): unknown {
  const where = `dataset ${dataset} line ${line}`;
  if (tooLong) throw new PipelineInputError(`${where} is too long`);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new PipelineInputError(`${where} is not valid UTF-8`);
  }
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
    check(value);
  } catch (error) {
    if (error instanceof LineProblem) throw new PipelineInputError(`${where}: ${formatPath(error.path) || "$"} ${error.message}`);
    throw new PipelineInputError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  return value;
}

async function* tap(source: AsyncIterable<Buffer>, see: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    see(chunk);
    yield chunk;
  }
}

/** `vocab_size` from the model's config.json, or null when it has none. */
async function readVocabSize(modelDir: string): Promise<number | null> {
  const text = await readFile(join(modelDir, "config.json"), "utf8").catch(() => null);
  if (text === null) return null;
  try {
    const value = (JSON.parse(text) as { vocab_size?: unknown }).vocab_size;
    return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}
