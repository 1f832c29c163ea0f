import { createHash, randomBytes } from "node:crypto";
import { readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SailfinError, type TrainMode } from "@sailfin/contract";
import { PIPELINE_VERSION, PipelineInputError, prepareTrainingData, type DataFormat, type SplitManifest } from "@sailfin/data";
import { folderKey } from "../artifacts/run-files.js";
import type { EngineResources } from "../resources.js";
import type { FinetuneRunSpec } from "./records.js";

/**
 * Token shards for a fine-tuning run, cached in the artifact store under
 * `token-cache/<key>/{train,validation}/`, so a second run on the same data, tokenizer and
 * settings does no tokenization at all.
 *
 * The key is a sha256 of everything that changes the shards: each dataset version's content
 * hash (fixed at release), format and sampling rate; the model's tokenizer.json and
 * tokenizer_config.json (the chat template, BOS/EOS settings) and chat_template.jinja; the
 * model's vocab_size (token ids are checked against it); maxSeqLen, trainMode, splitRatio,
 * seed; and the pipeline version.
 *
 * Two workers preparing the same key never see each other's half-written files: each writes
 * into its own `token-cache/.tmp-<key>-<random>/` and publishes it with one `rename`; the loser
 * of a race finds the folder taken, drops its copy and uses the winner's. On a remote store the
 * shards are prepared in the work folder and committed to the store's `token-cache/<key>/` (the
 * split manifests last): a worker finds them there and downloads them instead of tokenizing.
 */
export interface PrepareRunDataInput {
  readonly datasets: ReadonlyArray<{
    /** Artifact key of the released JSONL (`datasets/<versionId>/data.jsonl`). */
    readonly dataKey: string;
    readonly format: DataFormat;
    /** sha256 of that file, fixed at release (`content_hash`). */
    readonly contentHash: string;
    readonly samplingRate: number;
    /** `validation`: all of it is evaluation data (a separate validation set). */
    readonly role?: "validation";
  }>;
  /** Artifact key of the base model folder (`models/<versionId>/`). */
  readonly modelKey: string;
  readonly trainMode: TrainMode;
  readonly maxSeqLen: number;
  /** Percent held out for validation. */
  readonly splitRatio: number;
  readonly seed: number;
}

export interface PreparedRunData {
  readonly key: string;
  /** True when the shards came from the cache (nothing was tokenized). */
  readonly cached: boolean;
  /** Absolute folders for the runtime's spec (`data.train`, `data.validation`). */
  readonly trainDir: string;
  readonly validationDir: string;
  readonly train: SplitManifest;
  readonly validation: SplitManifest;
}

const CACHE_PREFIX = "token-cache";
/** Leftover temporary folders older than this are from a crashed worker and are removed. */
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

/**
 * Returns the run's token shards, preparing them unless cached. Input problems (a tokenizer
 * that does not match the model, no training samples) are `InvalidParameter` errors: the
 * user's to fix, not worth a retry.
 *
 * @example
 * const data = await prepareRunData(res, {
 *   datasets: [{ dataKey: "datasets/ds-1/data.jsonl", format: "PromptResponse", contentHash, samplingRate: 1 }],
 *   modelKey: "models/amv-1/", trainMode: "SFT", maxSeqLen: 512, splitRatio: 10, seed: 42,
 * });
 * spec.data = { train: data.trainDir, validation: data.validationDir };
 */
