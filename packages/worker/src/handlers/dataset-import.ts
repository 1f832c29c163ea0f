import { executeDatasetImport, type Lease } from "@sailfin/engine";
import type { HandlerContext, Outcome } from "../outcome.js";

/**
 * One attempt of a dataset import (no runtime: the engine validates and copies in Node). The
 * import's verdict is written by the loop's fenced completion (`settle`), so a worker that lost
 * its lease records nothing; an interrupted attempt is released or re-claimed and redone.
 */
export async function runDatasetImport(ctx: HandlerContext, lease: Lease): Promise<Outcome> {
  const outcome = await executeDatasetImport(ctx.res, lease, ctx.signal);
  switch (outcome.kind) {
    case "imported": return { kind: "done", reason: outcome.reason, result: outcome.result, settle: outcome.settle };
    // Bad data is the user's: no retry, as an import always failed at once.
    case "rejected": return { kind: "failed", failure: "user", reason: outcome.reason, settle: outcome.settle };
    case "interrupted": return { kind: "failed", failure: "system", reason: "the import was interrupted" };
  }
}
