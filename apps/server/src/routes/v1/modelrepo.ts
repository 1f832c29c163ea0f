import {
  SailfinError, V1ModelBatchDeleteBody, V1ModelIdBody, V1ModelPresetListBody, V1ModelUserListBody, V1ModelVersionBatchDeleteBody,
  V1ModelVersionIdBody, V1PublishTrainModelBody, isoOffset, parseWith,
  type V1ModelDetail, type V1ModelList, type V1ModelSourceExtra, type V1ModelVersion, type V1ModelVersionDetail,
  type ModelSetType, type V1PublishTrainModelResult,
} from "@sailfin/contract";
import {
  deleteModelSets, deleteModelVersions, servicesOfVersions, describeModelSet, describeModelVersion, findModelSet, findModelVersion,
  listModelSetsV1, modelSetCreator, publishFromRun,
  type ModelSetRecord, type ModelVersionRecord, type ModelVersionView,
} from "@sailfin/engine";
import { v1, type RouteDef } from "../route.js";
import { versionServiceRefs } from "../service-render.js";

/**
 * V1 model repository (`/wenxinworkshop/modelrepo/*`, reference §7.1 and seed 004). Ids are
 * accepted as numbers or strings (`12094`, `"12094"`, `"am-…"`). Sailfin has no platform
 * presets, so `model/preset/list` is an honest empty page.
 */

/** V1 `modelType` integers (SDK `ModelTypeUser`) for each V2 set type. */
const V1_MODEL_TYPE: Record<ModelSetType, number> = {
  Text2Text: 0, Text2Image: 1, Industry: 2, TextRepresentation: 3, ImageUnderstanding: 5,
};
/** V1 filter integers back to set types (4, "embedding", is a text representation). */
const MODEL_TYPE_OF_V1: Record<number, ModelSetType> = {
  0: "Text2Text", 1: "Text2Image", 2: "Industry", 3: "TextRepresentation", 4: "TextRepresentation", 5: "ImageUnderstanding",
};

/** Dataset template of each train mode (trainSourceExtra.templateType): 2000 is the SFT prompt/response template. */
const TEMPLATE_TYPE: Record<string, number> = { SFT: 2000, DPO: 2002, KTO: 2002, PostPretrain: 40100 };

function v1SourceExtra(view: ModelVersionView): V1ModelSourceExtra {
  const { lineage } = view;
  if (lineage.sourceType === "Import") {
    return { sourceType: "Import", importModelVersionSourceExtra: { bucket: lineage.bucket, object: lineage.object } };
  }
  if (lineage.sourceType === "Train") {
    return {
      sourceType: "Train",
      trainSourceExtra: {
        taskId: lineage.job?.num ?? 0,
        taskIdStr: lineage.job?.id ?? "",
        taskName: lineage.job?.name ?? "",
        iterationVersion: lineage.run?.iterationVersion ?? 0,
        runId: lineage.run?.num ?? 0,
        runIdStr: lineage.run?.id ?? "",
        devType: 1, // 1 = fine-tuning (2/3 are RLHF stages, which Sailfin does not run)
        modelType: 20,
        templateType: TEMPLATE_TYPE[lineage.run?.trainMode ?? "SFT"] ?? 2000,
      },
    };
  }
  return {
    sourceType: "Acceleration",
    accelerationSourceExtra: {
      taskId: lineage.comp?.num ?? 0,
      taskIdStr: lineage.comp?.id ?? "",
      taskName: lineage.comp?.name ?? "",
      sourceModelVersionId: lineage.source?.num ?? 0,
      sourceModelVersionIdStr: lineage.source?.id ?? "",
    },
  };
}

/** The V1 model-version object (seed 004 field set; `params` only in modelVersionDetail). */
export function v1ModelVersion(view: ModelVersionView): V1ModelVersion {
  const { version: v, set, summary, lineage } = view;
  const algorithm = v.architecture ?? "";
  const lora = lineage.sourceType === "Train" && lineage.run?.parameterScale === "LoRA";
  return {
    modelId: set.num,
    modelIdStr: set.id,
    modelName: set.name,
    modelVersionId: v.num,
    modelVersionIdStr: v.id,
    version: String(v.version),
    description: v.description,
    sourceType: v.sourceType,
    sourceExtra: v1SourceExtra(view),
    framework: "pytorch",
    algorithm,
    modelNet: algorithm === "" ? "" : `pytorch-${algorithm}${lora ? "_LORA" : ""}`,
    state: v.status,
    ioMode: "chat",
    ioLength: summary === null ? "" : String(summary.maxPositionEmbeddings),
    copyright: "",
    property: {},
    createTime: isoOffset(v.createdAt),
    modifyTime: isoOffset(v.modifiedAt),
    // Qianfan's resource types (GPU-I-2 …) mean nothing here: a service deploys to any pool (docs/serving.md).
    deployResource: [],
    supportOptions: [],
    trainType: view.baseModel ?? "",
  };
}

function v1ModelType(set: ModelSetRecord): number {
  return V1_MODEL_TYPE[set.modelType as ModelSetType] ?? 0;
}

