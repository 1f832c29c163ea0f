import { SailfinError, type RunStatus } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { findVersionPublishedFrom } from "../models/index.js";
import type { EngineResources } from "../resources.js";

/** A paused run resumes later: it still needs its data, checkpoints and base. */
const ACTIVE: readonly RunStatus[] = ["Queued", "Running", "Paused"];

/**
 * Refuses (Conflict) to delete runs that are still waiting, running or paused, that a model version was
 * published from (its lineage would dangle), or that an active incremental run starts from
 * (the worker still needs the checkpoint).
 */
export async function assertRunsDeletable(db: Db, runs: ReadonlyArray<{ num: number; id: string; status: string }>): Promise<void> {
  const active = runs.find((run) => (ACTIVE as readonly string[]).includes(run.status));
  if (active !== undefined) {
    throw new SailfinError("Conflict", { detail: `task ${active.id} is waiting, running or paused; stop it first` });
  }
  if (runs.length === 0) return;
  const nums = runs.map((run) => run.num);
  const published = await findVersionPublishedFrom(db, nums);
  if (published !== null) {
    const run = runs.find((r) => r.num === published.runNum);
    throw new SailfinError("Conflict", { detail: `model version ${published.id} was published from task ${run?.id}; delete the model version first` });
  }
  const dependent = await db.selectFrom("runs").select(["id", "increment_run_num"])
    .where("increment_run_num", "in", nums).where("status", "in", [...ACTIVE]).executeTakeFirst();
  if (dependent !== undefined) {
    const run = runs.find((r) => r.num === dependent.increment_run_num);
    throw new SailfinError("Conflict", { detail: `task ${dependent.id} trains incrementally from task ${run?.id}; wait for it or stop it first` });
  }
}

/** Removes checkpoint files after their rows are gone (best effort: a leftover file is only disk space). */
export function removeCheckpointFiles(res: EngineResources, paths: readonly string[]): void {
  if (paths.length === 0) return;
  res.background.run("finetune:remove-checkpoints", async () => {
    for (const path of paths) {
      try {
        await res.artifacts.delete(path);
      } catch (error) {
        res.log.warn({ err: error, path }, "could not remove a checkpoint of a deleted task");
      }
    }
  });
}
