import type { FastifyInstance } from "fastify";
import type { OpenAiModelDeleted, OpenAiModelObject } from "@sailfin/contract";
import { deleteOpenAiModel, describeOpenAiModel, listOpenAiModels, type EngineResources, type FineTunedModels, type OpenAiModel } from "@sailfin/engine";

const modelObject = (m: OpenAiModel): OpenAiModelObject => ({ id: m.id, object: "model", created: m.created, owned_by: m.ownedBy });

/**
 * `GET /v1/models`, `GET /v1/models/{model}`, `DELETE /v1/models/{model}` (OpenAI's `Model` and
 * `DeleteModelResponse`): the fine-tuned models and the base models (engine openai-models.ts).
 * `ft:` names arrive with their `:` as they are (both SDKs leave it unencoded). A delete takes an
 * `ft:` model only: its on-demand services go, then its model version.
 */
export function registerOpenAiModels(app: FastifyInstance, res: EngineResources, options: { readonly fineTuned: FineTunedModels; readonly organization: string }): void {
  const read = { config: { access: { dialect: "openai", iam: "model:read", bearer: true } } } as const;
  const write = { config: { access: { dialect: "openai", iam: "model:write", bearer: true } } } as const;
  const header = (reply: { header(name: string, value: string): unknown }, id: string) => reply.header("x-request-id", id);

  app.get("/v1/models", read, async (request, reply) => {
    header(reply, request.id);
    return { object: "list", data: (await listOpenAiModels(res, options.fineTuned, options.organization)).map(modelObject), has_more: false };
  });
  app.get("/v1/models/:model", read, async (request, reply) => {
    header(reply, request.id);
    return modelObject(await describeOpenAiModel(res, (request.params as { model: string }).model, options.fineTuned, options.organization));
  });
  app.delete("/v1/models/:model", write, async (request, reply): Promise<OpenAiModelDeleted> => {
    const { model } = request.params as { model: string };
    await deleteOpenAiModel(res, request.sailfin!.caller!, model, options.fineTuned);
    header(reply, request.id);
    return { id: model, object: "model", deleted: true };
  });
}
