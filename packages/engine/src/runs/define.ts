import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Action } from "@sailfin/contract";
import type { Database } from "@sailfin/store";
import type { RunKind } from "../queue/lease.js";
import type { RunEnding } from "../queue/run-ending.js";
import type { RunDeps } from "./deps.js";
import { failed, type RunOutcome } from "./outcome.js";

/**
 * Which slots of a worker take a kind (each class has its own count of runs at once, so short
 * work never waits behind long work):
 * - `training`: fine-tuning, hours on the accelerator;
 * - `file-work`: short file work beside training (publish, compression, result export, imports);
 * - `evaluation`: generation over a dataset, minutes to hours;
 * - `serving`: an inference engine of a service, for as long as the service lives.
 * A worker's `slots` option and its announced kinds follow this order.
 */
export const CONCURRENCY_CLASSES = ["training", "file-work", "evaluation", "serving"] as const;
export type ConcurrencyClass = (typeof CONCURRENCY_CLASSES)[number];

/** A run kind as its module writes it: typed by its payload. */
interface RunKindSpec<Spec> {
  readonly kind: RunKind;
  /** The kind in messages (`fine-tuning`, `compression` …). */
  readonly noun: string;
  /** The IAM action a key needs to watch a run of this kind (the one its describe route needs). */
  readonly readAction: Action;
  readonly concurrency: ConcurrencyClass;
  /** Whether an attempt starts the Python runtime (a worker without an executor cannot take it). */
  readonly needsRuntime: boolean;
  /**
   * Whether every serving process runs it, in a worker of its own with or without Python (work a
   * request starts and a user waits on, such as imports); default false: workers that announce it.
   */
  readonly everyServer?: boolean;
  /** The payload schema of `runs.spec`. */
  readonly spec: z.ZodType<Spec>;
  /** One attempt, every side effect through `deps`. */
  run(spec: Spec, deps: RunDeps): Promise<RunOutcome>;
  /**
   * Settles what the run was making when it ends without success — Failed for good or Cancelled,
   * by its worker or by an expired lease — inside the transaction that ends it (a publish fails
   * its version there). Idempotent: the attempt's own verdict may have been written first.
   */
  onEnded?(trx: Transaction<Database>, spec: Spec, ending: RunEnding): Promise<void>;
}

/** A run kind as the worker sees it: the same, the payload parsed from the stored text. */
export interface RunKindDefinition {
  readonly kind: RunKind;
  readonly noun: string;
  readonly readAction: Action;
  readonly concurrency: ConcurrencyClass;
  readonly needsRuntime: boolean;
  readonly everyServer: boolean;
  readonly spec: z.ZodType;
  /** Parses `deps.run.storedSpec` (a spec that does not parse is a user failure naming the field), then runs. */
  attempt(deps: RunDeps): Promise<RunOutcome>;
  /** For the transaction that ends the run without success; nothing when the stored spec does not parse. */
  onEnded(trx: Transaction<Database>, storedSpec: string, ending: RunEnding): Promise<void>;
}

/** @example export const publishRun = defineRunKind({ kind: "publish", noun: "publish", concurrency: "file-work", needsRuntime: true, spec: publishSpecSchema, run: runPublish }); */
export function defineRunKind<Spec>(definition: RunKindSpec<Spec>): RunKindDefinition {
  const { kind, noun, readAction, concurrency, needsRuntime, spec } = definition;
  return {
    kind, noun, readAction, concurrency, needsRuntime, spec, everyServer: definition.everyServer ?? false,
    async attempt(deps) {
      const parsed = parseStoredSpec(spec, deps.run.storedSpec);
      return "error" in parsed ? failed("user", `the stored spec of ${deps.run.id} is not a valid ${kind} spec: ${parsed.error}`) : definition.run(parsed.spec, deps);
    },
    async onEnded(trx, storedSpec, ending) {
      if (definition.onEnded === undefined) return;
      const parsed = parseStoredSpec(spec, storedSpec);
      if (!("error" in parsed)) await definition.onEnded(trx, parsed.spec, ending);
    },
  };
}

/**
 * Stored JSON through a payload schema: the value, or what is wrong, naming the field
 * (`baseModel.versionNum: expected number, received string`).
 *
 * @example const parsed = parseStoredSpec(publishSpecSchema, row.spec); if ("error" in parsed) …
 */
export function parseStoredSpec<Spec>(schema: z.ZodType<Spec>, text: string): { readonly spec: Spec } | { readonly error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { spec: result.data };
  const issue = result.error.issues[0]!;
  return { error: `${issue.path.length === 0 ? "(the spec)" : issue.path.join(".")}: ${issue.message}` };
}
