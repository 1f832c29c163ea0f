import { randomBytes } from "node:crypto";

/**
 * Public id prefixes, as Qianfan issues them (reference §1.5). Every object also has a numeric
 * twin (its row number) for the V1 dialect, which accepts either form.
 */
const ID_PREFIX = {
  job: "job",
  task: "task",
  modelSet: "am",
  modelVersion: "amv",
  compTask: "amva",
  eval: "ame",
  evalExport: "amemt",
  dataset: "ds",
  datasetVersion: "ds",
  importTask: "dsit",
  // The reference gives a dataset export task id as "task-…"; a model export's format was not captured.
  datasetExport: "task",
  modelExport: "amexp",
  // Inference (reference §14.1, §16): a custom service, a batch-inference task.
  service: "svco",
  batchInference: "infer",
  // Sailfin's own objects (webhooks are an extension; Qianfan has no prefix for them).
  webhook: "wh",
  webhookDelivery: "whd",
  // OpenAI's fine-tuning dialect (issue 16): a file, a job.
  openAiFile: "file",
  fineTuningJob: "ftjob",
} as const;

type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Tail lengths: 16 for datasets (as Qianfan's), 12 for everything else. */
function tailLength(kind: IdKind): number {
  return kind === "dataset" || kind === "datasetVersion" ? 16 : 12;
}

function randomTail(length: number): string {
  // Rejection sampling keeps the 36 symbols uniform (256 is not a multiple of 36).
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

/**
 * A fresh public id for an object kind.
 *
 * @example newId("job") // "job-n50985crhqq3"
 */
export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}-${randomTail(tailLength(kind))}`;
}

/** True when `value` has the shape of an id of this kind (prefix and tail alphabet). */
export function isIdOf(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIX[kind]}-`;
  return value.startsWith(prefix) && /^[a-z0-9]+$/.test(value.slice(prefix.length));
}

/** An access key id: 32 lowercase hex characters, as BCE issues them. */
export function newAccessKeyId(): string {
  return randomBytes(16).toString("hex");
}

/** A secret key: 32 lowercase hex characters. */
export function newSecretKey(): string {
  return randomBytes(16).toString("hex");
}
