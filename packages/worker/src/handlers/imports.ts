import { executeDatasetImport, executeModelImport, type ImportOutcome, type Lease } from "@sailfin/engine";
import type { HandlerContext, Outcome } from "../outcome.js";

/**
 * Imports need no runtime: the engine validates and copies in Node. Their verdict is written by
 * the loop's fenced completion (`settle`), so a worker that lost its lease records nothing; an
 * interrupted attempt is released or re-claimed and redone.
 */
export async function runDatasetImport(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  return importOutcome(await executeDatasetImport(ctx.res, lease, ctx.signal));
}

/** A model folder import: copied into `models/<versionId>/` and checked (see runDatasetImport). */
export async function runModelImport(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  return importOutcome(await executeModelImport(ctx.res, lease, ctx.signal));
}

function importOutcome(outcome: ImportOutcome): Outcome {
  switch (outcome.kind) {
    case "imported": return { kind: "done", reason: outcome.reason, result: outcome.result, settle: outcome.settle };
    // Bad data is the user's: no retry, as an import always failed at once.
    case "rejected": return { kind: "failed", failure: "user", reason: outcome.reason, settle: outcome.settle };
    case "interrupted": return { kind: "failed", failure: "system", reason: "the import was interrupted" };
  }
}
