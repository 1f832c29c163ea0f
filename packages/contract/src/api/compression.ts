import { z } from "zod";
import type { PageInfo } from "../pagination.js";
import type { CompTaskStatus } from "../states.js";
import { PageFields } from "../validate.js";

/**
 * Model compression (V2 `POST /v2/model?Action=…ModelCompTask`, reference §9): request bodies
 * and the task object.
 */

export const CreateModelCompTaskBody = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  /** The version (`amv-…`) to compress. */
  sourceModelId: z.string().min(1),
  /** The set (`am-…`) that receives the compressed version. */
  modelSetId: z.string().min(1),
  /**
   * `{strategy: "Quantization", weight: "W8A16C16" | "W4A16C16" …}`. Unknown keys are dropped, as
   * everywhere in the contract: what is stored and shown back is what Sailfin understood.
   */
  config: z.object({ strategy: z.string().max(64), weight: z.string().max(64).optional() }),
});
export type CreateModelCompTaskBody = z.infer<typeof CreateModelCompTaskBody>;

export const DescribeModelCompTasksBody = z.object({ ...PageFields, sourceModelId: z.string().min(1).optional() });
export type DescribeModelCompTasksBody = z.infer<typeof DescribeModelCompTasksBody>;

export const ModelCompTaskIdBody = z.object({ modelCompTaskId: z.string().min(1) });
export type ModelCompTaskIdBody = z.infer<typeof ModelCompTaskIdBody>;

/** The seed's `modelCompTaskItem`, plus Sailfin's measurements once finished (docs/api.md). */
export interface CompTaskItem {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly status: CompTaskStatus;
  readonly sourceModelId: string;
  /** The compressed version, once succeeded; "" before. */
  readonly modelId: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly createTime: string;
  readonly finishTime?: string;
  readonly failedReason?: string;
  /**
   * Sailfin extension, only while queued (and only on the single-object describe): why no
   * worker will start it, e.g. `"no worker online"` (docs/api.md).
   */
  readonly waitingReason?: string;
  readonly progress: number;
  readonly sizeBeforeBytes?: number;
  readonly sizeAfterBytes?: number;
  readonly perplexityBefore?: number | null;
  readonly perplexityAfter?: number | null;
  readonly perplexityDeltaPercent?: number | null;
  readonly seconds?: number;
}

export interface DescribeModelCompTasksResult {
  readonly modelCompTaskList: readonly CompTaskItem[];
  readonly pageInfo: PageInfo;
}
