import { RUN_KINDS, type RunKind } from "../queue/lease.js";
import type { OnRunEnded } from "../queue/run-ending.js";
import { CONCURRENCY_CLASSES, type ConcurrencyClass, type RunKindDefinition } from "./define.js";
import { compressRun } from "./compress.js";
import { evalExportRun } from "./eval-export.js";
import { evaluateRun } from "./evaluate.js";
import { finetuneRun } from "./finetune.js";
import { publishRun } from "./publish.js";
import { serveRun } from "./serve.js";
import { datasetImportRun, modelImportRun } from "./imports.js";
import { datasetExportRun, modelExportRun } from "./exports.js";

/**
 * Every run kind the queue holds, by kind: what the worker runs (payload schema, attempt, failure
 * hook), which slots take it, whether it needs the runtime, and its noun in messages. A new kind
 * is one module beside these and one line here (plus its name in the contract's RUN_KINDS).
 */
export const RUN_CATALOG: { readonly [K in RunKind]: RunKindDefinition } = {
  finetune: finetuneRun,
  publish: publishRun,
  compress: compressRun,
  evaluate: evaluateRun,
  "eval-export": evalExportRun,
  "dataset-import": datasetImportRun,
  "model-import": modelImportRun,
  "dataset-export": datasetExportRun,
  "model-export": modelExportRun,
  serve: serveRun,
};

/**
 * The queue's end hook over this catalog: the kind of a run that ended without success settles
 * what the run was making. Every caller of failRun, cancelRun and requeueExpired passes it.
 *
 * @example await requeueExpired(db, workerId, { onEnded: settleEndedRun })
 */
export const settleEndedRun: OnRunEnded = async (trx, run, ending) => {
  if (isRunKind(run.kind)) await RUN_CATALOG[run.kind].onEnded(trx, run.spec, ending);
};

/**
 * The kinds every serving process runs in a worker of its own, Python or not (the imports a
 * request starts): no worker announces them and they are never stranded while a server answers.
 */
export const SERVER_KINDS: readonly RunKind[] = RUN_KINDS.filter((kind) => RUN_CATALOG[kind].everyServer);

/** Whether a word names a run kind. @example isRunKind("publish") // true */
export function isRunKind(word: string): word is RunKind {
  return Object.hasOwn(RUN_CATALOG, word);
}

/**
 * The kinds of each concurrency class, classes in CONCURRENCY_CLASSES order and kinds in
 * RUN_KINDS order; `only` leaves the others out (a class may end up empty).
 *
 * @example kindsByClass(["evaluate"]) // { training: [], "file-work": [], evaluation: ["evaluate"] }
 */
export function kindsByClass(only?: readonly RunKind[]): Record<ConcurrencyClass, RunKind[]> {
  const taken = only === undefined ? RUN_KINDS : RUN_KINDS.filter((kind) => only.includes(kind));
  return Object.fromEntries(CONCURRENCY_CLASSES.map((c) => [c, taken.filter((kind) => RUN_CATALOG[kind].concurrency === c)])) as Record<ConcurrencyClass, RunKind[]>;
}