export async function prepareRunData(res: Pick<EngineResources, "files">, input: PrepareRunDataInput): Promise<PreparedRunData> {
  const { files } = res;
  const modelDir = await files.input(folderKey(input.modelKey));
  const key = await tokenCacheKey(modelDir, input);
  const cacheKey = `${CACHE_PREFIX}/${key}/`;
  // Another worker (or this one) prepared it: a remote store's copy is downloaded, not redone.
  const found = await files.find(cacheKey, ["train/manifest.json", "validation/manifest.json"]);
  const hit = found === null ? null : await readCached(found);
  if (hit !== null) return { key, cached: true, ...hit };

  const finalDir = await files.output(cacheKey);
  const root = dirname(finalDir);
  await removeStaleTemporaries(root);
  const tmpDir = join(root, `.tmp-${key}-${randomBytes(6).toString("hex")}`);
  let prepared: Omit<PreparedRunData, "key" | "cached">;
  let cached = false;
  try {
    const datasets = [];
    for (const d of input.datasets) datasets.push({ path: await files.input(d.dataKey), format: d.format, samplingRate: d.samplingRate, ...roleOf(d) });
    const done = await prepareTrainingData({
      datasets, modelDir, trainMode: input.trainMode, maxSeqLen: input.maxSeqLen, splitRatio: input.splitRatio, seed: input.seed, outDir: tmpDir,
    });
    done.datasetHashes.forEach((hash, i) => {
      const expected = input.datasets[i]!.contentHash;
      if (hash !== expected) {
        throw new SailfinError("InternalError", { detail: `dataset file ${input.datasets[i]!.dataKey} changed after release (sha256 ${hash}, released ${expected})` });
      }
    });
    // rename replaces the empty folder output() made; a full one is another worker's.
    try {
      await rename(tmpDir, finalDir);
      prepared = { trainDir: join(finalDir, "train"), validationDir: join(finalDir, "validation"), train: done.train, validation: done.validation };
    } catch (error) {
      // Another worker published the same key first: its shards are identical; use them.
      if (!["ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
      await rm(tmpDir, { recursive: true, force: true });
      const other = await readCached(finalDir);
      if (other === null) throw error;
      prepared = other;
      cached = true;
    }
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    if (error instanceof PipelineInputError) {
      throw new SailfinError("InvalidParameter", { field: error.field ?? "datasetConfig", detail: error.message, cause: error });
    }
    throw error;
  }
  // Published to a remote store (manifests last), so other workers download instead of tokenizing.
  await files.commit(cacheKey);
  return { key, cached, ...prepared };
}

/**
 * The cache key of `input` for the model folder `modelDir` (hashes its tokenizer files).
 *
 * @example await tokenCacheKey("/home/.sailfin/models/amv-1", input) // "3f1c…" (64 hex digits)
 */
async function tokenCacheKey(modelDir: string, input: PrepareRunDataInput): Promise<string> {
  const fileHash = async (name: string) => {
    const bytes = await readFile(join(modelDir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      throw error;
    });
    return bytes === null ? null : createHash("sha256").update(bytes).digest("hex");
  };
  const material = {
    pipeline: PIPELINE_VERSION,
    datasets: input.datasets.map((d) => ({ contentHash: d.contentHash, format: d.format, samplingRate: d.samplingRate, ...roleOf(d) })),
    tokenizer: await fileHash("tokenizer.json"),
    tokenizerConfig: await fileHash("tokenizer_config.json"),
    chatTemplateFile: await fileHash("chat_template.jinja"),
    // Shards are checked against the model's vocab_size when prepared; a model sharing the
    // tokenizer but with another embedding size gets its own check (and entry).
    vocabSize: await readVocabSize(modelDir),
    maxSeqLen: input.maxSeqLen,
    trainMode: input.trainMode,
    splitRatio: input.splitRatio,
    seed: input.seed,
  };
  return createHash("sha256").update(JSON.stringify(material)).digest("hex");
}

/** The role key only where it is set, so the cache keys of training-only runs stay what they were. */
function roleOf(d: { readonly role?: "validation" }): { role?: "validation" } {
  return d.role === undefined ? {} : { role: d.role };
}

async function readVocabSize(modelDir: string): Promise<number | null> {
  const text = await readFile(join(modelDir, "config.json"), "utf8").catch(() => null);
  if (text === null) return null;
  try {
    const value = (JSON.parse(text) as { vocab_size?: unknown }).vocab_size;
    return typeof value === "number" ? value : null;
  } catch {
    return null;
  }
}

async function readCached(dir: string): Promise<Omit<PreparedRunData, "key" | "cached"> | null> {
  const manifest = async (split: string) => {
    const text = await readFile(join(dir, split, "manifest.json"), "utf8").catch(() => null);
    return text === null ? null : (JSON.parse(text) as SplitManifest);
  };
  const train = await manifest("train");
  const validation = await manifest("validation");
  if (train === null || validation === null) return null;
  return { trainDir: join(dir, "train"), validationDir: join(dir, "validation"), train, validation };
}

async function removeStaleTemporaries(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(".tmp-")) continue;
    const info = await stat(join(root, name)).catch(() => null);
    if (info !== null && now - info.mtimeMs > STALE_TMP_MS) await rm(join(root, name), { recursive: true, force: true });
  }
}

/**
 * The token shards of a fine-tuning run's frozen spec, tokenized for the model at `modelKey`
 * (cached: the same data and tokenizer give the same shards). Also used by compression to
 * measure perplexity on the held-out split of the data a version was trained on.
 */
export async function prepareSpecData(res: EngineResources, spec: FinetuneRunSpec, modelKey: string): Promise<PreparedRunData> {
  const rows = await res.db.selectFrom("dataset_versions").select(["num", "id", "data_path"])
    .where("num", "in", spec.dataset.versions.map((v) => v.versionNum)).execute();
  const hyper = spec.hyperParameters as Record<string, unknown>;
  return prepareRunData(res, {
    datasets: spec.dataset.versions.map((v) => {
      const row = rows.find((r) => r.num === v.versionNum);
      if (row?.data_path == null) throw new SailfinError("InvalidParameter", { field: "datasetConfig", detail: `dataset version ${v.versionId} no longer has data` });
      return { dataKey: row.data_path, format: v.dataFormat as DataFormat, contentHash: v.contentHash, samplingRate: v.samplingRate, ...roleOf(v) };
    }),
    modelKey, trainMode: spec.trainMode, maxSeqLen: Number(hyper.maxSeqLen ?? 512),
    splitRatio: spec.dataset.splitRatio, seed: Number(hyper.seed ?? 42),
  });
}
