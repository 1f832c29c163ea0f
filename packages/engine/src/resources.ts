import type { Kysely } from "kysely";
import type { Database, Dialect } from "@sailfin/store";
import type { ArtifactStore } from "./artifacts/artifact-store.js";
import type { RunFiles } from "./artifacts/run-files.js";
import type { SecretBox } from "./iam/secret-box.js";
import type { BackgroundTasks } from "./background.js";
import type { JudgeEndpoints } from "./evaluations/judge-endpoints.js";
import type { ResourcePools } from "./pools/pool-config.js";

/**
 * The bag every engine operation takes (trigger.dev's SystemResources): explicit dependencies,
 * nothing reached for through globals or `process.env`.
 */
export interface EngineResources {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly artifacts: ArtifactStore;
  /** The store as local files for runs and the tokenizer (the store's own folder, or staged through this node's work folder). */
  readonly files: RunFiles;
  readonly secrets: SecretBox;
  readonly log: Logger;
  readonly background: BackgroundTasks;
  /** The judge endpoints `model` evaluations may call, and their keys (operator configuration). */
  readonly judge: JudgeEndpoints;
  /** Where runs execute (SAILFIN_POOLS): API resource requests are checked against it, runs queued into it. */
  readonly pools: ResourcePools;
}

/** The minimal logger shape we need (pino's, console-compatible). */
export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** Who did it: an access key, or the system itself. Recorded on every event. */
export interface Actor {
  readonly accessKey: string;
}

export const SYSTEM_ACTOR: Actor = { accessKey: "system" };
