import { newId } from "@sailfin/contract";
import type { Db } from "@sailfin/store";
import { enqueueRun } from "../queue/enqueue.js";
import type { Placement } from "../pools/index.js";
import type { Actor } from "../resources.js";

/** The payload of a `serve` run: which service, which version, and the name its engine answers to. */
export interface ServeRunSpec {
  readonly specVersion: 1;
  readonly kind: "serve";
  readonly serviceNum: number;
  readonly serviceId: string;
  readonly modelVersionNum: number;
  readonly modelVersionId: string;
  /** The `model` its engine answers to: the service's urlSuffix. */
  readonly servedModelName: string;
}

/**
 * A serving run never finishes, and a worker that dies requeues it through its expired lease
 * (each claim spends an attempt): attempts are counted against this generous bound only so that
 * an engine that crashes its worker again and again ends Failed some day.
 */
const SERVE_MAX_ATTEMPTS = 1_000;

/**
 * Queues the `serve` run of a service (inside the transaction that creates, starts or modifies it)
 * and points the service at it; returns the run's number.
 *
 * @example await queueServeRun(trx, actor, { num, id, urlSuffix }, { num: 3, id: "amv-…" }, placement)
 */
export async function queueServeRun(
  trx: Db, actor: Actor, service: { readonly num: number; readonly id: string; readonly urlSuffix: string },
  version: { readonly num: number; readonly id: string }, placement: Placement, reason: string,
): Promise<number> {
  const spec: ServeRunSpec = {
    specVersion: 1, kind: "serve", serviceNum: service.num, serviceId: service.id,
    modelVersionNum: version.num, modelVersionId: version.id, servedModelName: service.urlSuffix,
  };
  const runNum = await enqueueRun(trx, actor, {
    id: newId("task"), kind: "serve", name: `serve ${service.urlSuffix}`, modelVersionNum: version.num, spec,
    serviceNum: service.num, maxAttempts: SERVE_MAX_ATTEMPTS, placement, reason,
  });
  await trx.updateTable("services").set({ run_num: runNum }).where("num", "=", service.num).execute();
  return runNum;
}

/**
 * Whether `runNum` is still the run its service wants serving (the service exists, asks to serve,
 * and points at this run): a run handed back to the queue after a stop, or replaced by a modify,
 * must not bring an engine up again when a worker claims it.
 *
 * @example if (!(await wantedServing(db, spec.serviceNum, run.num))) return { kind: "stopped", … };
 */
export async function wantedServing(db: Db, serviceNum: number, runNum: number): Promise<boolean> {
  const row = await db.selectFrom("services").select(["desired", "run_num"]).where("num", "=", serviceNum).executeTakeFirst();
  return row !== undefined && row.desired === "Serving" && Number(row.run_num) === runNum;
}