export const modelrepoRoutes: RouteDef[] = [
  v1("/wenxinworkshop/modelrepo/modelDetail", "model:read", async (ctx, body): Promise<V1ModelDetail> => {
    const input = parseWith(V1ModelIdBody, body);
    const set = await findModelSet(ctx.res, input.modelId, "modelId");
    const view = await describeModelSet(ctx.res, set);
    return {
      modelId: set.num,
      modelIdStr: set.id,
      modelName: set.name,
      source: set.source,
      modelType: v1ModelType(set),
      createUserId: 0,
      createUser: await modelSetCreator(ctx.res, set),
      createTime: isoOffset(set.createdAt),
      modifyTime: isoOffset(set.modifiedAt),
      description: set.description,
      trainType: view.versions[0]?.baseModel ?? "",
      tags: set.labels,
      languageSupport: [],
      expansion: [],
      modelVersionList: view.versions.map(v1ModelVersion),
    };
  }),

  v1("/wenxinworkshop/modelrepo/modelVersionDetail", "model:read", async (ctx, body): Promise<V1ModelVersionDetail> => {
    const input = parseWith(V1ModelVersionIdBody, body);
    const view = await describeModelVersion(ctx.res, input.modelVersionId, "modelVersionId", "ModelVersionNotFound");
    const services = await servicesOfVersions(ctx.res, [view.version.num]);
    // `params` describes a preset service's I/O schema, which Sailfin has none of; `services` is Sailfin's.
    return { ...v1ModelVersion(view), params: {}, services: versionServiceRefs(services.get(view.version.num)) };
  }),

  v1("/wenxinworkshop/modelrepo/publishTrainModel", "model:write", async (ctx, body): Promise<V1PublishTrainModelResult> => {
    const input = parseWith(V1PublishTrainModelBody, body);
    let target: Parameters<typeof publishFromRun>[2]["target"];
    if (input.isNewModel) {
      if (input.modelName === undefined) throw new SailfinError("InvalidParameter", { field: "modelName", detail: "is required when isNewModel is true" });
      target = { kind: "new", name: input.modelName, nameField: "modelName", ...(input.tags === undefined ? {} : { labels: input.tags }) };
    } else {
      if (input.modelId === undefined) throw new SailfinError("InvalidParameter", { field: "modelId", detail: "is required when isNewModel is false" });
      target = { kind: "existing", set: await findModelSet(ctx.res, input.modelId, "modelId") };
    }
    const meta = input.versionMeta;
    const { set, version } = await publishFromRun(ctx.res, ctx.caller, {
      target,
      run: meta.iterationId,
      runField: "versionMeta.iterationId",
      ...(meta.taskId === undefined ? {} : { job: { ref: meta.taskId, field: "versionMeta.taskId" } }),
      ...(meta.step === undefined ? {} : { step: meta.step }),
      stepField: "versionMeta.step",
      ...(meta.description === undefined ? {} : { description: meta.description }),
    });
    // `modelIDStr` with a capital ID, as the platform (and the SDK reading it) spells it.
    return { modelId: set.num, modelIDStr: set.id, version: String(version.version), versionId: version.num, versionIdStr: version.id };
  }),

  v1("/wenxinworkshop/modelrepo/model/user/list", "model:read", async (ctx, body): Promise<V1ModelList> => {
    const input = parseWith(V1ModelUserListBody, body);
    const result = await listModelSetsV1(ctx.res, {
      pageNo: input.pageNo ?? 1,
      pageSize: input.pageSize ?? 20,
      ...(input.nameFilter === undefined ? {} : { nameFilter: input.nameFilter }),
      ...(input.modelType === undefined ? {} : { modelTypes: [...new Set(input.modelType.map((t) => MODEL_TYPE_OF_V1[t]!))] }),
      order: input.order ?? "desc",
    });
    return {
      total: result.total,
      items: result.items.map(({ set, versionCount, latest }) => ({
        modelName: set.name,
        modelId: set.num,
        modelIdStr: set.id,
        modelType: v1ModelType(set),
        tags: set.labels,
        createTime: isoOffset(set.createdAt),
        versionCount,
        trainType: latest?.baseModel ?? "",
        latestVersionInfo: latest === null ? null : {
          state: latest.version.status,
          version: String(latest.version.version),
          sourceType: latest.version.sourceType,
          sourceExtra: v1SourceExtra(latest),
          versionId: latest.version.num,
          versionIdStr: latest.version.id,
        },
      })),
    };
  }),

  v1("/wenxinworkshop/modelrepo/model/preset/list", "model:read", async (_ctx, body): Promise<V1ModelList> => {
    parseWith(V1ModelPresetListBody, body);
    // No platform presets in Sailfin: base models are the user's own imports (model/user/list).
    return { total: 0, items: [] };
  }),

  v1("/wenxinworkshop/modelrepo/model/batchDelete", "model:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1ModelBatchDeleteBody, body);
    const sets: ModelSetRecord[] = [];
    for (const [i, ref] of input.modelIDs.entries()) {
      const set = await findModelSet(ctx.res, ref, `modelIDs[${i}]`);
      if (!sets.some((s) => s.num === set.num)) sets.push(set);
    }
    await deleteModelSets(ctx.res, ctx.caller, sets, "modelIDs");
    return true;
  }),

  v1("/wenxinworkshop/modelrepo/model/version/batchDelete", "model:write", async (ctx, body): Promise<boolean> => {
    const input = parseWith(V1ModelVersionBatchDeleteBody, body);
    const versions: ModelVersionRecord[] = [];
    for (const [i, ref] of input.modelVersionIds.entries()) {
      const version = await findModelVersion(ctx.res, ref, `modelVersionIds[${i}]`);
      if (!versions.some((v) => v.num === version.num)) versions.push(version);
    }
    await deleteModelVersions(ctx.res, ctx.caller, versions, "modelVersionIds");
    return true;
  }),
];
