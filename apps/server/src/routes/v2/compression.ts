import {
  CreateModelCompTaskBody, DescribeModelCompTasksBody, ModelCompTaskIdBody, compTaskStatus, isoOffset, pageRequest, parseWith,
  type CompTaskItem, type DescribeModelCompTasksResult,
} from "@sailfin/contract";
import {
  cancelCompTask, createCompTask, deleteCompTask, describeCompTask, listCompTasks, waitingReason, type CompTaskView,
} from "@sailfin/engine";
import { NO_RESULT } from "../../render.js";
import { withWaitingReason } from "../waiting-reason.js";
import { v2, type RouteDef } from "../route.js";

/**
 * Model compression (V2 `/v2/model?Action=…ModelCompTask`, reference §9). Reads need
 * `comp:read`, writes `comp:write`. `StopModelCompTask` is answered as an alias of
 * `CancelModelCompTask` (the doc page is titled "stop"; the SDK's action is Cancel).
 */

/** The seed's `modelCompTaskItem`, plus Sailfin's measurements (documented in docs/api.md). */
function v2CompTask(view: CompTaskView): CompTaskItem {
  const { spec, result } = view;
  const status = compTaskStatus(view);
  const delta = result?.perplexityBefore != null && result.perplexityAfter != null
    ? Number((((result.perplexityAfter - result.perplexityBefore) / result.perplexityBefore) * 100).toFixed(3)) : null;
  return {
    id: view.id,
    name: view.name,
    description: view.description,
    status,
    sourceModelId: view.sourceModelId,
    modelId: status === "succeeded" ? result?.modelId ?? spec.outputVersionId : "",
    config: spec.config,
    createTime: isoOffset(view.createdAt),
    ...(view.finishedAt === null ? {} : { finishTime: isoOffset(view.finishedAt) }),
    ...(status === "failed" ? { failedReason: view.failureReason ?? "" } : {}),
    progress: view.progress,
    ...(result === null ? {} : {
      sizeBeforeBytes: result.sizeBeforeBytes,
      sizeAfterBytes: result.sizeAfterBytes,
      perplexityBefore: result.perplexityBefore,
      perplexityAfter: result.perplexityAfter,
      perplexityDeltaPercent: delta,
      seconds: result.seconds,
    }),
  };
}

const cancel = (action: string) => v2("model", action, "comp:write", async (ctx, body) => {
  const input = parseWith(ModelCompTaskIdBody, body);
  await cancelCompTask(ctx.res, ctx.caller, input.modelCompTaskId, "modelCompTaskId");
  return NO_RESULT;
});

export const compressionRoutes: RouteDef[] = [
  v2("model", "CreateModelCompTask", "comp:write", async (ctx, body): Promise<string> => {
    const input = parseWith(CreateModelCompTaskBody, body);
    return createCompTask(ctx.res, ctx.caller, {
      name: input.name, sourceModelId: input.sourceModelId, modelSetId: input.modelSetId, config: input.config,
      ...(input.description === undefined ? {} : { description: input.description }),
    });
  }),

  v2("model", "DescribeModelCompTasks", "comp:read", async (ctx, body): Promise<DescribeModelCompTasksResult> => {
    const input = parseWith(DescribeModelCompTasksBody, body);
    const page = await listCompTasks(ctx.res, pageRequest(input), input.sourceModelId);
    return { modelCompTaskList: page.items.map(v2CompTask), pageInfo: page.pageInfo };
  }),

  v2("model", "DescribeModelCompTask", "comp:read", async (ctx, body): Promise<CompTaskItem> => {
    const input = parseWith(ModelCompTaskIdBody, body);
    const view = await describeCompTask(ctx.res, input.modelCompTaskId, "modelCompTaskId");
    return withWaitingReason(v2CompTask(view), await waitingReason(ctx.res.db, view));
  }),

  cancel("CancelModelCompTask"),
  cancel("StopModelCompTask"),

  v2("model", "DeleteModelCompTask", "comp:write", async (ctx, body) => {
    const input = parseWith(ModelCompTaskIdBody, body);
    await deleteCompTask(ctx.res, ctx.caller, input.modelCompTaskId, "modelCompTaskId");
    return true;
  }),
];
